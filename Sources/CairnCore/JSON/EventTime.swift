/// Event timestamps as nanoseconds since the Unix epoch (UTC), parsed from and formatted to
/// the forms events carry.
///
/// An `Int64` of nanoseconds covers 1677-09-21T00:12:43.145224192Z through
/// 2262-04-11T23:47:16.854775807Z; times outside that range are rejected, not clamped.
/// Calendar arithmetic is Howard Hinnant's days-from-civil / civil-from-days (proleptic
/// Gregorian), with no Foundation and no allocation.
///
/// Decisions the documentation states:
/// - Leap seconds: second `60` is rejected (`23:59:60Z` is invalid); POSIX time has none.
/// - More than 9 fraction digits are accepted and truncated to nanoseconds (toward the
///   earlier instant); a `.` must be followed by at least one digit.
/// - Epoch numbers may be negative (before 1970) down to the `Int64` nanosecond range;
///   sub-nanosecond digits are dropped rounding toward the earlier instant.
public enum EventTime {
    static let nanosPerSecond: Int64 = 1_000_000_000

    /// Whether `bytes` is a well-formed RFC 3339 timestamp that `parseRFC3339` refuses only
    /// because it lies outside the Int64 nanosecond range (years before 1677 or after 2262,
    /// or the edges of those years). For messages; off the hot path.
    public static func isOutOfRange(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 20, bytes.count <= 64, parseRFC3339(bytes) == nil,
              bytes[0..<4].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        let year = bytes[0..<4].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        guard year >= 1 else { return false }
        // The same text in a year of the same leapness well inside the range.
        let stand = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? "2000" : "2001"
        return withUnsafeTemporaryAllocation(byteCount: bytes.count, alignment: 1) { copy in
            copy.copyMemory(from: bytes)
            for (i, c) in stand.utf8.enumerated() { copy[i] = c }
            return parseRFC3339(UnsafeRawBufferPointer(copy)) != nil
        }
    }

    /// Parses an RFC 3339 timestamp to nanoseconds since the epoch.
    ///
    /// Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM)` where `T` may also be `t`
    /// or a space, the year is 0001...9999, the day exists in its month (leap years
    /// included), the hour is below 24, minutes and seconds below 60, and the offset's hour
    /// below 24. `-00:00` means UTC.
    ///
    /// - Returns: nil when the text is not such a timestamp or lies outside the `Int64`
    ///   nanosecond range.
    /// - Complexity: O(n), no allocation.
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count >= 20, let raw = bytes.baseAddress else { return nil }
        let b = raw.assumingMemoryBound(to: UInt8.self)
        guard let days = civilDays(b) else { return nil }
        return instant(b, count: bytes.count, days: days)
    }

    /// The date of the last timestamp `parseRFC3339(_:days:)` read: its first ten bytes
    /// (`YYYY-MM-DD`) and their day number.
    public struct DayCache: Sendable {
        var head: UInt64 = 0
        var tail: UInt16 = 0
        var days = 0
        var valid = false

        public init() {}
    }

    /// `parseRFC3339(_:)`, with the date taken from `cache` when the text starts with the
    /// same ten bytes as the last one read: events come in time order, so nearly all share
    /// their date with the one before, and its validation and day number are done once.
    ///
    /// - Complexity: O(n), no allocation.
    @inline(__always)
    public static func parseRFC3339(_ bytes: UnsafeRawBufferPointer, days cache: inout DayCache) -> Int64? {
        guard bytes.count >= 20, let raw = bytes.baseAddress else { return nil }
        // SAFETY: at least 20 readable bytes; unaligned loads.
        let head = raw.loadUnaligned(as: UInt64.self)
        let tail = raw.loadUnaligned(fromByteOffset: 8, as: UInt16.self)
        let b = raw.assumingMemoryBound(to: UInt8.self)
        if !(cache.valid && cache.head == head && cache.tail == tail) {
            guard let days = civilDays(b) else { return nil }
            cache = DayCache()
            cache.head = head
            cache.tail = tail
            cache.days = days
            cache.valid = true
        }
        return instant(b, count: bytes.count, days: cache.days)
    }

    /// The day number of a valid `YYYY-MM-DD` at `b` (year 0001...9999, a day of its month),
    /// or nil.
    ///
    /// - Precondition: ten bytes are readable at `b`.
    @inline(__always)
    static func civilDays(_ b: UnsafePointer<UInt8>) -> Int? {
        @inline(__always) func digit(_ i: Int) -> Int { let d = b[i] &- 0x30; return d < 10 ? Int(d) : -1000 }
        @inline(__always) func two(_ i: Int) -> Int { digit(i) * 10 + digit(i + 1) }
        let year = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3)
        let month = two(5)
        let day = two(8)
        guard b[4] == 0x2D, b[7] == 0x2D,
            year >= 1, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year, month)
        else { return nil }
        return daysFromCivil(year, month, day)
    }

    /// The rest of an RFC 3339 timestamp of `n` bytes at `b` after a valid date of day number
    /// `days`: `THH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM)`, as nanoseconds, or nil.
    @inline(__always)
    static func instant(_ b: UnsafePointer<UInt8>, count n: Int, days: Int) -> Int64? {
        @inline(__always) func digit(_ i: Int) -> Int { let d = b[i] &- 0x30; return d < 10 ? Int(d) : -1000 }
        @inline(__always) func two(_ i: Int) -> Int { digit(i) * 10 + digit(i + 1) }
        let hour = two(11)
        let minute = two(14)
        let second = two(17)
        let separator = b[10]
        guard separator == 0x54 || separator == 0x74 || separator == 0x20,
            b[13] == 0x3A, b[16] == 0x3A,
            hour >= 0, hour < 24, minute >= 0, minute < 60, second >= 0, second < 60
        else { return nil }

        var i = 19
        var fraction: Int64 = 0
        if b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < n, b[i] &- 0x30 < 10 {
                if digits < 9 { fraction = fraction * 10 + Int64(b[i] &- 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            // To nanoseconds in one multiplication (a loop of them was a chain of six for
            // milliseconds, on every event).
            if digits < 9 { fraction &*= powerOfTen(9 &- digits) }
        }
        guard i < n else { return nil }
        var offsetSeconds = 0
        switch b[i] {
        case 0x5A, 0x7A:  // Z z
            i += 1
        case 0x2B, 0x2D:  // + -
            guard n - i == 6, b[i + 3] == 0x3A else { return nil }
            let offsetHour = two(i + 1)
            let offsetMinute = two(i + 4)
            guard offsetHour >= 0, offsetHour < 24, offsetMinute >= 0, offsetMinute < 60 else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (b[i] == 0x2D ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }

        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        // Before the epoch, count from the next whole second down, so that the earliest
        // representable instant (-9223372036.854775808 s) does not overflow on the way.
        let borrow: Int64 = seconds < 0 && fraction > 0 ? 1 : 0
        let (scaled, overflow1) = (seconds + borrow).multipliedReportingOverflow(by: nanosPerSecond)
        let (total, overflow2) = scaled.addingReportingOverflow(fraction - borrow * nanosPerSecond)
        guard !overflow1, !overflow2 else { return nil }
        return total
    }

    /// 10^k for k in 0...8.
    @inline(__always)
    static func powerOfTen(_ k: Int) -> Int64 {
        switch k {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        default: 100_000_000
        }
    }

    /// Parses epoch seconds given as JSON number text (`1709290320`, `1709290320.25`,
    /// `1.70929032e9`, `-86400`) to nanoseconds.
    ///
    /// The decimal text is converted exactly (no detour through `Double`), so nine fraction
    /// digits survive; further digits are dropped toward the earlier instant.
    ///
    /// - Returns: nil if the text is not a JSON number or the instant is outside the
    ///   `Int64` nanosecond range.
    /// - Complexity: O(n), no allocation.
    public static func parseEpochSeconds(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        decimalToNanos(bytes, scale: 9)
    }

    /// Parses epoch milliseconds given as JSON number text (`1709290320250`,
    /// `1709290320250.5`) to nanoseconds, like `parseEpochSeconds`.
    ///
    /// - Complexity: O(n), no allocation.
    public static func parseEpochMilliseconds(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        decimalToNanos(bytes, scale: 6)
    }

    /// Formats `ns` as RFC 3339 in UTC: `2024-03-01T11:32:00Z`, `2024-03-01T11:32:00.500Z`.
    ///
    /// The fraction has the fewest of 0, 3, 6 or 9 digits that represent `ns` exactly, so
    /// the output is canonical: equal instants format to equal bytes.
    ///
    /// - Precondition: `out.count >= 30` (the longest form is 30 bytes).
    /// - Returns: the number of bytes written (20 to 30).
    /// - Complexity: O(1), no allocation.
    public static func formatRFC3339(_ ns: Int64, into out: UnsafeMutableRawBufferPointer) -> Int {
        precondition(out.count >= 30, "EventTime.formatRFC3339 needs 30 bytes of output")
        let o = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var seconds = ns / nanosPerSecond
        var fraction = ns % nanosPerSecond
        if fraction < 0 {
            seconds -= 1
            fraction += nanosPerSecond
        }
        var days = seconds / 86400
        var secondOfDay = seconds % 86400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86400
        }
        let (year, month, day) = civilFromDays(Int(days))
        @inline(__always) func put(_ value: Int, _ width: Int, at position: Int) {
            var v = value
            var k = position + width - 1
            while k >= position {
                o[k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                v /= 10
                k -= 1
            }
        }
        put(year, 4, at: 0)
        o[4] = 0x2D
        put(month, 2, at: 5)
        o[7] = 0x2D
        put(day, 2, at: 8)
        o[10] = 0x54
        put(Int(secondOfDay / 3600), 2, at: 11)
        o[13] = 0x3A
        put(Int(secondOfDay / 60 % 60), 2, at: 14)
        o[16] = 0x3A
        put(Int(secondOfDay % 60), 2, at: 17)
        var count = 19
        if fraction != 0 {
            o[19] = 0x2E
            if fraction % 1_000_000 == 0 {
                put(Int(fraction / 1_000_000), 3, at: 20)
                count = 23
            } else if fraction % 1000 == 0 {
                put(Int(fraction / 1000), 6, at: 20)
                count = 26
            } else {
                put(Int(fraction), 9, at: 20)
                count = 29
            }
        }
        o[count] = 0x5A
        return count + 1
    }

    // MARK: - Calendar

    @inline(__always)
    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    @inline(__always)
    static func daysInMonth(_ year: Int, _ month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`).
    public static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's
    /// `civil_from_days`).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: - Exact decimal conversion

    /// The JSON number `bytes` times 10^`scale`, floored to an integer, if it fits in Int64.
    static func decimalToNanos(_ bytes: UnsafeRawBufferPointer, scale: Int) -> Int64? {
        let n = bytes.count
        guard n > 0, let raw = bytes.baseAddress else { return nil }
        let b = raw.assumingMemoryBound(to: UInt8.self)
        var i = 0
        let negative = b[0] == 0x2D
        if negative { i = 1 }
        // value = mantissa * 10^exponent (+ dropped digits, which only matter for flooring)
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var dropped = false
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < n && b[k] &- 0x30 < 10 }
        guard isDigit(i) else { return nil }
        if b[i] == 0x30 && isDigit(i + 1) { return nil }  // leading zero
        while isDigit(i) {
            let d = UInt64(b[i] &- 0x30)
            if significant < 19 {
                if mantissa != 0 || d != 0 {
                    mantissa = mantissa * 10 + d
                    significant += 1
                }
            } else {
                exponent += 1
                if d != 0 { dropped = true }
            }
            i += 1
        }
        if i < n && b[i] == 0x2E {
            i += 1
            guard isDigit(i) else { return nil }
            while isDigit(i) {
                let d = UInt64(b[i] &- 0x30)
                if significant < 19 {
                    if mantissa != 0 || d != 0 {
                        mantissa = mantissa * 10 + d
                        significant += 1
                    }
                    exponent -= 1
                } else if d != 0 {
                    dropped = true
                }
                i += 1
            }
        }
        if i < n && b[i] | 0x20 == 0x65 {
            i += 1
            var expNegative = false
            if i < n && (b[i] == 0x2B || b[i] == 0x2D) {
                expNegative = b[i] == 0x2D
                i += 1
            }
            guard isDigit(i) else { return nil }
            var e = 0
            while isDigit(i) {
                if e < 100_000 { e = e * 10 + Int(b[i] &- 0x30) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        guard i == n else { return nil }
        if mantissa == 0 { return 0 }

        let shift = exponent + scale
        var magnitude: UInt64
        var inexact = dropped
        if shift >= 0 {
            guard shift <= 19 else { return nil }
            var power: UInt64 = 1
            for _ in 0..<shift { power *= 10 }
            let (product, overflow) = mantissa.multipliedReportingOverflow(by: power)
            guard !overflow else { return nil }
            magnitude = product
        } else if -shift > 19 {
            magnitude = 0
            inexact = true
        } else {
            var power: UInt64 = 1
            for _ in 0 ..< -shift { power *= 10 }
            magnitude = mantissa / power
            if mantissa % power != 0 { inexact = true }
        }
        if negative {
            if inexact { magnitude += 1 }  // floor: toward the earlier instant
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
