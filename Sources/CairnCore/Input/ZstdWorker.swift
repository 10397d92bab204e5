import CZstd
import Glibc

/// The decoding half of `ZstdSource`: runs on its own thread, reads compressed bytes in large
/// chunks and decompresses them into the slots of a `ZstdRing`.
///
/// Running on a second thread lets decompression (the expensive part, about 1.2 GB/s)
/// overlap with parsing on the other core.
///
/// End-of-stream rule: the input may end only where `ZSTD_decompressStream` last returned 0
/// (a frame, or a skippable frame, completely decoded and flushed). Ending anywhere else is
/// `.corrupt` "truncated zstd frame" at the compressed size. Frames may follow one another
/// (multi-frame files, concatenated `.zst` files, skippable frames); bytes after the last
/// frame that do not start a frame are libzstd's "unknown frame descriptor" error.
///
/// Window limit: libzstd's default (windowLog 27, 128 MiB). A frame needing a larger window
/// is a clean `.corrupt` error, never a large allocation.
///
/// SAFETY: `@unchecked Sendable` because after `start` hands the object to the worker thread,
/// only that thread touches it (the consumer keeps no reference); the ring it shares is
/// itself synchronised. The descriptor stays open until the consumer has joined the thread.
final class ZstdWorker: @unchecked Sendable {
    private let ring: ZstdRing
    private let fd: Int32
    private let name: String
    private let dctx: OpaquePointer
    private let input: UnsafeMutableRawPointer
    private let inputCapacity: Int
    private var inputLength = 0
    private var inputPosition = 0
    /// Compressed bytes before `input[0]`.
    private var consumedBeforeInput: Int64 = 0
    /// Decompressed bytes published so far.
    private var decoded: Int64 = 0
    private var atEndOfFile = false

    /// libzstd's default maximum window (1 << ZSTD_WINDOWLOG_LIMIT_DEFAULT) in MiB, for messages.
    static let windowLimitMiB = (1 << 27) >> 20

    /// Creates the decoder; `prefix` (the sniffed magic) is decoded before anything read from `fd`.
    init(ring: ZstdRing, fd: Int32, name: String, prefix: [UInt8], readSize: Int) throws(InputError) {
        guard let dctx = ZSTD_createDCtx() else {
            throw InputError(kind: .read, source: name, message: "cannot allocate a zstd decoder")
        }
        self.ring = ring
        self.fd = fd
        self.name = name
        self.dctx = dctx
        inputCapacity = max(readSize, prefix.count + 4)
        input = .allocate(byteCount: inputCapacity, alignment: 64)
        prefix.withUnsafeBytes { input.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        inputLength = prefix.count
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        input.deallocate()
    }

    /// The thread body: fills slots until the end, an error, or cancellation.
    func run() {
        var lastResult = 1  // nonzero: no frame completed yet
        // Top up the sniffed magic with the first chunk, so libzstd sees them together: it
        // decodes a frame that is wholly in its input in one pass, and for a few malformed
        // inputs that path and the block-by-block path disagree (e.g. klauspost's 2274d31e…
        // is accepted whole, rejected split, by Debian's libzstd 1.5.4 before its deb12u1
        // update). Reading the first chunk whole matches the CLI.
        let first = SystemIO.read(fd, input + inputLength, inputCapacity - inputLength)
        if first < 0 {
            ring.finish(failure: InputError(kind: .read, source: name, offset: 0,
                                            message: SystemIO.message(for: errno)),
                        compressedConsumed: 0)
            return
        }
        inputLength += first
        atEndOfFile = first == 0
        while let slot = ring.acquireEmptySlot() {
            var output = ZSTD_outBuffer(dst: ring.slots[slot], size: ring.slotCapacity, pos: 0)
            var failure: InputError?
            var done = false
            while output.pos < output.size {
                if inputPosition == inputLength && !atEndOfFile {
                    if ring.isCancelled { return }
                    let n = SystemIO.read(fd, input, inputCapacity)
                    if n < 0 {
                        failure = InputError(kind: .read, source: name, offset: decoded + Int64(output.pos),
                                             message: SystemIO.message(for: errno))
                        break
                    }
                    consumedBeforeInput += Int64(inputLength)
                    inputLength = n
                    inputPosition = 0
                    atEndOfFile = n == 0
                    continue
                }
                if inputPosition == inputLength {
                    // End of file: fine only at a frame boundary; else flush what libzstd holds.
                    if lastResult == 0 { done = true; break }
                    let before = output.pos
                    var empty = ZSTD_inBuffer(src: input, size: 0, pos: 0)
                    let result = ZSTD_decompressStream(dctx, &output, &empty)
                    if ZSTD_isError(result) != 0 { failure = corrupt(result); break }
                    lastResult = result
                    if result == 0 { done = true; break }
                    if output.pos == before {
                        failure = InputError(kind: .corrupt, source: name, offset: compressedConsumed,
                                             message: "truncated zstd frame")
                        break
                    }
                    continue
                }
                var inBuffer = ZSTD_inBuffer(src: input, size: inputLength, pos: inputPosition)
                let result = ZSTD_decompressStream(dctx, &output, &inBuffer)
                inputPosition = inBuffer.pos
                if ZSTD_isError(result) != 0 { failure = corrupt(result); break }
                lastResult = result
            }
            decoded += Int64(output.pos)
            ring.publish(length: output.pos, compressedConsumed: compressedConsumed)
            if failure != nil || done {
                ring.finish(failure: failure, compressedConsumed: compressedConsumed)
                return
            }
        }
    }

    private var compressedConsumed: Int64 { consumedBeforeInput + Int64(inputPosition) }

    /// The window size declared by a frame header starting at the unconsumed input, if one is
    /// wholly there (RFC 8878 §3.1.1.1): the Window_Descriptor, or for a single-segment
    /// frame the Frame_Content_Size. Only for the window error message.
    private func windowSizeAtInput() -> UInt64? {
        let available = inputLength - inputPosition
        guard available >= 6 else { return nil }
        let p = input + inputPosition
        func byte(_ i: Int) -> UInt64 { UInt64(p.load(fromByteOffset: i, as: UInt8.self)) }
        guard byte(0) == 0x28 && byte(1) == 0xB5 && byte(2) == 0x2F && byte(3) == 0xFD else { return nil }
        let descriptor = byte(4)
        if descriptor & 0x20 == 0 {
            let base = UInt64(1) << (10 + (byte(5) >> 3))
            return base + base / 8 * (byte(5) & 7)
        }
        let dictionaryIDSize = [0, 1, 2, 4][Int(descriptor & 3)]
        let contentSizeSize = [1, 2, 4, 8][Int(descriptor >> 6)]
        let start = 5 + dictionaryIDSize
        guard available >= start + contentSizeSize else { return nil }
        var size: UInt64 = 0
        for i in (0..<contentSizeSize).reversed() { size = size << 8 | byte(start + i) }
        return contentSizeSize == 2 ? size + 256 : size
    }

    /// "256 MiB", "2 GiB", "over 3 GiB": binary units, rounded down.
    static func formatSize(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30 { return bytes % (1 << 30) == 0 ? "\(bytes >> 30) GiB" : "over \(bytes >> 30) GiB" }
        if bytes >= 1 << 20 { return bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "over \(bytes >> 20) MiB" }
        return "\(bytes >> 10) KiB"
    }

    /// A `.corrupt` error from a libzstd result code, at the current compressed offset.
    private func corrupt(_ code: Int) -> InputError {
        var text = String(cString: ZSTD_getErrorName(code)).lowercased()
        while text.hasSuffix(".") { text.removeLast() }
        var message = "zstd: " + text
        if ZSTD_getErrorCode(code) == ZSTD_error_frameParameter_windowTooLarge {
            if let window = windowSizeAtInput() {
                message += " (window \(Self.formatSize(window)), limit \(Self.windowLimitMiB) MiB)"
            } else {
                message += " (window over the \(Self.windowLimitMiB) MiB limit)"
            }
        }
        return InputError(kind: .corrupt, source: name, offset: compressedConsumed, message: message)
    }
}
