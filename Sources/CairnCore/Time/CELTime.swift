/// Time support for CEL expressions: calendar fields of a timestamp in a time zone, the text
/// forms of timestamps and durations, and range-checked timestamp and duration arithmetic.
///
/// Timestamps and durations are Int64 nanoseconds (since the Unix epoch, and signed spans),
/// the same representation as event times, so they stay trivially copyable in `Value`. That
/// bounds timestamps to 1677-09-21T00:12:43.145224192Z...2262-04-11T23:47:16.854775807Z and
/// durations to about ±292 years, narrower than CEL's years 0001...9999 and ±10000 years;
/// values outside are rejected (nil), never clamped. See docs/time.md.
///
/// Nothing here allocates except the `String` results of the formatters; zones are loaded
/// once, at compile time (`CELTimeZone.named`).
public enum CELTime {
    static let nanosPerSecond: Int64 = 1_000_000_000

    /// The calendar fields of CEL's timestamp accessors (`getHours`, ...), with CEL's bases:
    /// `month`, `dayOfMonth`, `dayOfYear` are 0-based; `date` (day of month) is 1-based;
    /// `dayOfWeek` is 0 for Sunday.
    public enum Field: Sendable {
        case fullYear, month, date, dayOfMonth, dayOfWeek, dayOfYear
        case hours, minutes, seconds, milliseconds
    }

    /// The field of the timestamp `ns` as seen in `zone` (proleptic Gregorian calendar).
    ///
    /// | field          | CEL accessor        | range     |
    /// | -------------- | ------------------- | --------- |
    /// | `fullYear`     | `getFullYear`       | the year  |
    /// | `month`        | `getMonth`          | 0...11    |
    /// | `date`         | `getDate`           | 1...31    |
    /// | `dayOfMonth`   | `getDayOfMonth`     | 0...30    |
    /// | `dayOfWeek`    | `getDayOfWeek`      | 0...6, 0 is Sunday |
    /// | `dayOfYear`    | `getDayOfYear`      | 0...365   |
    /// | `hours`        | `getHours`          | 0...23    |
    /// | `minutes`      | `getMinutes`        | 0...59    |
    /// | `seconds`      | `getSeconds`        | 0...59    |
    /// | `milliseconds` | `getMilliseconds`   | 0...999   |
    ///
    /// Instants before 1970 count down correctly: one nanosecond before the epoch is
    /// 1969-12-31 23:59:59.999 in UTC.
    ///
    /// - Complexity: O(log n) in the zone's transitions; no allocation.
    public static func field(_ field: Field, of ns: Int64, in zone: CELTimeZone) -> Int64 {
        let (utcSeconds, fraction) = floorDivide(ns, nanosPerSecond)
        let seconds = utcSeconds + Int64(zone.offset(atUTCSeconds: utcSeconds))
        let (days, secondOfDay) = floorDivide(seconds, 86400)
        let (year, month, day) = EventTime.civilFromDays(Int(days))
        switch field {
        case .fullYear: return Int64(year)
        case .month: return Int64(month - 1)
        case .date: return Int64(day)
        case .dayOfMonth: return Int64(day - 1)
        case .dayOfWeek:
            // 1970-01-01 was a Thursday (4).
            return floorDivide(days + 4, 7).remainder
        case .dayOfYear:
            return days - Int64(EventTime.daysFromCivil(year, 1, 1))
        case .hours: return secondOfDay / 3600
        case .minutes: return secondOfDay / 60 % 60
        case .seconds: return secondOfDay % 60
        case .milliseconds: return fraction / 1_000_000
        }
    }

    // MARK: - Timestamps

    /// Parses an RFC 3339 timestamp as CEL's `timestamp(string)` does; nil if invalid or out
    /// of the Int64-nanosecond range.
    ///
    /// The form is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`, exactly what cel-go
    /// accepts: `T` and `Z` upper case only, no space for `T`; a real calendar day; hours
    /// 00...23, minutes and seconds 00...59 (no leap second `60`); at least one fraction digit
    /// after a `.`, digits past the ninth truncated; offsets with hours 00...23 and minutes
    /// 00...59, `-00:00` meaning UTC. Event fields are parsed more leniently by
    /// `EventTime.parseRFC3339`.
    public static func parseTimestamp(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseTimestamp(UnsafeRawBufferPointer($0)) }
    }

    /// `parseTimestamp(_:)` over UTF-8 bytes.
    ///
    /// - Complexity: O(n), no allocation.
    public static func parseTimestamp(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        // The strict form is the lenient event form minus the lowercase `t`/`z` and the space
        // separator; everything else (ranges, truncation, overflow) is the same.
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T"), bytes[bytes.count - 1] != UInt8(ascii: "z")
        else { return nil }
        return EventTime.parseRFC3339(bytes)
    }

    /// The RFC 3339 text of a timestamp in UTC, as cel-go's `string(timestamp)` gives it (Go's
    /// `RFC3339Nano`): the fraction only when not zero, with its trailing zeros removed
    /// (`2024-03-01T10:00:00Z`, `2024-03-01T10:00:00.5Z`, `1969-12-31T23:59:59.999999999Z`).
    public static func formatTimestamp(_ ns: Int64) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
            let n = formatTimestamp(ns, into: UnsafeMutableRawBufferPointer(buffer))
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    /// Writes `formatTimestamp(_:)`'s text into `out` and returns its length (20 to 30 bytes).
    ///
    /// - Precondition: `out.count >= 30`.
    /// - Complexity: O(1), no allocation.
    public static func formatTimestamp(_ ns: Int64, into out: UnsafeMutableRawBufferPointer) -> Int {
        var n = EventTime.formatRFC3339(ns, into: out)
        // EventTime writes 0, 3, 6 or 9 fraction digits; RFC3339Nano keeps only the
        // significant ones. The fraction, when present, is never all zeros.
        guard n > 21, out[19] == UInt8(ascii: ".") else { return n }
        while out[n - 2] == UInt8(ascii: "0") {
            n -= 1
        }
        out[n - 1] = UInt8(ascii: "Z")
        return n
    }
}
