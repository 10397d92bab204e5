#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Decoding, comparing and encoding JSON string contents without allocating.
///
/// The scanner leaves strings as spans of the line (between the quotes, escapes intact);
/// these functions let expressions and outputs work on such spans directly. Inputs named
/// `span` are contents the scanner validated: on other bytes the results are unspecified
/// but memory safe (a malformed escape is copied through, a lone surrogate becomes U+FFFD).
public enum JSONString {
    /// Decodes the escapes of `span` and writes the UTF-8 result into `out`.
    ///
    /// A surrogate pair `\uD83D\uDE00` becomes one 4-byte UTF-8 sequence.
    ///
    /// - Returns: the number of bytes written, or nil if `out` is too small (the decoded
    ///   form is never longer than `span`, so `span.count` bytes always suffice).
    /// - Complexity: O(n); plain runs are copied with `memcpy`; no allocation.
    public static func unescape(_ span: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let source = span.baseAddress, span.count > 0 else { return 0 }
        guard let target = out.baseAddress else { return nil }
        let count = span.count
        let capacity = out.count
        var i = 0
        var written = 0
        while i < count {
            // Copy the plain run up to the next backslash.
            let run: Int
            if let hit = memchr(source + i, 0x5C, count - i) {
                run = UnsafeRawPointer(hit) - (source + i)
            } else {
                run = count - i
            }
            if run > 0 {
                guard capacity - written >= run else { return nil }
                memcpy(target + written, source + i, run)
                written += run
                i += run
            }
            if i >= count { break }
            let (scalar, length) = decodeEscape(source, i, count)
            i += length
            let bytes = utf8Bytes(scalar)
            guard capacity - written >= bytes.count else { return nil }
            var packed = bytes.packed
            for _ in 0..<bytes.count {
                target.storeBytes(of: UInt8(truncatingIfNeeded: packed), toByteOffset: written, as: UInt8.self)
                packed >>= 8
                written += 1
            }
        }
        return written
    }

    /// Whether the decoded contents of `span` equal the UTF-8 bytes `other`.
    ///
    /// - Parameter hasEscapes: whether `span` contains a backslash (`ScannedValue.hasEscapes`);
    ///   when false the comparison is a plain byte comparison.
    /// - Complexity: O(n), no allocation.
    public static func decodedEquals(
        _ span: UnsafeRawBufferPointer, hasEscapes: Bool, _ other: UnsafeRawBufferPointer
    ) -> Bool {
        if !hasEscapes {
            guard span.count == other.count else { return false }
            guard span.count > 0 else { return true }
            return memcmp(span.baseAddress!, other.baseAddress!, span.count) == 0
        }
        // Decoding never lengthens a string.
        guard other.count <= span.count else { return false }
        return decodedCompare(span, hasEscapes: true, other) == 0
    }

    /// Three-way comparison of the decoded contents of `span` with the UTF-8 bytes `other`.
    ///
    /// Bytewise comparison of UTF-8 orders by code point; a proper prefix sorts first.
    ///
    /// - Returns: -1, 0 or 1.
    /// - Complexity: O(n), no allocation.
    public static func decodedCompare(
        _ span: UnsafeRawBufferPointer, hasEscapes: Bool, _ other: UnsafeRawBufferPointer
    ) -> Int {
        if !hasEscapes {
            let common = min(span.count, other.count)
            if common > 0 {
                let order = memcmp(span.baseAddress!, other.baseAddress!, common)
                if order != 0 { return order < 0 ? -1 : 1 }
            }
            return span.count == other.count ? 0 : (span.count < other.count ? -1 : 1)
        }
        var decoded = DecodedBytes(span)
        var j = 0
        while true {
            let a = decoded.next()
            guard j < other.count else { return a == nil ? 0 : 1 }
            guard let a else { return -1 }
            let b = other[j]
            if a != b { return a < b ? -1 : 1 }
            j += 1
        }
    }

    /// Writes `bytes` as JSON string contents (without quotes) into `out`.
    ///
    /// Escapes `"` and `\`, writes `\n \r \t \b \f` for those control characters and
    /// `\u00XX` (lowercase hex) for the other bytes below 0x20. Everything else, including
    /// `/`, DEL and non-ASCII UTF-8, is copied as is.
    ///
    /// - Returns: the number of bytes written, or nil if `out` is too small (6 times
    ///   `bytes.count` always suffices).
    /// - Complexity: O(n), no allocation.
    public static func escape(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return 0 }
        guard let target = out.baseAddress else { return nil }
        let input = source.assumingMemoryBound(to: UInt8.self)
        let output = target.assumingMemoryBound(to: UInt8.self)
        let capacity = out.count
        var written = 0
        for i in 0..<bytes.count {
            let c = input[i]
            if c >= 0x20 && c != 0x22 && c != 0x5C {
                guard written < capacity else { return nil }
                output[written] = c
                written += 1
                continue
            }
            let short: UInt8
            switch c {
            case 0x22: short = 0x22
            case 0x5C: short = 0x5C
            case 0x0A: short = 0x6E  // n
            case 0x0D: short = 0x72  // r
            case 0x09: short = 0x74  // t
            case 0x08: short = 0x62  // b
            case 0x0C: short = 0x66  // f
            default: short = 0
            }
            if short != 0 {
                guard capacity - written >= 2 else { return nil }
                output[written] = 0x5C
                output[written + 1] = short
                written += 2
            } else {
                guard capacity - written >= 6 else { return nil }
                output[written] = 0x5C
                output[written + 1] = 0x75  // u
                output[written + 2] = 0x30
                output[written + 3] = 0x30
                output[written + 4] = hexDigit(c >> 4)
                output[written + 5] = hexDigit(c & 0xF)
                written += 6
            }
        }
        return written
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x61 + nibble - 10
    }

    /// Decodes the escape at `source[i]` (a backslash): the scalar and the escape's length.
    static func decodeEscape(_ source: UnsafeRawPointer, _ i: Int, _ count: Int) -> (UInt32, Int) {
        @inline(__always) func byte(_ k: Int) -> UInt8 { source.load(fromByteOffset: k, as: UInt8.self) }
        guard i + 1 < count else { return (0x5C, 1) }
        let e = byte(i + 1)
        switch e {
        case 0x62: return (0x08, 2)
        case 0x66: return (0x0C, 2)
        case 0x6E: return (0x0A, 2)
        case 0x72: return (0x0D, 2)
        case 0x74: return (0x09, 2)
        case 0x75:
            guard i + 6 <= count, let unit = hex4(source + i + 2) else { return (0x75, 2) }
            if unit >= 0xD800 && unit <= 0xDBFF {
                if i + 12 <= count, byte(i + 6) == 0x5C, byte(i + 7) == 0x75,
                    let low = hex4(source + i + 8), low >= 0xDC00 && low <= 0xDFFF
                {
                    return (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12)
                }
                return (0xFFFD, 6)
            }
            if unit >= 0xDC00 && unit <= 0xDFFF { return (0xFFFD, 6) }
            return (unit, 6)
        default:
            return (UInt32(e), 2)  // \" \\ \/ and, on unvalidated input, anything else
        }
    }

    @inline(__always)
    static func hex4(_ p: UnsafeRawPointer) -> UInt32? {
        JSONScanner.hex4(p.assumingMemoryBound(to: UInt8.self))
    }

    /// The UTF-8 encoding of `scalar`, packed little end first, and its length.
    @inline(__always)
    static func utf8Bytes(_ scalar: UInt32) -> (packed: UInt32, count: Int) {
        switch scalar {
        case 0..<0x80:
            return (scalar, 1)
        case 0x80..<0x800:
            return ((0xC0 | scalar >> 6) | (0x80 | scalar & 0x3F) << 8, 2)
        case 0x800..<0x10000:
            return ((0xE0 | scalar >> 12) | (0x80 | scalar >> 6 & 0x3F) << 8
                | (0x80 | scalar & 0x3F) << 16, 3)
        default:
            return ((0xF0 | scalar >> 18) | (0x80 | scalar >> 12 & 0x3F) << 8
                | (0x80 | scalar >> 6 & 0x3F) << 16 | (0x80 | scalar & 0x3F) << 24, 4)
        }
    }

    /// The decoded bytes of a string span, one at a time, without a buffer.
    struct DecodedBytes {
        let source: UnsafeRawPointer?
        let count: Int
        var index = 0
        var pending: UInt32 = 0
        var pendingCount = 0

        init(_ span: UnsafeRawBufferPointer) {
            source = span.baseAddress
            count = span.count
        }

        @inline(__always)
        mutating func next() -> UInt8? {
            if pendingCount > 0 {
                let b = UInt8(truncatingIfNeeded: pending)
                pending >>= 8
                pendingCount -= 1
                return b
            }
            guard index < count, let source else { return nil }
            let c = source.load(fromByteOffset: index, as: UInt8.self)
            if c != 0x5C {
                index += 1
                return c
            }
            let (scalar, length) = JSONString.decodeEscape(source, index, count)
            index += length
            let bytes = JSONString.utf8Bytes(scalar)
            pending = bytes.packed >> 8
            pendingCount = bytes.count - 1
            return UInt8(truncatingIfNeeded: bytes.packed)
        }
    }
}
