/// A stream of bytes from one input: a plain file, a pipe, or a decompressed zstd stream.
///
/// The framer pulls large chunks through this protocol, so the existential call happens once
/// per chunk (about a megabyte), never per line.
///
/// A source is a reference type used from one thread, the consumer's. Errors are sticky:
/// once `read(into:)` has thrown, later calls throw the same error again.
public protocol ByteSource: AnyObject {
    /// `<stdin>` or the path as given.
    var name: String { get }
    /// Whether the bytes are decompressed from a zstd stream.
    var isCompressed: Bool { get }
    /// Size of the underlying file (the compressed size for zstd); `nil` for pipes and stdin.
    var totalBytes: Int64? { get }
    /// Bytes of the underlying file consumed so far; compare with `totalBytes` for progress.
    var bytesConsumed: Int64 { get }
    /// Reads up to `buffer.count` (decompressed) bytes into `buffer`; returns 0 at the end.
    ///
    /// May return fewer bytes than asked for without being at the end. Throws only after
    /// every byte before the error has been returned by earlier calls.
    /// - Complexity: O(bytes returned); no allocation.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int
    /// Releases the file descriptor (never fd 0) and any worker thread. Idempotent.
    /// Waits up to `milliseconds` (-1: without limit) for bytes to read, or the end; false
    /// when none came in time. Sources that never wait on a producer answer true at once.
    func waitReadable(milliseconds: Int32) -> Bool
    func close()
}

extension ByteSource {
    public func waitReadable(milliseconds: Int32) -> Bool { true }
}
