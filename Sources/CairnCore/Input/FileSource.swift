import Glibc

/// Plain (uncompressed) bytes from a file descriptor: a regular file, a pipe, or stdin.
///
/// Reads go straight into the caller's buffer, so a plain file costs one read(2) per chunk
/// and no copy. The bytes that `InputOpener` read to sniff the format come first.
///
/// - Complexity: `read(into:)` is one system call per call; no allocation.
public final class FileSource: ByteSource {
    public let name: String
    public var isCompressed: Bool { false }
    public let totalBytes: Int64?
    public private(set) var bytesConsumed: Int64 = 0

    private var fd: Int32
    private let ownsDescriptor: Bool
    private var prefix: [UInt8]
    private var prefixPosition = 0
    private var failure: InputError?

    /// Wraps an open descriptor.
    ///
    /// - Parameters:
    ///   - prefix: bytes already read from `fd` (the format sniff); returned first.
    ///   - ownsDescriptor: `false` for stdin, which is never closed by us.
    init(fd: Int32, name: String, totalBytes: Int64?, prefix: [UInt8], ownsDescriptor: Bool) {
        self.fd = fd
        self.name = name
        self.totalBytes = totalBytes
        self.prefix = prefix
        self.ownsDescriptor = ownsDescriptor
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if let failure { throw failure }
        guard buffer.count > 0, fd >= 0 else { return 0 }
        if prefixPosition < prefix.count {
            let n = min(buffer.count, prefix.count - prefixPosition)
            prefix.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + prefixPosition, byteCount: n)
            }
            prefixPosition += n
            bytesConsumed += Int64(n)
            return n
        }
        let n = SystemIO.read(fd, buffer.baseAddress!, buffer.count)
        if n < 0 {
            let error = InputError(kind: .read, source: name, offset: bytesConsumed,
                                   message: SystemIO.message(for: errno))
            failure = error
            throw error
        }
        bytesConsumed += Int64(n)
        return n
    }

    public func waitReadable(milliseconds: Int32) -> Bool {
        guard fd >= 0, prefixPosition >= prefix.count, totalBytes == nil else { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        // An error or a hang-up is "readable": read(2) reports it.
        return poll(&entry, 1, milliseconds) != 0
    }

    public func close() {
        if fd >= 0 && ownsDescriptor { _ = Glibc.close(fd) }
        fd = -1
    }
}
