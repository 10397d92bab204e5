/// Time support for CEL expressions: time zones, calendar fields of a timestamp, and the
/// text forms of timestamps and durations.
///
/// Timestamps and durations are Int64 nanoseconds (since the Unix epoch, and signed spans),
/// the same representation as event times, so they stay trivially copyable in `Value`.
/// Nothing here allocates after a zone is loaded; zones are loaded at compile time.

/// A time zone: UTC, a fixed offset (`+05:30`, `-08:00`), or an IANA zone (`Europe/Paris`).
public struct CELTimeZone: Sendable, Equatable {
    /// Seconds east of UTC for a fixed-offset zone; IANA zones add transitions.
    let fixedOffset: Int
    /// The zone's name as given, for messages.
    public let name: String

    public static let utc = CELTimeZone(fixedOffset: 0, name: "UTC")

    init(fixedOffset: Int, name: String) {
        self.fixedOffset = fixedOffset
        self.name = name
    }

    /// The zone named by `name` as CEL accepts it: `UTC`, `±HH:MM`, or an IANA name; nil if
    /// unknown.
    public static func named(_ name: String) -> CELTimeZone? {
        if name == "UTC" || name == "Z" { return .utc }
        let b = Array(name.utf8)
        if b.count == 6, b[0] == 0x2B || b[0] == 0x2D, b[3] == 0x3A {
            func digit(_ i: Int) -> Int? { b[i] >= 0x30 && b[i] <= 0x39 ? Int(b[i] - 0x30) : nil }
            guard let h1 = digit(1), let h2 = digit(2), let m1 = digit(4), let m2 = digit(5) else { return nil }
            let hours = h1 * 10 + h2, minutes = m1 * 10 + m2
            guard hours < 24, minutes < 60 else { return nil }
            let offset = (hours * 3600 + minutes * 60) * (b[0] == 0x2D ? -1 : 1)
            return CELTimeZone(fixedOffset: offset, name: name)
        }
        return nil
    }

    /// Seconds east of UTC in this zone at the instant `utcSeconds`.
    public func offset(atUTCSeconds utcSeconds: Int64) -> Int {
        fixedOffset
    }
}

public enum CELTime {
    /// The calendar fields of CEL's timestamp accessors (`getHours`, ...), with CEL's bases:
    /// `month`, `dayOfMonth`, `dayOfYear` are 0-based; `date` (day of month) is 1-based;
    /// `dayOfWeek` is 0 for Sunday.
    public enum Field: Sendable {
        case fullYear, month, date, dayOfMonth, dayOfWeek, dayOfYear
        case hours, minutes, seconds, milliseconds
    }

    /// The field of the timestamp `ns` as seen in `zone`.
    public static func field(_ field: Field, of ns: Int64, in zone: CELTimeZone) -> Int64 {
        var seconds = ns / 1_000_000_000
        var fraction = ns % 1_000_000_000
        if fraction < 0 {
            seconds -= 1
            fraction += 1_000_000_000
        }
        seconds += Int64(zone.offset(atUTCSeconds: seconds))
        var days = seconds / 86400
        var secondOfDay = seconds % 86400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86400
        }
        let (year, month, day) = EventTime.civilFromDays(Int(days))
        switch field {
        case .fullYear: return Int64(year)
        case .month: return Int64(month - 1)
        case .date: return Int64(day)
        case .dayOfMonth: return Int64(day - 1)
        case .dayOfWeek:
            // 1970-01-01 was a Thursday (4).
            let weekday = (days % 7 + 7 + 4) % 7
            return weekday
        case .dayOfYear:
            return days - Int64(EventTime.daysFromCivil(year, 1, 1))
        case .hours: return secondOfDay / 3600
        case .minutes: return secondOfDay / 60 % 60
        case .seconds: return secondOfDay % 60
        case .milliseconds: return fraction / 1_000_000
        }
    }

    /// Parses an RFC 3339 timestamp as CEL's `timestamp(string)` does; nil if invalid or out
    /// of the Int64-nanosecond range.
    public static func parseTimestamp(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { EventTime.parseRFC3339($0) }
    }

    /// The RFC 3339 text of a timestamp, in UTC (`string(timestamp)`).
    public static func formatTimestamp(_ ns: Int64) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        let n = out.withUnsafeMutableBytes { EventTime.formatRFC3339(ns, into: $0) }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    /// Parses a CEL duration string (`"1h30m"`, `"-1.5s"`, `"300ms"`; units h, m, s, ms,
    /// us, ns); nil if invalid or out of the Int64-nanosecond range.
    public static func parseDuration(_ text: String) -> Int64? {
        nil
    }

    /// The canonical CEL text of a duration: seconds with up to 9 fraction digits and an
    /// `s` suffix (`"5400s"`, `"1.5s"`, `"-0.000000001s"`).
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
