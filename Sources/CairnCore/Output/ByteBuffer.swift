/// A growable run of bytes for text built on the hot path: a profile's values while
/// expressions read them, a moment's records before they are written.
///
/// One allocation that grows by doubling to the largest need and is then reused: an append
/// is a bounds check and a copy, and `reset` only forgets the count. (`[UInt8]` costs a
/// uniqueness check and a generic copy per append, and `removeAll(keepingCapacity:)` a
/// generic replace, which add up to hundreds of instructions per record.)
///
/// Pointers from `bytes`, `bytes(in:)` and `extend(by:)` are valid until the next call that
/// may grow the buffer (an append, `extend`, `reserve`).
public final class ByteBuffer {
    private var base: UnsafeMutableRawPointer
    private var capacity: Int
    public private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(16, capacity)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// The bytes so far.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var isEmpty: Bool { count == 0 }

    /// The bytes in `range`.
    ///
    /// - Precondition: `range` lies within `0 ..< count`.
    @inline(__always)
    func bytes(in range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    func reset() { count = 0 }

    /// Drops the bytes after the first `count`.
    func truncate(to count: Int) { self.count = min(self.count, count) }

    /// Grows the buffer to hold `total` bytes, so that appends up to there never move it.
    func reserve(_ total: Int) {
        guard total > capacity else { return }
        var grown = capacity * 2
        while grown < total { grown *= 2 }
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
        fresh.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = fresh
        capacity = grown
    }

    /// Adds `n` bytes to the end and returns where they start, for the caller to fill.
    @inline(__always)
    func extend(by n: Int) -> UnsafeMutableRawPointer {
        if count &+ n > capacity { reserve(count + n) }
        let at = base + count
        count &+= n
        return at
    }

    /// Appends `bytes`; returns where they start.
    @discardableResult
    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let start = count
        let n = bytes.count
        if n > 0 { extend(by: n).copyMemory(from: bytes.baseAddress!, byteCount: n) }
        return Int32(start)
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        extend(by: 1).storeBytes(of: byte, as: UInt8.self)
    }

    /// Appends a literal's UTF-8 bytes.
    @inline(__always)
    func append(_ text: StaticString) {
        // withUTF8Buffer: a one-scalar literal may be stored as the scalar, not as a pointer.
        text.withUTF8Buffer { _ = append(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = append($0) }
    }
}
