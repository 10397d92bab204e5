#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why writing output failed.
public enum OutputError: Error, Equatable, Sendable {
    /// The reader went away (`| head`): not an error for the user, the run ends quietly.
    case brokenPipe
    /// Any other write error, with its errno text.
    case writeFailed(String)
}

/// A buffered writer of NDJSON records to a file descriptor.
///
/// Records are appended into a 1 MiB buffer and written with large `write(2)` calls; when the
/// descriptor is a terminal (`flushEachRecord`) each record is written as it ends, so a human
/// watching sees decisions as they happen. The caller owns the descriptor.
///
/// - Complexity: appending is O(record length) and does not allocate; a record longer than the
///   buffer grows it once.
public final class OutputSink {
    public let fd: Int32
    public let flushEachRecord: Bool
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var count = 0
    private let threshold: Int
    /// Bytes handed to `write(2)` so far.
    public private(set) var bytesWritten: Int64 = 0

    public init(fd: Int32, flushEachRecord: Bool, capacity: Int = 1 << 20) {
        self.fd = fd
        self.flushEachRecord = flushEachRecord
        self.capacity = capacity
        self.threshold = capacity - (capacity >> 3)
        self.buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Space for at least `n` more bytes; write there, then `commit` what was written.
    @inline(__always)
    public func reserve(_ n: Int) throws(OutputError) -> UnsafeMutableRawPointer {
        if count + n > capacity { try makeRoom(n) }
        return buffer + count
    }

    @inline(__always)
    public func commit(_ n: Int) { count += n }

    @inline(__always)
    public func append(_ bytes: UnsafeRawBufferPointer) throws(OutputError) {
        let n = bytes.count
        let at = try reserve(n)
        if n > 0 { at.copyMemory(from: bytes.baseAddress!, byteCount: n) }
        count += n
    }

    public func append(_ bytes: [UInt8]) throws(OutputError) {
        let n = bytes.count
        let at = try reserve(n)
        bytes.withUnsafeBytes { at.copyMemory(from: $0.baseAddress!, byteCount: n) }
        count += n
    }

    /// Marks the end of a record: writes now on a terminal, or when the buffer is nearly full.
    @inline(__always)
    public func endRecord() throws(OutputError) {
        if flushEachRecord || count >= threshold { try flush() }
    }

    /// Writes everything buffered.
    public func flush() throws(OutputError) {
        var done = 0
        while done < count {
            let n = write(fd, buffer + done, count - done)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN { waitWritable(); continue }
                // Keep what could not be written out of the buffer so a later flush does not retry it.
                count = 0
                if e == EPIPE { throw .brokenPipe }
                throw .writeFailed(SystemIO.message(for: e))
            }
            done += n
            bytesWritten += Int64(n)
        }
        count = 0
    }

    private func makeRoom(_ n: Int) throws(OutputError) {
        try flush()
        if n > capacity {
            // SAFETY: the buffer is empty after flush, so nothing needs to be copied.
            buffer.deallocate()
            capacity = n
            buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
    }

    /// A non-blocking descriptor (inherited from a parent) said EAGAIN: wait until it drains.
    private func waitWritable() {
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&p, 1, -1)
    }
}
