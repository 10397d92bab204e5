import Testing

@testable import CairnCore

private func parse(_ text: String) -> Int64? {
    Array(text.utf8).withUnsafeBytes { EventTime.parseRFC3339($0) }
}

private func seconds(_ text: String) -> Int64? {
    Array(text.utf8).withUnsafeBytes { EventTime.parseEpochSeconds($0) }
}

private func millis(_ text: String) -> Int64? {
    Array(text.utf8).withUnsafeBytes { EventTime.parseEpochMilliseconds($0) }
}

private func format(_ ns: Int64) -> String {
    var out = [UInt8](repeating: 0, count: 30)
    let count = out.withUnsafeMutableBytes { EventTime.formatRFC3339(ns, into: $0) }
    return String(decoding: out[0..<count], as: UTF8.self)
}

private let second: Int64 = 1_000_000_000

struct EventTimeTests {
    static let valid: [(String, Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("2024-03-01T11:32:00Z", 1_709_292_720 * second),
        ("2024-03-01T11:32:00.123Z", 1_709_292_720 * second + 123_000_000),
        ("2024-03-01t11:32:00z", 1_709_292_720 * second),
        ("2024-03-01 11:32:00Z", 1_709_292_720 * second),
        ("2024-03-01T17:02:00+05:30", 1_709_292_720 * second),
        ("2024-03-01T06:32:00-05:00", 1_709_292_720 * second),
        ("2024-03-01T11:32:00-00:00", 1_709_292_720 * second),
        ("2024-03-01T11:32:00+00:00", 1_709_292_720 * second),
        ("2024-03-01T00:30:00+23:59", (1_709_164_800 + 31 * 60) * second),
        ("2024-02-29T00:00:00Z", 1_709_164_800 * second),
        ("2000-02-29T00:00:00Z", 951_782_400 * second),
        ("2000-01-01T00:00:00Z", 946_684_800 * second),
        ("1969-12-31T23:59:59Z", -second),
        ("1969-12-31T23:59:59.5Z", -second / 2),
        ("1900-01-01T00:00:00Z", -2_208_988_800 * second),
        ("2024-03-01T11:32:00.1Z", 1_709_292_720 * second + 100_000_000),
        ("2024-03-01T11:32:00.000000001Z", 1_709_292_720 * second + 1),
        ("2024-03-01T11:32:00.123456789123Z", 1_709_292_720 * second + 123_456_789),
        ("1969-12-31T23:59:59.9999999999Z", -1),
        ("1677-09-21T00:12:44Z", -9_223_372_036 * second),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
        ("2024-12-31T23:59:59.999999999Z", 1_735_689_599 * second + 999_999_999),
    ]

    @Test("valid RFC 3339 timestamps parse to nanoseconds")
    func parsesValid() {
        for (text, ns) in Self.valid {
            #expect(parse(text) == ns, "\(text)")
        }
    }

    @Test("a fraction of any length from 1 to 12 digits scales to nanoseconds, with and without the date cache",
          arguments: 1...12)
    func fractionOfEachLength(_ digits: Int) {
        let fraction = String("987654321987".prefix(digits))
        let text = "2024-03-01T11:32:00.\(fraction)Z"
        let nanos = Int64(fraction.prefix(9) + String(repeating: "0", count: max(0, 9 - digits)))!
        #expect(parse(text) == 1_709_292_720 * second + nanos, "\(text)")
        var days = EventTime.DayCache()
        let bytes = Array(text.utf8)
        for _ in 0..<2 {
            let ns = bytes.withUnsafeBytes { EventTime.parseRFC3339($0, days: &days) }
            #expect(ns == 1_709_292_720 * second + nanos, "\(text), cached")
        }
    }

    static let invalid: [String] = [
        "", "2024-03-01", "2024-03-01T11:32:00", "2024-03-01T11:32Z", "2024-03-01T11:32:00ZZ",
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z", "2024-01-32T00:00:00Z", "0000-01-01T00:00:00Z",
        "2024-03-01T24:00:00Z", "2024-03-01T11:60:00Z", "2024-12-31T23:59:60Z",
        "2024-03-01T11:32:00.Z", "2024-03-01T11:32:00+5:30", "2024-03-01T11:32:00+05:60",
        "2024-03-01T11:32:00+24:00", "2024-03-01T11:32:00+0530", "2024-03-01X11:32:00Z",
        "2024/03/01T11:32:00Z", "24-03-01T11:32:00Z", "2024-3-01T11:32:00Z", "+024-03-01T11:32:00Z",
        "2024-03-01T11:32:00.12a3Z", "2024-03-01T11:32:00 Z", "2024-03-01T11:32:00+05:30 ",
        "1677-09-21T00:12:43Z", "2262-04-11T23:47:17Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
    ]

    @Test("invalid or out-of-range timestamps are rejected")
    func rejectsInvalid() {
        for text in Self.invalid {
            #expect(parse(text) == nil, "\(text)")
        }
    }

    @Test("a well-formed time outside the nanosecond range is told apart from a malformed one",
          arguments: [("1500-01-01T00:00:00Z", true), ("9999-12-31T23:59:59Z", true), ("1677-09-21T00:00:00Z", true),
                      ("2262-04-12T00:00:00Z", true), ("1600-02-29T00:00:00Z", true),
                      ("1700-02-29T00:00:00Z", false), ("2023-02-29T00:00:00Z", false), ("0000-01-01T00:00:00Z", false),
                      ("2024-03-01T11:32:00Z", false), ("1500-01-01", false), ("1500-13-01T00:00:00Z", false)])
    func outOfRange(text: String, expected: Bool) {
        #expect(Array(text.utf8).withUnsafeBytes { EventTime.isOutOfRange($0) } == expected)
    }

    @Test("format writes the shortest exact fraction of 0, 3, 6 or 9 digits")
    func formats() {
        #expect(format(0) == "1970-01-01T00:00:00Z")
        #expect(format(1_709_292_720 * second) == "2024-03-01T11:32:00Z")
        #expect(format(1_709_292_720 * second + 500_000_000) == "2024-03-01T11:32:00.500Z")
        #expect(format(1_709_292_720 * second + 123_400_000) == "2024-03-01T11:32:00.123400Z")
        #expect(format(1_709_292_720 * second + 1) == "2024-03-01T11:32:00.000000001Z")
        #expect(format(-1) == "1969-12-31T23:59:59.999999999Z")
        #expect(format(-second) == "1969-12-31T23:59:59Z")
        #expect(format(Int64.max) == "2262-04-11T23:47:16.854775807Z")
        #expect(format(Int64.min) == "1677-09-21T00:12:43.145224192Z")
        #expect(format(Int64.min).utf8.count == 30)
        #expect(format(1_709_164_800 * second) == "2024-02-29T00:00:00Z")
    }

    @Test("format inverts parse for canonical timestamps")
    func roundTrips() {
        let canonical = [
            "1970-01-01T00:00:00Z", "2024-02-29T23:59:59.999Z", "2000-02-29T12:00:00.000001Z",
            "1969-07-20T20:17:40Z", "1900-03-01T00:00:00.123456789Z", "2100-02-28T00:00:00Z",
            "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z",
        ]
        for text in canonical {
            #expect(parse(text).map(format) == text, "\(text)")
        }
        // Every day across several leap cycles survives format → parse.
        var day: Int64 = -40_000
        while day < 40_000 {
            let ns = day * 86_400 * second + 3_723 * second
            #expect(parse(format(ns)) == ns)
            day += 7
        }
    }

    @Test("epoch seconds and milliseconds convert exactly, fractions included")
    func epochNumbers() {
        #expect(seconds("1709292720") == 1_709_292_720 * second)
        #expect(seconds("1709292720.25") == 1_709_292_720 * second + 250_000_000)
        #expect(seconds("1709292720.123456789") == 1_709_292_720 * second + 123_456_789)
        #expect(seconds("1709292720.1234567891") == 1_709_292_720 * second + 123_456_789)
        #expect(seconds("1.70929272e9") == 1_709_292_720 * second)
        #expect(seconds("1.70929272E+9") == 1_709_292_720 * second)
        #expect(seconds("17092927200e-1") == 1_709_292_720 * second)
        #expect(seconds("0") == 0)
        #expect(seconds("-0") == 0)
        #expect(seconds("0.000000001") == 1)
        #expect(seconds("-1") == -second)
        #expect(seconds("-1.5") == -3 * second / 2)
        #expect(seconds("-0.0000000001") == -1, "sub-nanosecond digits round toward the earlier instant")
        #expect(seconds("0.0000000001") == 0)
        #expect(seconds("-2208988800") == -2_208_988_800 * second)
        #expect(seconds("9223372036.854775807") == Int64.max)
        #expect(seconds("-9223372036.854775808") == Int64.min)
        #expect(seconds("9223372036.854775808") == nil)
        #expect(seconds("-9223372036.854775809") == nil)
        #expect(seconds("1e10") == nil)
        #expect(seconds("1e400") == nil)
        #expect(seconds("1e-400") == 0)
        #expect(seconds("0e999999999") == 0)
        for bad in ["", "-", "abc", "1.", ".5", "01", "+1", "1e", "1x", "NaN", "Infinity", " 1"] {
            #expect(seconds(bad) == nil, "\(bad)")
        }
        #expect(millis("1709292720250") == 1_709_292_720 * second + 250_000_000)
        #expect(millis("1709292720250.5") == 1_709_292_720 * second + 250_500_000)
        #expect(millis("-1") == -1_000_000)
        #expect(millis("1.5e3") == 1_500_000_000)
        #expect(millis("9223372036854.775807") == Int64.max)
        #expect(millis("9223372036855") == nil)
    }
}
