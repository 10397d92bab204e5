import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Output buffer for generated NDJSON: bytes are appended to one 1 MiB allocation and
/// handed to `write(2)` in large chunks.
///
/// The generator writes a line field by field from precomputed byte fragments; nothing on
/// this path builds a `String`.
///
///     | flushed | ... line bytes ... | free (≥ slack) |
///     0                              count       capacity
///
/// Invariant: after ``endLine()`` `count < flushThreshold`, so the next line has at least
/// `slack` bytes of room; a line longer than `slack` traps (lines here stay under 2 KiB).
///
/// - Precondition: one owner; the type is non-copyable so the buffer is freed exactly once.
struct EventWriter: ~Copyable {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private let flushThreshold: Int
    private var count = 0
    private let fd: Int32
    private let closeOnDeinit: Bool
    /// The day whose `YYYY-MM-DDT` prefix is cached in `dayPrefix`.
    private var cachedDay = Int64.min
    private var dayPrefix: [UInt8] = []

    /// Bytes written to the file descriptor so far (flushed bytes only).
    private(set) var bytesWritten: Int64 = 0

    /// A writer to an open file descriptor.
    ///
    /// - Parameter closeOnDeinit: close `fd` when the writer goes away (files opened by
    ///   ``init(path:)``), not for standard output.
    init(fd: Int32, closeOnDeinit: Bool = false, bufferSize: Int = 1 << 20, slack: Int = 16 << 10) {
        self.fd = fd
        self.closeOnDeinit = closeOnDeinit
        capacity = bufferSize + slack
        flushThreshold = bufferSize
        base = .allocate(capacity: capacity)
    }

    /// A writer that creates or truncates the file at `path`.
    init(path: String) throws(WriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, errno: errno) }
        self.init(fd: fd, closeOnDeinit: true)
    }

    deinit {
        base.deallocate()
        if closeOnDeinit { _ = close(fd) }
    }

    // MARK: Appending

    /// Appends static ASCII/UTF-8 text.
    ///
    /// - Complexity: O(n), no allocation.
    @inline(__always)
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    /// Appends a precomputed fragment.
    @inline(__always)
    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        let n = bytes.count
        precondition(count + n <= capacity, "line longer than the writer's slack")
        // SAFETY: the precondition keeps the copy inside the allocation; `bytes` never
        // aliases the buffer (fragments live in their own arrays).
        (base + count).update(from: bytes.baseAddress!, count: n)
        count += n
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        precondition(count < capacity, "line longer than the writer's slack")
        base[count] = byte
        count += 1
    }

    /// Appends a non-negative integer in decimal.
    mutating func append(decimal value: Int64) {
        var v = UInt64(value)
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes ≥ 20 digits
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { raw in
            repeat {
                raw[23 - n] = UInt8(truncatingIfNeeded: 0x30 &+ v % 10)
                v /= 10
                n += 1
            } while v != 0
            append(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[(24 - n)...]))
        }
    }

    /// Appends `value` in decimal, left-padded with zeros to at least `width` digits.
    mutating func append(decimal value: Int64, width: Int) {
        var digits = 1
        var v = value
        while v >= 10 { v /= 10; digits += 1 }
        for _ in digits..<max(digits, width) { append(byte: 0x30) }
        append(decimal: value)
    }

    /// Appends an amount of cents as a JSON number with exactly two decimals: 8990 → `89.90`.
    mutating func append(cents: Int64) {
        append(decimal: cents / 100)
        append(byte: 0x2E)
        append(twoDigits: Int(cents % 100))
    }

    /// Appends 32 bits as 8 lowercase hex digits.
    mutating func append(hex32 value: UInt32) {
        precondition(count + 8 <= capacity, "line longer than the writer's slack")
        var shift: UInt32 = 28
        for k in 0..<8 {
            let nibble = UInt8(truncatingIfNeeded: (value >> shift) & 0xF)
            base[count + k] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            shift &-= 4
        }
        count += 8
    }

    @inline(__always)
    private mutating func append(twoDigits v: Int) {
        append(byte: UInt8(truncatingIfNeeded: 0x30 + v / 10))
        append(byte: UInt8(truncatingIfNeeded: 0x30 + v % 10))
    }

    /// Appends an RFC 3339 UTC timestamp with milliseconds, `2024-03-01T11:32:00.123Z`,
    /// for `ms` milliseconds since the Unix epoch (0001-01-01 ... 9999-12-31).
    ///
    /// - Complexity: O(1); the date part is recomputed only when the day changes.
    mutating func append(timestampMs ms: Int64) {
        let msPerDay: Int64 = 86_400_000
        var day = ms / msPerDay
        var rem = ms % msPerDay
        if rem < 0 { rem += msPerDay; day -= 1 }
        if day != cachedDay {
            cachedDay = day
            let (y, m, d) = EventTime.civilFromDays(Int(day))
            dayPrefix = Array("\(pad4(y))-\(pad2(m))-\(pad2(d))T".utf8)
        }
        let prefix = dayPrefix
        append(prefix)
        let millis = Int(rem % 1000)
        let secs = Int(rem / 1000)
        append(twoDigits: secs / 3600)
        append(byte: 0x3A)
        append(twoDigits: secs / 60 % 60)
        append(byte: 0x3A)
        append(twoDigits: secs % 60)
        append(byte: 0x2E)
        append(byte: UInt8(truncatingIfNeeded: 0x30 + millis / 100))
        append(twoDigits: millis % 100)
        append(byte: 0x5A)
    }

    private func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
    private func pad4(_ v: Int) -> String {
        let s = "\(v)"
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    // MARK: Flushing

    /// Ends a line; flushes when the buffer is past its threshold.
    @inline(__always)
    mutating func endLine() throws(WriteError) {
        append(byte: 0x0A)
        if count >= flushThreshold { try flush() }
    }

    /// Writes every buffered byte, retrying short writes and `EINTR`.
    mutating func flush() throws(WriteError) {
        var offset = 0
        while offset < count {
            let n = write(fd, base + offset, count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(path: nil, errno: errno)
            }
            offset += n
        }
        bytesWritten += Int64(count)
        count = 0
    }
}

/// A failed `open(2)` or `write(2)`.
struct WriteError: Error, CustomStringConvertible {
    var path: String?
    var errno: Int32

    var description: String {
        let reason = String(cString: strerror(errno))
        if let path { return "cannot write '\(path)': \(reason)" }
        return "write failed: \(reason)"
    }
}
