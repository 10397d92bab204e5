#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Converts the text of a validated JSON number, as the scanner spans it, to a value.
///
/// Numbers stay text until an expression needs them, so a field that is only copied to the
/// output is never converted (and keeps its exact digits).
public enum JSONNumber {
    /// The correctly rounded `Double` nearest to the number `bytes` spells.
    ///
    /// Fast path (Clinger): when the digits fit in 2^53 without loss and the decimal
    /// exponent is within ±22, one IEEE multiplication or division of two exact doubles
    /// gives the correctly rounded result. Anything else goes to the C library's `strtod`
    /// (correctly rounded in glibc) on a NUL-terminated copy in stack memory. `cairn` never
    /// calls `setlocale`, so `strtod` reads `.` as the decimal point.
    ///
    /// Overflow gives ±infinity, underflow ±0 (the `strtod` results).
    ///
    /// - Precondition: `bytes` is a valid JSON number (the scanner checked it).
    /// - Complexity: O(n); no allocation for numbers up to 1023 bytes.
    public static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double {
        let count = bytes.count
        guard let base = bytes.baseAddress, count > 0 else { return .nan }
        if let fast = fastDouble(base.assumingMemoryBound(to: UInt8.self), count) { return fast }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            let text = buffer.baseAddress!
            // SAFETY: `buffer` holds count + 1 bytes: the number and a terminating NUL.
            memcpy(text, base, count)
            text[count] = 0
            return strtod(text, nil)
        }
    }

    /// The Clinger fast path, or nil when it does not apply.
    @inline(__always)
    static func fastDouble(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double? {
        var i = 0
        let negative = p[0] == 0x2D
        if negative { i = 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        while i < count, p[i] &- 0x30 < 10 {
            mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30)
            digits += 1
            i += 1
        }
        if i < count, p[i] == 0x2E {
            i += 1
            while i < count, p[i] &- 0x30 < 10 {
                mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30)
                digits += 1
                exponent -= 1
                i += 1
            }
        }
        if i < count, p[i] | 0x20 == 0x65 {
            i += 1
            var expNegative = false
            if i < count, p[i] == 0x2B || p[i] == 0x2D {
                expNegative = p[i] == 0x2D
                i += 1
            }
            var e = 0
            while i < count, p[i] &- 0x30 < 10 {
                if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        guard i == count, digits <= 19, mantissa <= 1 << 53 else { return nil }
        var value = Double(mantissa)
        if mantissa != 0 {
            guard exponent >= -22 && exponent <= 22 else { return nil }
            if exponent < 0 {
                value /= exactPowerOfTen(-exponent)
            } else if exponent > 0 {
                value *= exactPowerOfTen(exponent)
            }
        }
        return negative ? -value : value
    }

    /// 10^e for 0 <= e <= 22, all exactly representable as doubles.
    @inline(__always)
    static func exactPowerOfTen(_ e: Int) -> Double {
        switch e {
        case 0: return 1
        case 1: return 1e1
        case 2: return 1e2
        case 3: return 1e3
        case 4: return 1e4
        case 5: return 1e5
        case 6: return 1e6
        case 7: return 1e7
        case 8: return 1e8
        case 9: return 1e9
        case 10: return 1e10
        case 11: return 1e11
        case 12: return 1e12
        case 13: return 1e13
        case 14: return 1e14
        case 15: return 1e15
        case 16: return 1e16
        case 17: return 1e17
        case 18: return 1e18
        case 19: return 1e19
        case 20: return 1e20
        case 21: return 1e21
        default: return 1e22
        }
    }

    /// The number as an `Int64`, or nil if it has a fraction or exponent or does not fit.
    ///
    /// `-0` is 0; `-9223372036854775808` fits; `1.0` and `1e2` are nil even though integral,
    /// because the text is not an integer literal.
    ///
    /// - Complexity: O(n), no allocation.
    public static func parseInt64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        guard let base = bytes.baseAddress, count > 0 else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        var i = 0
        let negative = p[0] == 0x2D
        if negative { i = 1 }
        guard i < count else { return nil }
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        var magnitude: UInt64 = 0
        while i < count {
            let digit = p[i] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2, sum <= limit else { return nil }
            magnitude = sum
            i += 1
        }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }
}
