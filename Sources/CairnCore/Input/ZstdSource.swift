import Glibc

/// Decompressed bytes of a zstd stream, decoded ahead on a worker thread.
///
/// The worker (`ZstdWorker`) reads the compressed input in large chunks and decodes into a
/// ring of `slotCount` buffers of `slotCapacity` bytes; `read(into:)` copies out of filled
/// slots and hands them back. Decoding thus overlaps with parsing on the other core, and
/// memory stays constant (`slotCount * slotCapacity` + one compressed read buffer + libzstd's
/// window) whatever the input size.
///
/// Multi-frame files, concatenated `.zst` files and skippable frames decode as one stream.
/// The stream must end at a frame boundary; see `ZstdWorker` for the exact rules and errors.
///
/// The worker thread ends at end of stream, at the first error, or when `close()` cancels it;
/// it is joined when `read(into:)` reaches the end or the error, or in `close()` (also called
/// by deinit). Closing before the end is safe and does not hang: the worker stops at its next
/// slot boundary. (A worker blocked in read(2) on a silent pipe returns when the pipe does.)
public final class ZstdSource: ByteSource {
    public let name: String
    public var isCompressed: Bool { true }
    public let totalBytes: Int64?
    /// Compressed bytes consumed by the worker up to the data returned so far.
    public private(set) var bytesConsumed: Int64 = 0

    /// Number of output buffers in the ring.
    public static let slotCount = 4
    /// Size of each output buffer.
    public static let slotCapacity = 1 << 20

    private let ring: ZstdRing
    private var fd: Int32
    private let ownsDescriptor: Bool
    private var thread: pthread_t?
    private var slot = -1
    private var slotLength = 0
    private var slotPosition = 0
    private var ended = false
    private var failure: InputError?

    /// Starts decoding `fd` on a new thread.
    ///
    /// - Parameters:
    ///   - prefix: bytes already read from `fd` (the sniffed magic); decoded first.
    ///   - readSize: size of each read(2) of compressed bytes.
    ///   - ownsDescriptor: `false` for stdin, which is never closed by us.
    init(fd: Int32, name: String, totalBytes: Int64?, prefix: [UInt8], readSize: Int,
         ownsDescriptor: Bool) throws(InputError) {
        self.fd = fd
        self.name = name
        self.totalBytes = totalBytes
        self.ownsDescriptor = ownsDescriptor
        ring = ZstdRing(slotCount: Self.slotCount, slotCapacity: Self.slotCapacity)
        let worker = try ZstdWorker(ring: ring, fd: fd, name: name, prefix: prefix, readSize: readSize)
        // SAFETY: the retained reference is the thread's only handle on the worker; the thread
        // body takes it back exactly once and releases it when `run()` returns.
        let context = Unmanaged.passRetained(worker).toOpaque()
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let worker = Unmanaged<ZstdWorker>.fromOpaque(raw!).takeRetainedValue()
            worker.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ZstdWorker>.fromOpaque(context).release()
            throw InputError(kind: .read, source: name,
                             message: "cannot start the zstd thread: \(SystemIO.message(for: rc))")
        }
        thread = handle
    }

    deinit { close() }

    /// Copies decompressed bytes out of the ring, waiting for the worker only when nothing
    /// has been copied yet.
    ///
    /// - Complexity: O(bytes returned), one lock round-trip per slot; no allocation.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if let failure { throw failure }
        guard !ended, buffer.count > 0 else { return 0 }
        var written = 0
        while written < buffer.count {
            if slot < 0 {
                guard let next = ring.next(wait: written == 0) else { break }
                switch next {
                case let .slot(index, length, consumed):
                    slot = index
                    slotLength = length
                    slotPosition = 0
                    bytesConsumed = consumed
                case let .end(consumed):
                    bytesConsumed = consumed
                    ended = true
                    join()
                    return written
                case let .failed(error):
                    failure = error
                    join()
                    if written > 0 { return written }
                    throw error
                }
            }
            let n = min(buffer.count - written, slotLength - slotPosition)
            // SAFETY: the slot belongs to the consumer until `release()` (ring invariant),
            // and n fits both the slot's filled bytes and the caller's buffer.
            (buffer.baseAddress! + written).copyMemory(from: ring.slots[slot] + slotPosition, byteCount: n)
            written += n
            slotPosition += n
            if slotPosition == slotLength {
                ring.release()
                slot = -1
            }
        }
        return written
    }

    public func close() {
        if thread != nil {
            ring.cancel()
            join()
        }
        if fd >= 0 && ownsDescriptor { _ = Glibc.close(fd) }
        fd = -1
        ended = true
    }

    private func join() {
        guard let handle = thread else { return }
        pthread_join(handle, nil)
        thread = nil
    }
}
