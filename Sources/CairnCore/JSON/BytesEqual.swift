/// Whether `count` bytes at `a` and `b` are equal, compared eight at a time in line.
///
/// The hot path compares short byte strings (customer keys, event types, JSON keys) where a
/// call to `memcmp` costs more than the comparison.
///
/// - Precondition: `count` bytes are readable at each of `a` and `b`.
@inline(__always)
func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
    var i = 0
    while count &- i >= 8 {
        // SAFETY: both ranges hold `count` readable bytes; unaligned loads.
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i &+= 8
    }
    if count &- i >= 4 {
        if a.loadUnaligned(fromByteOffset: i, as: UInt32.self) != b.loadUnaligned(fromByteOffset: i, as: UInt32.self) {
            return false
        }
        i &+= 4
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i &+= 1
    }
    return true
}
