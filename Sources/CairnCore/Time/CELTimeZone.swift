#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A time zone: UTC, a fixed offset (`+05:30`, `-08:00`), or an IANA zone (`Europe/Paris`).
///
/// IANA zones are read from the system time zone database (TZif files under $TZDIR, else
/// /usr/share/zoneinfo) when the zone is named, that is when an expression is compiled;
/// after that `offset(atUTCSeconds:)` only reads the loaded arrays. Zones compare equal when
/// their names are equal.
public struct CELTimeZone: Sendable, Equatable {
    /// Seconds east of UTC for UTC and fixed-offset zones; unused when `rules` is set.
    let fixedOffset: Int
    /// The loaded transitions and footer rule of an IANA zone; nil for UTC and fixed offsets.
    let rules: ZoneRules?
    /// The zone's name as given, for messages.
    public let name: String

    public static let utc = CELTimeZone(fixedOffset: 0, name: "UTC")

    init(fixedOffset: Int, name: String) {
        self.fixedOffset = fixedOffset
        self.rules = nil
        self.name = name
    }

    init(rules: ZoneRules, name: String) {
        self.fixedOffset = 0
        self.rules = rules
        self.name = name
    }

    public static func == (a: CELTimeZone, b: CELTimeZone) -> Bool {
        a.name == b.name
    }

    /// The zone named by `name` as CEL accepts it (cel-spec "Timezones", cel-go's
    /// `timeZone`); nil if unknown or malformed.
    ///
    /// - `UTC`.
    /// - A fixed offset `[+|-]HH:MM`: hours 00...23, minutes 00...59, the sign optional
    ///   (`02:00` is `+02:00`, as in the CEL conformance tests); `-00:00` is UTC.
    /// - An IANA name, case as given (`Europe/Paris`, `US/Central`, `Etc/GMT+5`, `CET`),
    ///   loaded from $TZDIR or /usr/share/zoneinfo. nil when the file is missing or is not
    ///   TZif, and for names that could leave the database directory (a leading `/`, an empty
    ///   or dot-led path component) or use bytes outside `A-Z a-z 0-9 / _ + - .`.
    ///
    /// Not accepted, although Go's `time.LoadLocation` would: the empty name and `Local`
    /// (they would depend on the machine, and the spec's grammar has neither).
    ///
    /// - Complexity: reads and parses one small file for an IANA name; call it when compiling.
    public static func named(_ name: String) -> CELTimeZone? {
        named(name, databaseDirectory: databaseDirectory)
    }

    /// `named(_:)` with IANA names looked up under `directory` instead of the system's.
    static func named(_ name: String, databaseDirectory directory: String) -> CELTimeZone? {
        if name == "UTC" { return .utc }
        let b = Array(name.utf8)
        if let offset = fixedOffset(b) { return CELTimeZone(fixedOffset: offset, name: name) }
        guard isSafeZoneName(b) else { return nil }
        guard let rules = TZif.load(path: directory + "/" + name) else { return nil }
        return CELTimeZone(rules: rules, name: name)
    }

    /// Seconds east of UTC in this zone at the instant `utcSeconds` (seconds since the epoch).
    ///
    /// - Complexity: O(log n) in the zone's transitions, O(1) after the last one (the
    ///   footer rule is evaluated arithmetically); no allocation.
    public func offset(atUTCSeconds utcSeconds: Int64) -> Int {
        guard let rules else { return fixedOffset }
        return rules.offset(atUTCSeconds: utcSeconds)
    }

    /// The directory of the system time zone database: $TZDIR if set and not empty, else
    /// /usr/share/zoneinfo.
    static var databaseDirectory: String {
        if let value = getenv("TZDIR"), value.pointee != 0 { return String(cString: value) }
        return "/usr/share/zoneinfo"
    }

    /// `[+|-]HH:MM` with HH 00...23 and MM 00...59, as seconds east of UTC.
    static func fixedOffset(_ b: [UInt8]) -> Int? {
        var i = 0
        var sign = 1
        if b.count == 6 {
            switch b[0] {
            case UInt8(ascii: "+"): break
            case UInt8(ascii: "-"): sign = -1
            default: return nil
            }
            i = 1
        } else if b.count != 5 {
            return nil
        }
        func digit(_ k: Int) -> Int? { b[k] &- 0x30 < 10 ? Int(b[k] &- 0x30) : nil }
        guard let h1 = digit(i), let h2 = digit(i + 1), b[i + 2] == UInt8(ascii: ":"),
            let m1 = digit(i + 3), let m2 = digit(i + 4)
        else { return nil }
        let hours = h1 * 10 + h2
        let minutes = m1 * 10 + m2
        guard hours <= 23, minutes <= 59 else { return nil }
        return sign * (hours * 3600 + minutes * 60)
    }

    /// Whether `b` is a relative path of zone-name characters that stays inside the database
    /// directory: no leading or doubled `/`, no component starting with `.`.
    static func isSafeZoneName(_ b: [UInt8]) -> Bool {
        guard !b.isEmpty, b.count <= 255 else { return false }
        var componentStart = true
        for c in b {
            switch c {
            case UInt8(ascii: "/"):
                if componentStart { return false }  // leading or doubled slash
                componentStart = true
                continue
            case UInt8(ascii: "."):
                if componentStart { return false }  // ".", "..", hidden files
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                break
            default:
                return false
            }
            componentStart = false
        }
        return !componentStart  // no trailing slash
    }
}
