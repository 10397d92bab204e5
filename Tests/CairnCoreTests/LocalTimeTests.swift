import Testing

@testable import CairnCore

// Expected instants were computed with Python's zoneinfo over the system tz database (a
// brute-force reference: every candidate local time converted with fold=0 and fold=1 and
// kept when it converts back, gap ends found by bisection on the wall clock), checked by
// hand against the tz rules, and pinned here; the tests do not call Python.

private let second: Int64 = 1_000_000_000

/// The instant of an RFC 3339 text, through the strict CEL parser.
private func ts(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> Int64 {
    guard let ns = CELTime.parseTimestamp(text) else {
        Issue.record("test timestamp \(text) does not parse", sourceLocation: sourceLocation)
        return 0
    }
    return ns
}

/// A zone from the system database. Fails the test (never skips) when the database is
/// missing: CI installs tzdata.
private func zone(_ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> CELTimeZone {
    try #require(CELTimeZone.named(name), "time zone \(name) not loaded; is tzdata installed?", sourceLocation: sourceLocation)
}

/// Minutes after midnight of "HH:MM".
private func hm(_ h: Int, _ m: Int) -> Int { h * 60 + m }

private let mon: UInt8 = 1 << 0
private let fri: UInt8 = 1 << 4
private let all = LocalTime.everyDay

@Suite("local time")
struct LocalTimeTests {
    // MARK: wallClock

    static let wallClocks: [(String, String, Int, Int)] = [
        // instant, zone, minute, weekday (0 = Monday)
        ("2024-03-01T10:15:30Z", "UTC", 615, 4),  // Friday 10:15
        ("2024-03-01T20:00:00Z", "Asia/Kolkata", 90, 5),  // Saturday 01:30 +05:30
        ("2024-07-04T03:00:00Z", "America/Los_Angeles", 1200, 2),  // Wednesday 20:00 PDT
        ("1950-06-15T12:34:56Z", "America/New_York", 514, 3),  // Thursday 08:34:56 EDT
        ("1960-01-01T00:00:00Z", "Asia/Tokyo", 540, 4),  // Friday 09:00 JST
        ("1900-01-01T00:00:00Z", "Europe/Paris", 9, 0),  // Monday 00:09:21 PMT (+00:09:21)
        ("1900-01-01T00:00:00Z", "America/New_York", 1140, 6),  // Sunday 1899-12-31 19:00 EST
        ("1969-12-31T23:59:59Z", "UTC", 1439, 2),  // Wednesday
    ]

    @Test("wall clock in UTC, positive and negative offsets, before 1970", arguments: Self.wallClocks)
    func wallClock(_ instant: String, _ zoneName: String, _ minute: Int, _ weekday: Int) throws {
        let z = try zone(zoneName)
        let got = LocalTime.wallClock(at: ts(instant), in: z)
        #expect(got.minute == minute)
        #expect(got.weekday == weekday)
    }

    @Test("wall clock one nanosecond before the epoch is Wednesday 23:59")
    func wallClockBeforeEpoch() {
        let got = LocalTime.wallClock(at: -1, in: .utc)
        #expect(got.minute == 1439 && got.weekday == 2)
        let start = LocalTime.wallClock(at: 0, in: .utc)
        #expect(start.minute == 0 && start.weekday == 3)
    }

    @Test("wall clock at the ends of the Int64 range")
    func wallClockExtremes() throws {
        // 1677-09-21T00:12:43.145224192Z (Tuesday) and 2262-04-11T23:47:16.854775807Z (Friday).
        #expect(LocalTime.wallClock(at: .min, in: .utc) == (minute: 12, weekday: 1))
        #expect(LocalTime.wallClock(at: .max, in: .utc) == (minute: 1427, weekday: 4))
        let newYork = try zone("America/New_York")
        // LMT -4:56:02 in 1677: 1677-09-20 19:16:41.
        #expect(LocalTime.wallClock(at: .min, in: newYork) == (minute: 1156, weekday: 0))
    }

    // MARK: next

    static let nexts: [(String, String, Int, UInt8, String)] = [
        // what, zone, minute, days, from -> expected
        ("later the same day", "Europe/Berlin", hm(9, 0), all, "2024-06-12T05:00:00Z|2024-06-12T07:00:00Z"),
        ("exactly at the minute", "Europe/Berlin", hm(9, 0), all, "2024-06-12T07:00:00Z|2024-06-12T07:00:00Z"),
        ("a second past the minute", "Europe/Berlin", hm(9, 0), all, "2024-06-12T07:00:01Z|2024-06-13T07:00:00Z"),
        ("a nanosecond past the minute", "Europe/Berlin", hm(9, 0), all,
         "2024-06-12T07:00:00.000000001Z|2024-06-13T07:00:00Z"),
        ("the next day", "Europe/Berlin", hm(9, 0), all, "2024-06-12T08:00:00Z|2024-06-13T07:00:00Z"),
        ("Friday 18:00 asking for Monday 09:00", "America/New_York", hm(9, 0), mon,
         "2024-06-14T22:00:00Z|2024-06-17T13:00:00Z"),
        ("Friday 18:00 asking for Monday or Friday 09:00", "America/New_York", hm(9, 0), mon | fri,
         "2024-06-14T22:00:00Z|2024-06-17T13:00:00Z"),
        ("Friday 08:00 asking for Monday or Friday 09:00", "America/New_York", hm(9, 0), mon | fri,
         "2024-06-14T12:00:00Z|2024-06-14T13:00:00Z"),
        ("02:30 in the New York gap is 03:00 EDT", "America/New_York", hm(2, 30), all,
         "2024-03-10T05:00:00Z|2024-03-10T07:00:00Z"),
        ("02:30 in the Berlin gap is 03:00 CEST", "Europe/Berlin", hm(2, 30), all,
         "2024-03-30T23:00:00Z|2024-03-31T01:00:00Z"),
        ("exactly at the gap end", "America/New_York", hm(2, 30), all, "2024-03-10T07:00:00Z|2024-03-10T07:00:00Z"),
        ("just past the gap end: the next day's 02:30", "America/New_York", hm(2, 30), all,
         "2024-03-10T07:00:01Z|2024-03-11T06:30:00Z"),
        ("01:30 in the New York overlap is the first, EDT", "America/New_York", hm(1, 30), all,
         "2024-11-03T04:00:00Z|2024-11-03T05:30:00Z"),
        ("past the first 01:30: the second, EST", "America/New_York", hm(1, 30), all,
         "2024-11-03T05:30:01Z|2024-11-03T06:30:00Z"),
        ("in the second pass before 01:30: 01:30 EST", "America/New_York", hm(1, 30), all,
         "2024-11-03T06:10:00Z|2024-11-03T06:30:00Z"),
        ("Havana's two midnights: the second after the first", "America/Havana", 0, all,
         "2024-11-03T04:30:00Z|2024-11-03T05:00:00Z"),
        ("Sydney's gap at 02:00 is 03:00 AEDT", "Australia/Sydney", hm(2, 0), all,
         "2024-10-05T15:00:00Z|2024-10-05T16:00:00Z"),
        ("before 1970, Kolkata", "Asia/Kolkata", hm(9, 0), all, "1950-01-01T00:00:00Z|1950-01-01T03:30:00Z"),
        ("before 1900, Paris mean time", "Europe/Paris", hm(9, 0), all, "1890-06-01T12:00:00Z|1890-06-02T08:50:39Z"),
        // Alaska turned its clocks back a day (+15:02:19 to -8:57:41) at 1867-10-19T00:31:13Z:
        // from Oct 19 15:03 local, the next 16:00 is Oct 18's, which comes round again.
        ("Juneau 1867: yesterday's 16:00 comes round again", "America/Juneau", hm(16, 0), all,
         "1867-10-19T00:01:13Z|1867-10-19T00:57:41Z"),
        ("Juneau 1867: yesterday's 15:00 does not", "America/Juneau", hm(15, 0), all,
         "1867-10-19T00:01:13Z|1867-10-19T23:57:41Z"),
        // Samoa skipped Friday 2011-12-30 (-10:00 to +14:00 at 2011-12-30T10:00:00Z).
        ("Apia skipped a Friday: its 09:00 is the gap end", "Pacific/Apia", hm(9, 0), fri,
         "2011-12-29T22:00:00Z|2011-12-30T10:00:00Z"),
    ]

    @Test("next local time of day", arguments: Self.nexts)
    func next(_ what: String, _ zoneName: String, _ minute: Int, _ days: UInt8, _ fromTo: String) throws {
        let z = try zone(zoneName)
        let parts = fromTo.split(separator: "|").map(String.init)
        let got = LocalTime.next(minute: minute, days: days, atOrAfter: ts(parts[0]), in: z)
        #expect(got == ts(parts[1]), "\(what)")
    }

    @Test("next with no days is nil; bit 7 is ignored")
    func nextNoDays() throws {
        let berlin = try zone("Europe/Berlin")
        #expect(LocalTime.next(minute: 540, days: 0, atOrAfter: 0, in: berlin) == nil)
        #expect(LocalTime.next(minute: 540, days: 0x80, atOrAfter: 0, in: berlin) == nil)
        #expect(LocalTime.next(minute: 540, days: 0xFF, atOrAfter: 0, in: .utc) == 9 * 3600 * second)
    }

    @Test("next past the end of the range saturates")
    func nextSaturates() {
        // 2262-04-11T23:47:16Z: the next 23:50 is past Int64.max; 23:47 today is behind.
        #expect(LocalTime.next(minute: hm(23, 50), days: all, atOrAfter: .max - second, in: .utc) == .max)
        let lastWhole: Int64 = 9_223_372_020 * second  // 2262-04-11T23:47:00Z
        let got = LocalTime.next(minute: hm(23, 47), days: all, atOrAfter: .max - 17 * second, in: .utc)
        #expect(got == lastWhole, "\(String(describing: got)) \(lastWhole)")
        // 1677-09-21T00:12:43Z: the first 00:13 is representable.
        #expect(LocalTime.next(minute: hm(0, 13), days: all, atOrAfter: .min, in: .utc) == .min + 16_854_775_808)
    }

    // MARK: quietEnd

    static let quiets: [(String, String, Int, Int, String, String?)] = [
        // what, zone, start, end, at, expected end (nil: not quiet)
        ("inside, before midnight", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-12T20:00:00Z", "2024-06-13T06:00:00Z"),
        ("inside, after midnight", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-13T01:00:00Z", "2024-06-13T06:00:00Z"),
        ("exactly at the start", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-12T19:00:00Z", "2024-06-13T06:00:00Z"),
        ("exactly at the end", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-13T06:00:00Z", nil),
        ("a nanosecond before the end", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-13T05:59:59.999999999Z",
         "2024-06-13T06:00:00Z"),
        ("a nanosecond before the start", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-12T18:59:59.999999999Z", nil),
        ("outside", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-06-12T12:00:00Z", nil),
        ("the night summer time ends: 08:00 CET", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-10-26T20:00:00Z",
         "2024-10-27T07:00:00Z"),
        ("the night summer time starts in New York: 08:00 EDT", "America/New_York", hm(21, 0), hm(8, 0),
         "2024-03-10T02:00:00Z", "2024-03-10T12:00:00Z"),
        ("in the repeated hour", "Europe/Berlin", hm(21, 0), hm(8, 0), "2024-10-27T01:30:00Z", "2024-10-27T07:00:00Z"),
        ("not wrapping, inside", "Europe/Berlin", hm(13, 0), hm(14, 0), "2024-06-12T11:30:00Z", "2024-06-12T12:00:00Z"),
        ("not wrapping, at the start", "Europe/Berlin", hm(13, 0), hm(14, 0), "2024-06-12T11:00:00Z", "2024-06-12T12:00:00Z"),
        ("not wrapping, at the end", "Europe/Berlin", hm(13, 0), hm(14, 0), "2024-06-12T12:00:00Z", nil),
        ("not wrapping, before", "Europe/Berlin", hm(13, 0), hm(14, 0), "2024-06-12T10:59:00Z", nil),
        ("an end in the gap: the gap end", "America/New_York", 0, hm(2, 30), "2024-03-10T06:30:00Z", "2024-03-10T07:00:00Z"),
        ("a window starting in the gap: the next day's end", "America/New_York", hm(2, 45), hm(2, 30),
         "2024-03-10T06:30:00Z", "2024-03-11T06:30:00Z"),
        ("at the gap end, inside a window starting in the gap", "America/New_York", hm(2, 45), hm(2, 30),
         "2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"),
        ("start == end is empty", "Europe/Berlin", hm(8, 0), hm(8, 0), "2024-06-12T06:00:00Z", nil),
        ("before 1970", "America/New_York", hm(21, 0), hm(8, 0), "1950-06-15T03:00:00Z", "1950-06-15T12:00:00Z"),
    ]

    @Test("quiet hours and when they end", arguments: Self.quiets)
    func quietEnd(_ what: String, _ zoneName: String, _ start: Int, _ end: Int, _ at: String, _ expected: String?) throws {
        let z = try zone(zoneName)
        let got = LocalTime.quietEnd(start: start, end: end, at: ts(at), in: z)
        #expect(got == expected.map { ts($0) }, "\(what)")
    }

    // MARK: calendarStart

    static let starts: [(String, String, Int, String, String)] = [
        // what, zone, days, at, expected
        ("today", "Europe/Berlin", 1, "2024-06-12T20:00:00Z", "2024-06-11T22:00:00Z"),
        ("seven days", "Europe/Berlin", 7, "2024-06-12T20:00:00Z", "2024-06-05T22:00:00Z"),
        ("seven days across the spring change", "Europe/Berlin", 7, "2024-04-02T10:00:00Z", "2024-03-26T23:00:00Z"),
        ("Santiago has no midnight on 2024-09-08: 01:00 -03", "America/Santiago", 1, "2024-09-08T12:00:00Z",
         "2024-09-08T04:00:00Z"),
        ("Havana has no midnight on 2024-03-10: 01:00 CDT", "America/Havana", 1, "2024-03-10T12:00:00Z",
         "2024-03-10T05:00:00Z"),
        ("Beirut has no midnight on 2024-03-31: 01:00 EEST", "Asia/Beirut", 1, "2024-03-31T12:00:00Z",
         "2024-03-30T22:00:00Z"),
        ("Havana has two midnights on 2024-11-03: the first", "America/Havana", 1, "2024-11-03T12:00:00Z",
         "2024-11-03T04:00:00Z"),
        ("Santiago's repeated 23:00 hour still belongs to 2024-04-06", "America/Santiago", 1, "2024-04-07T03:30:00Z",
         "2024-04-06T03:00:00Z"),
        ("after Santiago's repeated hour", "America/Santiago", 1, "2024-04-07T04:30:00Z", "2024-04-07T04:00:00Z"),
        ("Juneau 1867: the repeated day starts at its first midnight", "America/Juneau", 1, "1867-10-19T00:32:13Z",
         "1867-10-17T08:57:41Z"),
        ("Apia's skipped day starts when the next one does", "Pacific/Apia", 2, "2011-12-31T00:00:00Z",
         "2011-12-30T10:00:00Z"),
        ("before 1970, UTC", "UTC", 1, "1960-05-05T10:00:00Z", "1960-05-05T00:00:00Z"),
        ("before 1970, New York", "America/New_York", 2, "1950-06-15T12:34:56Z", "1950-06-14T04:00:00Z"),
    ]

    @Test("calendar-day window starts", arguments: Self.starts)
    func calendarStart(_ what: String, _ zoneName: String, _ days: Int, _ at: String, _ expected: String) throws {
        let z = try zone(zoneName)
        #expect(LocalTime.calendarStart(days: days, at: ts(at), in: z) == ts(expected), "\(what)")
    }

    @Test("calendar start before the range saturates")
    func calendarStartSaturates() {
        #expect(LocalTime.calendarStart(days: 1, at: .min, in: .utc) == .min)
        #expect(LocalTime.calendarStart(days: 2, at: .min + 86_400 * second, in: .utc) == .min)
        #expect(LocalTime.calendarStart(days: .max, at: 0, in: .utc) == .min)
        #expect(LocalTime.calendarStart(days: 1, at: -1, in: .utc) == -86_400 * second)
    }

    // MARK: ZoneCache

    @Test("zone cache: known and unknown names, misses remembered")
    func zoneCache() throws {
        let cache = ZoneCache()
        let berlin = try zone("Europe/Berlin")
        #expect(lookup(cache, "Europe/Berlin") == berlin)
        #expect(lookup(cache, "Europe/Berlin")?.offset(atUTCSeconds: ts("2024-06-12T00:00:00Z") / second) == 7200)
        #expect(cache.count == 1)
        #expect(lookup(cache, "Mars/Olympus_Mons") == nil)
        #expect(lookup(cache, "Mars/Olympus_Mons") == nil)
        #expect(cache.count == 2)
        #expect(lookup(cache, "UTC") == .utc)
        #expect(lookup(cache, "+05:30")?.offset(atUTCSeconds: 0) == 19_800)
        #expect(lookup(cache, "../../etc/passwd") == nil)
        #expect(lookup(cache, "") == nil)
        #expect(lookup(cache, String(repeating: "A", count: 300)) == nil)
        // Not UTF-8: never a zone, even when it decodes to something close.
        let bad: [UInt8] = [0x45, 0x75, 0xFF, 0x6F]
        #expect(bad.withUnsafeBytes { cache.zone(named: $0) } == nil)
        #expect(bad.withUnsafeBytes { cache.zone(named: $0) } == nil)
    }

    @Test("zone cache: a name that prefixes another, and equal hashes' neighbours")
    func zoneCachePrefixes() throws {
        let cache = ZoneCache()
        #expect(lookup(cache, "America/Indiana/Indianapolis")?.name == "America/Indiana/Indianapolis")
        #expect(lookup(cache, "America/Indiana") == nil)  // a directory
        #expect(lookup(cache, "America/Indiana/Indianapolis")?.name == "America/Indiana/Indianapolis")
        #expect(lookup(cache, "America/Indiana") == nil)
    }

    @Test("zone cache grows and keeps every name")
    func zoneCacheGrows() {
        let cache = ZoneCache(capacity: 1000)
        var names: [String] = []
        for h in 0..<24 {
            for m in stride(from: 0, to: 60, by: 3) {
                names.append((h % 2 == 0 ? "+" : "-") + twoDigits(h) + ":" + twoDigits(m))
            }
        }
        for name in names { _ = lookup(cache, name) }
        #expect(cache.count == names.count)
        for name in names {
            let expected = CELTimeZone.fixedOffset(Array(name.utf8))
            #expect(lookup(cache, name)?.offset(atUTCSeconds: 0) == expected, "\(name)")
        }
        #expect(cache.count == names.count)
    }

    @Test("zone cache at capacity still answers, without remembering")
    func zoneCacheCapacity() throws {
        let one = ZoneCache(capacity: 1)
        let berlin = try zone("Europe/Berlin")
        let newYork = try zone("America/New_York")
        #expect(lookup(one, "Europe/Berlin") == berlin)
        #expect(lookup(one, "America/New_York") == newYork)
        #expect(lookup(one, "Nowhere/Land") == nil)
        #expect(lookup(one, "America/New_York") == newYork)
        #expect(lookup(one, "Europe/Berlin") == berlin)
        #expect(one.count == 1)
        let none = ZoneCache(capacity: 0)
        #expect(lookup(none, "Europe/Berlin") == berlin)
        #expect(none.count == 0)
    }

    // MARK: Properties

    /// Zones of both hemispheres, one with changes at midnight (Santiago).
    static let propertyZones = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago"]

    @Test("property: next, quietEnd and calendarStart against the wall clock", arguments: Self.propertyZones)
    func properties(_ zoneName: String) throws {
        let z = try zone(zoneName)
        var rng = SplitMix(seed: 0x5EED_0000 &+ UInt64(zoneName.utf8.count))
        let from = ts("1900-01-01T00:00:00Z") / second
        let to = ts("2100-01-01T00:00:00Z") / second
        let transitions = try #require(z.rules?.transitions.filter { $0 > from && $0 < to })
        for k in 0..<1500 {
            // Half the instants near a transition, the target minute near the changed hour.
            var t: Int64
            var minute: Int
            if k % 2 == 0 || transitions.isEmpty {
                t = Int64.random(in: from..<to, using: &rng)
                minute = Int.random(in: 0..<1440, using: &rng)
            } else {
                let transition = transitions[Int.random(in: 0..<transitions.count, using: &rng)]
                t = transition + Int64.random(in: -86_400...86_400, using: &rng)
                let before = LocalTime.wallClock(at: (transition - 1) * second, in: z).minute
                minute = (before + Int.random(in: -30...150, using: &rng) + 1440) % 1440
            }
            let ns = t * second + (k % 3 == 0 ? Int64.random(in: 0..<second, using: &rng) : 0)
            let days: UInt8 = k % 4 == 0 ? UInt8.random(in: 1...0x7F, using: &rng) : all
            try checkNext(z, minute: minute, days: days, from: ns)

            var start = Int.random(in: 0..<1440, using: &rng)
            let end = Int.random(in: 0..<1440, using: &rng)
            if k % 2 == 1 { start = (minute + 1440 - Int.random(in: 1...600, using: &rng)) % 1440 }
            try checkQuiet(z, start: start, end: start == end ? (end + 1) % 1440 : end, at: ns)
            try checkCalendarStart(z, days: Int.random(in: 1...10, using: &rng), at: ns)
        }
    }

    // MARK: Property checks

    /// `next` against its definition, by walking the local clock over [ns, result).
    private func checkNext(_ z: CELTimeZone, minute: Int, days: UInt8, from ns: Int64) throws {
        let got = try #require(LocalTime.next(minute: minute, days: days, atOrAfter: ns, in: z))
        let context = "next(\(minute), \(days)) from \(ns) in \(z.name) = \(got)"
        #expect(got >= ns, "\(context)")
        let u = got / second
        #expect(u * second == got, "\(context): not a whole second")
        let wall = LocalTime.wallClock(at: got, in: z)
        if wall.minute == minute && local(u, z) % 60 == 0 {
            #expect(days & (1 << UInt8(wall.weekday)) != 0, "\(context): weekday \(wall.weekday)")
        } else {
            // A gap end: the local clock jumps over the target at `u`, on a matching day.
            let skipped = targetIn(local(u - 1, z) + 1, local(u, z), minute: minute, days: days)
            #expect(skipped != nil, "\(context): neither the minute nor a gap end")
        }
        // No instant in [ns, got) shows the target on a matching day.
        let (whole, fraction) = floorDivide(ns, second)
        let first = fraction == 0 ? whole : whole + 1
        for (a, b) in segments(z, from: first, to: u) {
            let offset = Int64(z.offset(atUTCSeconds: a))
            let hit = targetIn(a + offset, b + offset, minute: minute, days: days)
            #expect(hit == nil, "\(context): the target already at \(hit.map { $0 - offset } ?? 0)")
            // Nor does a gap between segments skip it.
            if b < u {
                let gap = targetIn(b - 1 + offset + 1, local(b, z), minute: minute, days: days)
                #expect(gap == nil, "\(context): an earlier gap end at \(b)")
            }
        }
    }

    private func checkQuiet(_ z: CELTimeZone, start: Int, end: Int, at ns: Int64) throws {
        let quiet = LocalTime.isQuiet(LocalTime.wallClock(at: ns, in: z).minute, start: start, end: end)
        let got = LocalTime.quietEnd(start: start, end: end, at: ns, in: z)
        let context = "quietEnd(\(start), \(end)) at \(ns) in \(z.name) = \(String(describing: got))"
        guard let got else {
            #expect(!quiet, "\(context)")
            return
        }
        #expect(quiet, "\(context)")
        #expect(got > ns, "\(context)")
        #expect(!LocalTime.isQuiet(LocalTime.wallClock(at: got, in: z).minute, start: start, end: end), "\(context)")
    }

    private func checkCalendarStart(_ z: CELTimeZone, days: Int, at ns: Int64) throws {
        let got = LocalTime.calendarStart(days: days, at: ns, in: z)
        let context = "calendarStart(\(days)) at \(ns) in \(z.name) = \(got)"
        let today = LocalTime.localDay(at: ns, in: z).day
        #expect(got <= ns, "\(context)")
        #expect(got % second == 0, "\(context)")
        // The first second of the local day `days - 1` before today.
        #expect(LocalTime.localDay(at: got, in: z).day == today - Int64(days - 1), "\(context)")
        #expect(LocalTime.localDay(at: got - second, in: z).day < today - Int64(days - 1), "\(context)")
    }

    /// Local seconds since 1970-01-01T00:00 local at UTC second `u`.
    private func local(_ u: Int64, _ z: CELTimeZone) -> Int64 {
        u + Int64(z.offset(atUTCSeconds: u))
    }

    /// The first local second in [low, high) that is `minute`:00 on a day in `days`, if any.
    private func targetIn(_ low: Int64, _ high: Int64, minute: Int, days: UInt8) -> Int64? {
        let target = Int64(minute) * 60
        var x = low + (((target - low) % 86_400) + 86_400) % 86_400
        while x < high {
            let day = (x - target) / 86_400
            let weekday = Int((((day + 3) % 7) + 7) % 7)
            if days & (1 << UInt8(weekday)) != 0 { return x }
            x += 86_400
        }
        return nil
    }

    /// [from, to) cut where the zone's offset changes: found by sampling every 20 minutes and
    /// bisecting each change (no zone changes twice within 20 minutes).
    private func segments(_ z: CELTimeZone, from: Int64, to: Int64) -> [(Int64, Int64)] {
        var result: [(Int64, Int64)] = []
        var start = from
        var probe = from
        while probe < to {
            let next = min(probe + 1200, to)
            let offset = z.offset(atUTCSeconds: probe)
            if z.offset(atUTCSeconds: next) != offset {
                // Invariant: the offset at low is `offset`, at high it is not.
                var low = probe
                var high = next
                while high - low > 1 {
                    let middle = low + (high - low) / 2
                    if z.offset(atUTCSeconds: middle) == offset { low = middle } else { high = middle }
                }
                result.append((start, high))
                start = high
            }
            probe = next
        }
        if start < to { result.append((start, to)) }
        return result
    }
}

private func lookup(_ cache: ZoneCache, _ name: String) -> CELTimeZone? {
    Array(name.utf8).withUnsafeBytes { cache.zone(named: $0) }
}

private func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
