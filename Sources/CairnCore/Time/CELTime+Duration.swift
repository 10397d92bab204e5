/// Durations as text: CEL's `duration(string)` and `string(duration)`.
extension CELTime {
    /// Parses a CEL duration string (`"1h30m"`, `"-1.5h"`, `"300ms"`, `"0"`) to nanoseconds;
    /// nil if invalid or out of the Int64-nanosecond range.
    ///
    /// The syntax is Go's `time.ParseDuration`, which CEL's `duration()` uses: an optional
    /// sign (`+` or `-`, once, in front), then one or more components, each a decimal number
    /// (digits, with an optional `.` and fraction; at least one digit in all) followed by a
    /// unit: `h`, `m`, `s`, `ms`, `us` (or `µs`, `μs`), `ns`. A bare `0` (also `+0`, `-0`) needs
    /// no unit. Units are case-sensitive; no spaces. Invalid: `""`, `"-"`, `"1"`, `"1.5.5s"`,
    /// `".s"`, `"1d"`, `"1 s"`.
    ///
    /// Arithmetic is exact on integers: `"0.1s"` is 100000000 ns and `"1.0000000019s"` is
    /// 1000000001 ns (a fraction finer than a nanosecond is truncated toward zero). Go
    /// computes fractions through a `Double` and may differ by 1 ns for long fractions.
    public static func parseDuration(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseDuration(UnsafeRawBufferPointer($0)) }
    }

    /// `parseDuration(_:)` over UTF-8 bytes.
    ///
    /// - Complexity: O(n), no allocation.
    public static func parseDuration(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        var i = 0
        var negative = false
        if i < n, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        if n - i == 1, bytes[i] == UInt8(ascii: "0") { return 0 }
        guard i < n else { return nil }
        @inline(__always) func isDigit(_ k: Int) -> Bool { bytes[k] &- 0x30 < 10 }
        // Sum of the magnitudes; at most 2^63 (the magnitude of Int64.min).
        var total: UInt64 = 0
        let limit = UInt64(1) << 63
        while i < n {
            // Integer part.
            let integerStart = i
            var whole: UInt64 = 0
            var wholeOverflow = false
            while i < n, isDigit(i) {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(bytes[i] &- 0x30))
                if o1 || o2 { wholeOverflow = true }
                whole = s
                i += 1
            }
            var digits = i - integerStart
            // Fraction.
            var fractionStart = i
            var fractionEnd = i
            if i < n, bytes[i] == UInt8(ascii: ".") {
                i += 1
                fractionStart = i
                while i < n, isDigit(i) { i += 1 }
                fractionEnd = i
                digits += fractionEnd - fractionStart
            }
            guard digits > 0 else { return nil }  // ".s", "-.s", "s"
            // Unit: the longest run up to the next digit or '.'.
            let unitStart = i
            while i < n, !isDigit(i), bytes[i] != UInt8(ascii: ".") { i += 1 }
            guard let unit = unitNanoseconds(bytes, unitStart, i) else { return nil }  // missing or unknown
            guard !wholeOverflow else { return nil }
            let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit)
            guard !overflow, scaled <= limit else { return nil }
            // floor(unit × 0.fraction), exactly: long multiplication from the last digit,
            // keeping only the carry, which stays below `unit`.
            var carry: UInt64 = 0
            var k = fractionEnd
            while k > fractionStart {
                k -= 1
                carry = (UInt64(bytes[k] &- 0x30) * unit + carry) / 10
            }
            let component = scaled + carry
            guard component <= limit else { return nil }
            total += component
            guard total <= limit else { return nil }
        }
        if negative { return Int64(truncatingIfNeeded: 0 &- total) }
        guard total < limit else { return nil }
        return Int64(total)
    }

    /// Nanoseconds per `bytes[start..<end]` as a duration unit, nil if it is none.
    private static func unitNanoseconds(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> UInt64? {
        switch end - start {
        case 1:
            switch b[start] {
            case UInt8(ascii: "h"): return 3_600_000_000_000
            case UInt8(ascii: "m"): return 60_000_000_000
            case UInt8(ascii: "s"): return 1_000_000_000
            default: return nil
            }
        case 2:
            guard b[start + 1] == UInt8(ascii: "s") else { return nil }
            switch b[start] {
            case UInt8(ascii: "m"): return 1_000_000
            case UInt8(ascii: "u"): return 1000
            case UInt8(ascii: "n"): return 1
            default: return nil
            }
        case 3:
            // µ is U+00B5 (C2 B5) or U+03BC (CE BC), as Go accepts both.
            guard b[start + 2] == UInt8(ascii: "s") else { return nil }
            let isMicro = (b[start] == 0xC2 && b[start + 1] == 0xB5) || (b[start] == 0xCE && b[start + 1] == 0xBC)
            return isMicro ? 1000 : nil
        default:
            return nil
        }
    }

    /// The canonical CEL text of a duration: seconds, with the fraction only when not zero and
    /// without trailing zeros, and an `s` suffix (`"5400s"`, `"1.5s"`, `"-0.000000001s"`,
    /// `"0s"`), as cel-go's `string(duration)`. cel-go goes through a `Double` and rounds
    /// durations longer than about 104 days that have nanoseconds; this text is exact.
    public static func formatDuration(_ ns: Int64) -> String {
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        let seconds = magnitude / 1_000_000_000
        var fraction = magnitude % 1_000_000_000
        guard fraction != 0 else { return "\(sign)\(seconds)s" }
        var digits = 9
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let text = String(fraction)
        return "\(sign)\(seconds).\(String(repeating: "0", count: digits - text.count))\(text)s"
    }
}
