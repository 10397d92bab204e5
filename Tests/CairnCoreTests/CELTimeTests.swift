#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

@testable import CairnCore

// Expected values were computed by hand with Python's zoneinfo (over the system tz database)
// and GNU date, then pinned here; the tests do not call them.

private let second: Int64 = 1_000_000_000

/// The instant of an RFC 3339 text, through the strict CEL parser.
private func ts(_ text: String) -> Int64 {
    guard let ns = CELTime.parseTimestamp(text) else {
        Issue.record("test timestamp \(text) does not parse")
        return 0
    }
    return ns
}

/// A zone from the system database. Fails the test (never skips) when the database is
/// missing: CI installs tzdata (scripts/install-deps).
private func zone(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CELTimeZone {
    try #require(CELTimeZone.named(name), "time zone \(name) not loaded; is tzdata installed?", sourceLocation: sourceLocation)
}

private func fields(_ ns: Int64, _ zone: CELTimeZone) -> [Int64] {
    let all: [CELTime.Field] = [
        .fullYear, .month, .date, .dayOfMonth, .dayOfWeek, .dayOfYear, .hours, .minutes, .seconds, .milliseconds,
    ]
    return all.map { CELTime.field($0, of: ns, in: zone) }
}

struct CELTimeZoneTests {
    @Test("the system tz database is present (CI installs tzdata)")
    func databaseIsPresent() throws {
        let utc = try zone("Etc/UTC")
        #expect(utc.offset(atUTCSeconds: 0) == 0)
        #expect(utc.rules != nil)
    }

    static let parisSwitches: [(String, Int)] = [
        ("2024-03-31T00:30:00Z", 3600), ("2024-03-31T00:59:59Z", 3600),
        ("2024-03-31T01:00:00Z", 7200), ("2024-03-31T01:30:00Z", 7200),
        ("2024-10-27T00:30:00Z", 7200), ("2024-10-27T00:59:59Z", 7200),
        ("2024-10-27T01:00:00Z", 3600), ("2024-10-27T01:30:00Z", 3600),
    ]

    @Test(
        "Europe/Paris switches to and from summer time at 01:00 UTC in 2024",
        arguments: Self.parisSwitches)
    func parisDST(_ instant: String, _ offset: Int) throws {
        let paris = try zone("Europe/Paris")
        #expect(paris.offset(atUTCSeconds: ts(instant) / second) == offset)
    }

    static let newYorkSwitches: [(String, Int)] = [
        ("2024-03-10T06:30:00Z", -18000), ("2024-03-10T06:59:59Z", -18000),
        ("2024-03-10T07:00:00Z", -14400), ("2024-03-10T07:30:00Z", -14400),
        ("2024-11-03T05:30:00Z", -14400), ("2024-11-03T05:59:59Z", -14400),
        ("2024-11-03T06:00:00Z", -18000), ("2024-11-03T06:30:00Z", -18000),
    ]

    @Test(
        "America/New_York switches at 07:00 and 06:00 UTC in 2024",
        arguments: Self.newYorkSwitches)
    func newYorkDST(_ instant: String, _ offset: Int) throws {
        let newYork = try zone("America/New_York")
        #expect(newYork.offset(atUTCSeconds: ts(instant) / second) == offset)
    }

    @Test("local hours either side of the 2024 switches")
    func localHoursAroundSwitches() throws {
        let paris = try zone("Europe/Paris")
        let newYork = try zone("America/New_York")
        // 01:30 CET, then 03:30 CEST: the 02:00 hour does not exist.
        #expect(CELTime.field(.hours, of: ts("2024-03-31T00:30:00Z"), in: paris) == 1)
        #expect(CELTime.field(.hours, of: ts("2024-03-31T01:30:00Z"), in: paris) == 3)
        // 02:30 CEST, then 02:30 CET again.
        #expect(CELTime.field(.hours, of: ts("2024-10-27T00:30:00Z"), in: paris) == 2)
        #expect(CELTime.field(.hours, of: ts("2024-10-27T01:30:00Z"), in: paris) == 2)
        #expect(CELTime.field(.hours, of: ts("2024-03-10T06:30:00Z"), in: newYork) == 1)
        #expect(CELTime.field(.hours, of: ts("2024-03-10T07:30:00Z"), in: newYork) == 3)
        #expect(CELTime.field(.hours, of: ts("2024-11-03T05:30:00Z"), in: newYork) == 1)
        #expect(CELTime.field(.hours, of: ts("2024-11-03T06:30:00Z"), in: newYork) == 1)
    }

    @Test("Asia/Kathmandu is +05:45 since 1986 and +05:30 before")
    func kathmandu() throws {
        let kathmandu = try zone("Asia/Kathmandu")
        #expect(kathmandu.offset(atUTCSeconds: 1_234_567_890) == 20700)
        #expect(kathmandu.offset(atUTCSeconds: 486_432_000) == 19800)  // 1985-06-01
        #expect(kathmandu.offset(atUTCSeconds: 504_921_600) == 20700)  // 1986-01-01
        // cel-spec conformance: timestamp('2009-02-13T23:31:30Z').getMinutes('Asia/Kathmandu') == 16
        #expect(fields(1_234_567_890 * second, kathmandu) == [2009, 1, 14, 13, 6, 44, 5, 16, 30, 0])
    }

    static let farFuture: [(String, String, Int)] = [
        ("Europe/Paris", "2200-01-15T12:00:00Z", 3600), ("Europe/Paris", "2200-07-15T12:00:00Z", 7200),
        ("Europe/Paris", "2200-03-30T00:59:59Z", 3600), ("Europe/Paris", "2200-03-30T01:00:00Z", 7200),
        ("Europe/Paris", "2200-10-26T00:59:59Z", 7200), ("Europe/Paris", "2200-10-26T01:00:00Z", 3600),
        ("America/New_York", "2100-03-14T06:59:59Z", -18000), ("America/New_York", "2100-03-14T07:00:00Z", -14400),
        ("Australia/Sydney", "2200-01-15T12:00:00Z", 39600), ("Australia/Sydney", "2200-07-15T12:00:00Z", 36000),
    ]

    @Test(
        "far-future instants follow the footer rule (after the file's last transition)",
        arguments: Self.farFuture)
    func footerRule(_ name: String, _ instant: String, _ offset: Int) throws {
        let z = try zone(name)
        let rules = try #require(z.rules)
        let t = ts(instant) / second
        #expect(t > rules.transitions.last ?? Int64.min, "instant should be past the last transition")
        #expect(z.offset(atUTCSeconds: t) == offset)
    }

    @Test("instants before 1970 and before the first transition")
    func pre1970() throws {
        let newYork = try zone("America/New_York")
        let paris = try zone("Europe/Paris")
        // 1960-07-04T12:00:00.250Z is 08:00 EDT on a Monday; 1960 is a leap year.
        #expect(fields(-299_592_000 * second + 250_000_000, newYork) == [1960, 6, 4, 3, 1, 185, 8, 0, 0, 250])
        #expect(newYork.offset(atUTCSeconds: -315_316_800) == -18000)  // 1960-01-04, EST
        #expect(paris.offset(atUTCSeconds: -933_595_200) == 3600)  // 1940-06-01
        // Paris mean time (+00:09:21) until 1911.
        #expect(paris.offset(atUTCSeconds: -2_208_988_800) == 561)
        #expect(fields(-2_208_988_800 * second, paris) == [1900, 0, 1, 0, 1, 0, 0, 9, 21, 0])
        // 1850 is before the file's first transition (1891): local time type 0, LMT.
        let rules = try #require(paris.rules)
        #expect(-3_786_825_600 < rules.transitions[0])
        #expect(paris.offset(atUTCSeconds: -3_786_825_600) == 561)
    }

    @Test("cel-spec conformance: timestamp selectors with time zones")
    func conformance() throws {
        let t = ts("2009-02-13T23:31:30Z")
        #expect(CELTime.field(.date, of: t, in: try zone("Australia/Sydney")) == 14)
        #expect(CELTime.field(.dayOfMonth, of: t, in: try zone("US/Central")) == 12)
        #expect(CELTime.field(.dayOfMonth, of: t, in: try zone("+11:00")) == 13)
        #expect(CELTime.field(.dayOfMonth, of: ts("2009-02-13T02:00:00Z"), in: try zone("-02:30")) == 11)
        #expect(CELTime.field(.dayOfMonth, of: ts("2009-02-13T02:00:00Z"), in: try zone("America/St_Johns")) == 11)
        #expect(CELTime.field(.dayOfWeek, of: t, in: try zone("UTC")) == 5)
        #expect(CELTime.field(.dayOfYear, of: t, in: try zone("US/Central")) == 43)
        #expect(CELTime.field(.fullYear, of: t, in: try zone("-09:30")) == 2009)
        #expect(CELTime.field(.hours, of: t, in: try zone("02:00")) == 1)
        #expect(CELTime.field(.minutes, of: t, in: try zone("Asia/Kathmandu")) == 16)
        #expect(CELTime.field(.month, of: t, in: try zone("UTC")) == 1)
        #expect(CELTime.field(.seconds, of: t, in: try zone("-00:00")) == 30)
        #expect(CELTime.field(.milliseconds, of: ts("2009-02-13T23:31:20.123456789Z"), in: .utc) == 123)
    }

    static let fixedOffsetCases: [(String, Int)] = [
        ("+05:30", 19800), ("-08:00", -28800), ("02:00", 7200), ("-00:00", 0), ("+00:00", 0),
        ("+23:59", 86340), ("-23:59", -86340), ("-02:30", -9000),
    ]

    @Test(
        "fixed offsets: [+|-]HH:MM with hours 00-23 and minutes 00-59",
        arguments: Self.fixedOffsetCases)
    func fixedOffsets(_ name: String, _ offset: Int) throws {
        let z = try #require(CELTimeZone.named(name))
        #expect(z.offset(atUTCSeconds: 0) == offset)
        #expect(z.offset(atUTCSeconds: 1_234_567_890) == offset)
        #expect(z.name == name)
    }

    @Test(
        "names CEL does not accept, and names that could leave the database directory",
        arguments: [
            "", "Z", "z", "utc", "Local", "+24:00", "+05:60", "+5:30", "+05:3", "05:30:00", "+0530", "++05:30",
            "europe/paris", "Europe/Nowhere", "Europe", "Europe/", "/etc/localtime", "../zoneinfo/UTC",
            "Europe/../UTC", "./UTC", "Europe//Paris", "zone.tab", "tzdata.zi", ".hidden", "Europe/Paris\u{0}",
            "Europe/Paris ", "Europe\\Paris",
        ])
    func rejectedNames(_ name: String) {
        #expect(CELTimeZone.named(name) == nil)
    }

    @Test("UTC is CEL's own name; Etc/UTC and GMT load from the database")
    func utcNames() throws {
        #expect(CELTimeZone.named("UTC") == .utc)
        #expect(try zone("Etc/UTC").offset(atUTCSeconds: 1_700_000_000) == 0)
        #expect(try zone("GMT").offset(atUTCSeconds: 1_700_000_000) == 0)
        #expect(try zone("Etc/GMT+5").offset(atUTCSeconds: 1_700_000_000) == -18000)
    }

    @Test("zones compare by name")
    func equality() throws {
        #expect(try zone("Europe/Paris") == zone("Europe/Paris"))
        #expect(try zone("Europe/Paris") != zone("Europe/Berlin"))
        #expect(CELTimeZone.named("+01:00") != CELTimeZone.named("01:00"))
    }

    @Test("the footer and the transitions agree at every hour of 2024 and 2025")
    func footerMatchesTransitions() throws {
        let cases = [
            ("Europe/Paris", "CET-1CEST,M3.5.0,M10.5.0/3"),
            ("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
            ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"),
        ]
        for (name, tz) in cases {
            let z = try zone(name)
            let rule = try #require(POSIXTimeZoneRule.parse(Array(tz.utf8)[...]))
            #expect(z.rules?.footer == rule, "\(name) footer")
            let start = ts("2024-01-01T00:00:00Z") / second
            var mismatches = 0
            for hour in 0..<(2 * 366 * 24) {
                let t = start + Int64(hour) * 3600
                if z.offset(atUTCSeconds: t) != rule.offset(atUTCSeconds: t) { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(name)")
        }
    }
}

struct POSIXTimeZoneRuleTests {
    private func rule(_ text: String) -> POSIXTimeZoneRule? {
        POSIXTimeZoneRule.parse(Array(text.utf8)[...])
    }

    @Test("standard time only, quoted names, signs")
    func standardOnly() throws {
        #expect(try #require(rule("EST5")).offset(atUTCSeconds: 0) == -18000)
        #expect(try #require(rule("<+0545>-5:45")).offset(atUTCSeconds: 0) == 20700)
        #expect(try #require(rule("<-03>3")).offset(atUTCSeconds: 0) == -10800)
        #expect(try #require(rule("UTC0")).offset(atUTCSeconds: 0) == 0)
        #expect(try #require(rule("<+1030>-10:30:15")).offset(atUTCSeconds: 0) == 37815)
    }

    @Test("a dst name without offset is one hour ahead; without a rule, US rules apply")
    func defaults() throws {
        let r = try #require(rule("EST5EDT"))
        #expect(r.daylight?.offset == -14400)
        #expect(r.offset(atUTCSeconds: ts("2024-03-10T06:59:59Z") / second) == -18000)
        #expect(r.offset(atUTCSeconds: ts("2024-03-10T07:00:00Z") / second) == -14400)
    }

    @Test("Jn, n and Mm.w.d dates with times")
    func dateForms() throws {
        // Daylight from day J60 (1 March, never February 29) 02:00 to day 300 (0-based) 02:00.
        let julian = try #require(rule("XST0XDT,J60/2,300/2"))
        // 2024 is a leap year: J60 is March 1, zero-based day 59 would be February 29.
        #expect(julian.offset(atUTCSeconds: ts("2024-03-01T01:59:59Z") / second) == 0)
        #expect(julian.offset(atUTCSeconds: ts("2024-03-01T02:00:00Z") / second) == 3600)
        // Day 300 of 2024 (0-based, leap day counted) is October 27; ends 02:00 XDT = 01:00 UTC.
        #expect(julian.offset(atUTCSeconds: ts("2024-10-27T00:59:59Z") / second) == 3600)
        #expect(julian.offset(atUTCSeconds: ts("2024-10-27T01:00:00Z") / second) == 0)
        // Negative and large times (TZif v3): M3.5.0/-1 is the Saturday before, 23:00.
        let v3 = try #require(rule("XST0XDT,M3.5.0/-1,M10.5.0/26"))
        #expect(v3.offset(atUTCSeconds: ts("2024-03-30T22:59:59Z") / second) == 0)
        #expect(v3.offset(atUTCSeconds: ts("2024-03-30T23:00:00Z") / second) == 3600)
        // 26:00 XDT on Sunday 27 October is Monday 01:00 UTC.
        #expect(v3.offset(atUTCSeconds: ts("2024-10-28T00:59:59Z") / second) == 3600)
        #expect(v3.offset(atUTCSeconds: ts("2024-10-28T01:00:00Z") / second) == 0)
    }

    @Test("week 5 is the last such weekday of the month, even when the month has four")
    func lastWeek() throws {
        // February 2024 has four Sundays (4, 11, 18, 25): M2.5.0 is the 25th.
        let r = try #require(rule("XST0XDT,M2.5.0/0,M11.1.0/0"))
        #expect(r.offset(atUTCSeconds: ts("2024-02-24T23:59:59Z") / second) == 0)
        #expect(r.offset(atUTCSeconds: ts("2024-02-25T00:00:00Z") / second) == 3600)
    }

    @Test(
        "malformed TZ strings are rejected",
        arguments: [
            "", "E5", "EST", "EST+", "EST5EDT,", "EST5EDT,M3.2.0", "EST5EDT,M13.2.0,M11.1.0", "EST5EDT,M3.6.0,M11.1.0",
            "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J365", "EST5EDT,J1,J366", "EST168", "EST5:60", "<EST5",
            "EST5EDT,M3.2.0,M11.1.0x", "EST5EDT,M3.2.0/,M11.1.0",
        ])
    func malformed(_ text: String) {
        #expect(rule(text) == nil)
    }
}

struct TZifTests {
    /// Builds a TZif file: a v1 block always, and for version >= 2 a v2 block and a footer.
    private func tzif(
        version: UInt8, times: [Int64], types: [UInt8], offsets: [Int32], footer: String = "", v1Times: [Int64]? = nil
    ) -> [UInt8] {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func be64(_ v: Int64) -> [UInt8] {
            let u = UInt64(bitPattern: v)
            return be32(UInt32(u >> 32)) + be32(UInt32(u & 0xFFFF_FFFF))
        }
        func block(_ times: [Int64], _ types: [UInt8], timeSize: Int) -> [UInt8] {
            var out = Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15)
            for count in [0, 0, 0, times.count, offsets.count, 4] { out += be32(UInt32(count)) }
            for t in times { out += timeSize == 4 ? be32(UInt32(bitPattern: Int32(t))) : be64(t) }
            out += types
            for o in offsets { out += be32(UInt32(bitPattern: o)) + [0, 0] }
            out += Array("ABC\u{0}".utf8)
            return out
        }
        let first = v1Times ?? times
        var out = block(first, Array(types.prefix(first.count)), timeSize: 4)
        if version >= 0x32 {
            out += block(times, types, timeSize: 8)
            out += [0x0A] + Array(footer.utf8) + [0x0A]
        }
        return out
    }

    @Test("a version 1 file: 32-bit transitions, no footer")
    func version1() throws {
        let rules = try #require(TZif.parse(tzif(version: 0, times: [-100, 1000], types: [1, 0], offsets: [3600, 7200])))
        #expect(rules.offset(atUTCSeconds: -101) == 3600)  // type 0 before the first transition
        #expect(rules.offset(atUTCSeconds: -100) == 7200)
        #expect(rules.offset(atUTCSeconds: 999) == 7200)
        #expect(rules.offset(atUTCSeconds: 1000) == 3600)
        #expect(rules.offset(atUTCSeconds: Int64.max) == 3600)  // last offset forever
    }

    @Test("a version 2 file uses the 64-bit block and the footer")
    func version2() throws {
        // The v1 block holds a different (truncated) history, which must be ignored.
        let far: Int64 = 1 << 40
        let bytes = tzif(
            version: 0x32, times: [0, far], types: [1, 0], offsets: [0, 3600], footer: "<+02>-2", v1Times: [])
        let rules = try #require(TZif.parse(bytes))
        #expect(rules.transitions == [0, far])
        #expect(rules.offset(atUTCSeconds: -1) == 0)
        #expect(rules.offset(atUTCSeconds: 0) == 3600)
        #expect(rules.offset(atUTCSeconds: far - 1) == 3600)
        #expect(rules.offset(atUTCSeconds: far) == 7200)  // footer from the last transition on
    }

    @Test("a slim file with no transitions uses its footer everywhere")
    func footerOnly() throws {
        let rules = try #require(
            TZif.parse(tzif(version: 0x33, times: [], types: [], offsets: [3600], footer: "CET-1CEST,M3.5.0,M10.5.0/3")))
        #expect(rules.offset(atUTCSeconds: ts("2024-07-01T00:00:00Z") / second) == 7200)
        #expect(rules.offset(atUTCSeconds: ts("2024-01-01T00:00:00Z") / second) == 3600)
    }

    @Test("an empty or malformed footer leaves the last offset in force")
    func badFooter() throws {
        for footer in ["", "not a rule"] {
            let rules = try #require(TZif.parse(tzif(version: 0x32, times: [0], types: [0], offsets: [-3600], footer: footer)))
            #expect(rules.footer == nil)
            #expect(rules.offset(atUTCSeconds: 1 << 40) == -3600)
        }
    }

    @Test("malformed files are rejected")
    func malformed() {
        let good = tzif(version: 0x32, times: [0, 10], types: [0, 1], offsets: [0, 3600], footer: "<+01>-1")
        #expect(TZif.parse(good) != nil)
        #expect(TZif.parse([]) == nil)
        #expect(TZif.parse(Array("TZif2".utf8)) == nil)
        var badMagic = good
        badMagic[0] = 0x58
        #expect(TZif.parse(badMagic) == nil)
        // Every truncation fails (the footer's closing newline included).
        for length in 0..<good.count where TZif.parse(Array(good.prefix(length))) != nil {
            Issue.record("truncated to \(length) bytes but parsed")
        }
        // A transition type beyond the type count; times not ascending; no types at all.
        #expect(TZif.parse(tzif(version: 0x32, times: [0], types: [2], offsets: [0, 3600])) == nil)
        #expect(TZif.parse(tzif(version: 0x32, times: [10, 10], types: [0, 1], offsets: [0, 3600])) == nil)
        #expect(TZif.parse(tzif(version: 0x32, times: [], types: [], offsets: [])) == nil)
        #expect(TZif.parse(tzif(version: 0x32, times: [], types: [], offsets: [Int32.min])) == nil)
    }

    @Test("zones load from another database directory (as $TZDIR selects)")
    func otherDirectory() throws {
        var template = Array("/tmp/cairn-tzdir-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let directory = String(cString: try #require(made))
        defer {
            unlink(directory + "/Test/Zone")
            rmdir(directory + "/Test")
            rmdir(directory)
        }
        mkdir(directory + "/Test", 0o755)
        let bytes = tzif(version: 0x32, times: [], types: [], offsets: [19800], footer: "<+0530>-5:30")
        let fd = open(directory + "/Test/Zone", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let z = try #require(CELTimeZone.named("Test/Zone", databaseDirectory: directory))
        #expect(z.offset(atUTCSeconds: 0) == 19800)
        #expect(CELTimeZone.named("Europe/Paris", databaseDirectory: directory) == nil)
        #expect(CELTimeZone.named("Test", databaseDirectory: directory) == nil)  // a directory
    }
}

struct CELTimeFieldTests {
    @Test("fields in UTC (cel-spec conformance, 2009-02-13T23:31:30Z)")
    func utcFields() {
        #expect(fields(ts("2009-02-13T23:31:30Z"), .utc) == [2009, 1, 13, 12, 5, 43, 23, 31, 30, 0])
    }

    @Test("one nanosecond before the epoch is 1969-12-31 23:59:59.999, a Wednesday")
    func beforeEpoch() {
        #expect(fields(-1, .utc) == [1969, 11, 31, 30, 3, 364, 23, 59, 59, 999])
    }

    @Test("the ends of the Int64 range")
    func rangeEnds() throws {
        #expect(fields(Int64.min, .utc) == [1677, 8, 21, 20, 2, 263, 0, 12, 43, 145])
        #expect(fields(Int64.max, .utc) == [2262, 3, 11, 10, 5, 100, 23, 47, 16, 854])
        #expect(fields(Int64.max, try zone("Europe/Paris")) == [2262, 3, 12, 11, 6, 101, 1, 47, 16, 854])
    }

    @Test("a zone moves the date across midnight and the year")
    func acrossYear() throws {
        let t = ts("2024-12-31T23:30:00Z")
        #expect(fields(t, try zone("Europe/Paris")) == [2025, 0, 1, 0, 3, 0, 0, 30, 0, 0])
        #expect(fields(t, try zone("America/New_York")) == [2024, 11, 31, 30, 2, 365, 18, 30, 0, 0])
    }
}

struct CELTimestampTextTests {
    static let acceptedTimestamps: [(String, Int64)] = [
        ("2009-02-13T23:31:30Z", 1_234_567_890 * second),
        ("2009-02-13T23:31:30.123456789Z", 1_234_567_890 * second + 123_456_789),
        ("2009-02-13T23:31:30.1234567899Z", 1_234_567_890 * second + 123_456_789),  // truncated
        ("2009-02-14T00:31:30+01:00", 1_234_567_890 * second),
        ("2009-02-13T18:01:30-05:30", 1_234_567_890 * second),
        ("2009-02-13T23:31:30-00:00", 1_234_567_890 * second),
        ("2024-02-29T00:00:00Z", 1_709_164_800 * second),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("1677-09-21T00:12:43.145224192Z", Int64.min),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
    ]

    @Test(
        "timestamp(string) accepts strict RFC 3339",
        arguments: Self.acceptedTimestamps)
    func accepted(_ text: String, _ ns: Int64) {
        #expect(CELTime.parseTimestamp(text) == ns)
    }

    @Test(
        "timestamp(string) rejects what cel-go rejects, and our range's outside",
        arguments: [
            "2009-02-13t23:31:30Z", "2009-02-13T23:31:30z", "2009-02-13 23:31:30Z", "2009-02-13T23:31:30",
            "2009-02-13T23:31:60Z", "2009-02-13T24:00:00Z", "2009-02-13T23:60:00Z", "2023-02-29T00:00:00Z",
            "2009-13-01T00:00:00Z", "2009-00-01T00:00:00Z", "2009-02-00T00:00:00Z", "2009-02-13T23:31:30.Z",
            "2009-02-13T23:31:30,5Z", "2009-02-13T23:31:30+24:00", "2009-02-13T23:31:30+01:60",
            "2009-02-13T23:31:30+0100", "2009-02-13T23:31:30+01", "2009-2-13T23:31:30Z", "2009-02-13T23:31:30ZZ",
            " 2009-02-13T23:31:30Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z",
            "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "1677-09-21T00:12:43.145224191Z",
            "2262-04-11T23:47:16.854775808Z", "",
        ])
    func rejected(_ text: String) {
        #expect(CELTime.parseTimestamp(text) == nil)
    }

    static let formattedTimestamps: [(Int64, String)] = [
        (1_234_567_890 * second, "2009-02-13T23:31:30Z"),
        (1_234_567_890 * second + 500_000_000, "2009-02-13T23:31:30.5Z"),
        (1_234_567_890 * second + 120_000_000, "2009-02-13T23:31:30.12Z"),
        (1_234_567_890 * second + 1000, "2009-02-13T23:31:30.000001Z"),
        (1_234_567_890 * second + 123_456_789, "2009-02-13T23:31:30.123456789Z"),
        (1_234_567_890 * second + 100_000_010, "2009-02-13T23:31:30.10000001Z"),
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (Int64.min, "1677-09-21T00:12:43.145224192Z"),
        (Int64.max, "2262-04-11T23:47:16.854775807Z"),
    ]

    @Test(
        "string(timestamp) is RFC 3339 in UTC with the fraction's trailing zeros removed",
        arguments: Self.formattedTimestamps)
    func format(_ ns: Int64, _ text: String) {
        #expect(CELTime.formatTimestamp(ns) == text)
        #expect(CELTime.parseTimestamp(text) == ns)
    }

    @Test("format then parse is the identity (seeded sample)")
    func roundTrip() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var ns = Int64(bitPattern: state)
            switch state >> 62 {
            case 0: ns -= ns % 1_000_000  // milliseconds
            case 1: ns -= ns % second  // whole seconds
            default: break
            }
            #expect(CELTime.parseTimestamp(CELTime.formatTimestamp(ns)) == ns)
            let d = CELTime.formatDuration(ns)
            #expect(CELTime.parseDuration(d) == ns, "\(d)")
        }
    }
}

struct CELDurationTests {
    static let acceptedDurations: [(String, Int64)] = [
        ("0", 0), ("-0", 0), ("+0", 0), ("0s", 0), ("1s", second), ("+1s", second), ("-1s", -second),
        ("1000000s", 1_000_000 * second), ("1h", 3600 * second), ("1m", 60 * second), ("1ms", 1_000_000),
        ("1us", 1000), ("1µs", 1000), ("1μs", 1000), ("1ns", 1), ("1h30m", 5400 * second),
        ("-1.5h", -5400 * second), ("1.5s", 1_500_000_000), ("0.1s", 100_000_000), (".5s", 500_000_000),
        ("1.s", second), ("2h45m30.5s", 9930 * second + 500_000_000), ("1s1s", 2 * second),
        ("1m1h", 3660 * second), ("300ms", 300_000_000), ("0.000000001s", 1), ("0.0000000019s", 1),
        ("1.0000000019s", 1_000_000_001), ("-0.0000000019s", -1), ("0.3333333333333333333333333h", 1_199_999_999_999),
        ("1.23456789123456789123456789ms", 1_234_567), ("0.1h", 360 * second), ("0.01m", 600_000_000),
        ("00001s", second), ("9223372036854775807ns", Int64.max), ("-9223372036854775808ns", Int64.min),
        ("9223372036.854775807s", Int64.max), ("-9223372036.854775808s", Int64.min),
        ("2562047h47m16.854775807s", Int64.max), ("2562047.788015215502h", 9_223_372_036_854_775_807),
    ]

    @Test(
        "duration(string) forms",
        arguments: Self.acceptedDurations)
    func accepted(_ text: String, _ ns: Int64) {
        #expect(CELTime.parseDuration(text) == ns)
    }

    @Test(
        "duration(string) errors: empty, missing or unknown unit, bad numbers, overflow",
        arguments: [
            "", "-", "+", "1", "-1", "1.5", "s", ".s", "-.s", ".", "1.5.5s", "1..5s", "1s.", "1d", "1w", "1H", "1S",
            "1 s", " 1s", "1s ", "1sec", "1hm", "--1s", "+-1s", "1s-1s", "1e3s", "0x10s", "1,5s", "1µ", "1us1",
            "9223372036854775808ns", "-9223372036854775809ns", "9223372036.854775808s", "2562048h",
            "99999999999999999999s", "99999999999999999999ns", "9223372036854775807ns1ns", "320000000000s",
            "-320000000000s",
        ])
    func rejected(_ text: String) {
        #expect(CELTime.parseDuration(text) == nil)
    }

    static let formattedDurations: [(Int64, String)] = [
        (0, "0s"), (second, "1s"), (5400 * second, "5400s"), (1_500_000_000, "1.5s"), (-1_500_000_000, "-1.5s"),
        (1, "0.000000001s"), (-1, "-0.000000001s"), (100_000_000, "0.1s"), (1_000_000_000_001, "1000.000000001s"),
        (1_000_000 * second, "1000000s"), (Int64.max, "9223372036.854775807s"), (Int64.min, "-9223372036.854775808s"),
    ]

    @Test(
        "string(duration) is seconds with the significant fraction digits",
        arguments: Self.formattedDurations)
    func format(_ ns: Int64, _ text: String) {
        #expect(CELTime.formatDuration(ns) == text)
        #expect(CELTime.parseDuration(text) == ns)
    }
}

struct CELTimeArithmeticTests {
    @Test("timestamp and duration arithmetic, nil on overflow")
    func arithmetic() {
        let t = ts("2009-02-13T23:00:00Z")
        #expect(CELTime.add(timestamp: t, duration: 240 * second) == ts("2009-02-13T23:04:00Z"))
        #expect(CELTime.subtract(timestamp: t, duration: 600 * second) == ts("2009-02-13T22:50:00Z"))
        #expect(CELTime.subtract(timestamp: ts("2009-02-13T23:31:00Z"), timestamp: ts("2009-02-13T23:29:00Z")) == 120 * second)
        #expect(CELTime.add(duration: 600 * second, duration: 50 * second) == 650 * second)
        #expect(CELTime.subtract(duration: 900 * second, duration: 42 * second) == 858 * second)
        #expect(CELTime.negate(duration: 5) == -5)

        #expect(CELTime.add(timestamp: Int64.max, duration: 1) == nil)
        #expect(CELTime.add(timestamp: Int64.min, duration: -1) == nil)
        #expect(CELTime.subtract(timestamp: Int64.min, duration: 1) == nil)
        #expect(CELTime.subtract(timestamp: Int64.max, timestamp: -1) == nil)
        #expect(CELTime.subtract(timestamp: Int64.min, timestamp: 1) == nil)
        #expect(CELTime.add(duration: Int64.max, duration: 1) == nil)
        #expect(CELTime.subtract(duration: Int64.min, duration: 1) == nil)
        #expect(CELTime.negate(duration: Int64.min) == nil)
        #expect(CELTime.add(timestamp: Int64.max - 1, duration: 1) == Int64.max)
        #expect(CELTime.subtract(duration: -1, duration: Int64.max) == Int64.min)
    }
}
