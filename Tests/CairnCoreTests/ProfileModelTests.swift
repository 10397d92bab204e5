import Testing
@testable import CairnCore

private let second: Int64 = 1_000_000_000
private let bucket: Int64 = 10 * second
/// The main window: 8 buckets of 10 s.
private let window: Int64 = 8 * bucket
private let ttl: Int64 = 200 * second

/// Fields of every kind, windowed and not, with `where`, `minus`, defaults and small windows
/// (8 × 10 s, 3 × 7 s, 2 × 25 s, 1 × 10 s) so that events cross bucket boundaries often.
private let pipeline: [ModelField] = [
    .count("count_buy", "type == 'buy'"),
    .count("open_w", "type == 'buy'", minus: "type == 'ret'", window: (8, bucket)),
    .count("both", "has(event.n)", minus: "type == 'ret'"),
    .count("both_w3", "type != 'view'", minus: "type == 'ret'", window: (3, 7 * second)),
    .of(.sum, "sum_n", "event.n", where: "type == 'buy'"),
    .of(.sum, "sum_i", "int(event.i)"),
    .of(.sum, "sum_i_w", "int(event.i)", window: (8, bucket), default: .int(7)),
    .of(.sum, "sum_d_w", "event.n", where: "type != 'view'", window: (8, bucket), default: .double(1.5)),
    .of(.sum, "sum_n_w1", "event.n", window: (1, bucket)),
    .of(.avg, "avg_n", "event.n"),
    .of(.avg, "avg_w", "event.n", where: "type == 'buy'", window: (8, bucket), default: .int(0)),
    .of(.min, "min_v", "event.v"),
    .of(.max, "max_v_w", "event.v", where: "type == 'buy'", window: (8, bucket), default: .string("none")),
    .of(.min, "min_mix_w", "has(event.d) ? duration(event.d) : (type == 'view' ? time : event.v)", window: (2, 25 * second)),
    .of(.max, "max_t", "time", where: "type == 'ret'"),
    .of(.max, "max_n_w3", "event.n", window: (3, 7 * second), default: .null),
    .of(.last, "last_v", "event.v", default: .string("caf\u{e9} \"none\"")),
    .of(.last, "last_v_w", "event.v", where: "type != 'view'", window: (8, bucket)),
    .of(.last, "last_t_w1", "time", window: (1, bucket)),
    .of(.first, "first_v", "event.v"),
    .of(.first, "first_v_w", "event.v", window: (8, bucket), default: .int(0)),
    .of(.first, "first_n_w3", "event.n", where: "type == 'buy'", window: (3, 7 * second)),
    .of(.distinct, "dist_v", "event.v", capacity: 64),
    .of(.distinct, "dist_v_w", "event.v", window: (8, bucket), capacity: 64),
    .of(.distinct, "dist_small_w", "event.v", window: (8, bucket), capacity: 4),
    .of(.distinct, "dist_small", "event.v", capacity: 4),
    .of(.distinct, "dist_mix_w", "type == 'buy' ? int(event.i) : event.n", window: (3, 7 * second), capacity: 32),
    // Strings from the program's constants and from the scratch arena, lists and maps built
    // by the expression (rendered to JSON text when stored).
    .of(.max, "max_s", "type + '/' + string(int(event.i))"),
    .of(.last, "last_const_w", "type == 'buy' ? 'bought' : event.v", window: (8, bucket)),
    .of(.first, "first_map_w", "{'n': event.n}", window: (2, 25 * second)),
    .of(.last, "last_list", "[event.n, int(event.i)]"),
    .of(.distinct, "dist_s_w", "type + string(int(event.i))", window: (8, bucket), capacity: 16),
]

/// A second pipeline: windows of 2 to 5 buckets of 1 to 5 s (shorter than most steps of the
/// stream, so that windows empty and refill), capacities of 2 and 3, and values of the kinds
/// the main pipeline lacks: uints next to ints and doubles, bytes (which no aggregate keeps),
/// timestamps next to durations in one aggregate.
private let smallPipeline: [ModelField] = {
    let mixed = "event.i > 3 ? uint(event.i) : (event.i > 1 ? int(event.i) - 3 : event.n)"
    return [
        .count("c", "true", minus: "type == 'ret'", window: (2, 3 * second)),
        .of(.min, "mn", "event.v", window: (2, 3 * second)),
        .of(.max, "mx", "event.v", window: (5, second), default: .int(3)),
        .of(.first, "f", "event.v", window: (2, 3 * second)),
        .of(.last, "l", "event.v", window: (2, 3 * second)),
        .of(.distinct, "d2", "event.v", window: (3, 2 * second), capacity: 2),
        .of(.distinct, "d3", "event.v", capacity: 3),
        .of(.avg, "a", "event.n", window: (2, 3 * second), default: .string("none")),
        .of(.sum, "su", "uint(event.i)", window: (4, 5 * second)),
        .of(.sum, "sx", "type == 'buy' ? int(event.i) : event.n", default: .int(0)),
        .of(.min, "mu", mixed, window: (2, 3 * second)),
        .of(.max, "mxu", mixed),
        .of(.distinct, "du", mixed, window: (2, 3 * second), capacity: 8),
        .of(.last, "lu", "event.i > 3 ? uint(event.i) : (event.i > 1 ? dyn(b'x') : event.v)", window: (2, 3 * second)),
        .of(.first, "fb", "event.i > 1 ? dyn(b'x') : event.v"),
        .of(.max, "mts", "event.i > 3 ? dyn(timestamp(int(event.n))) : dyn(duration(string(int(event.i)) + 's'))",
            window: (2, 3 * second)),
    ]
}()

/// A third pipeline: ring widths of 2, 4, 6 and 10 s, all multiples of the narrowest, so that
/// a customer's clock moves without a pass over the rings while its events share a 2 s bucket
/// (`ProfileEngine.sameBucket`); a windowed `last` of 1 s buckets, which no ring is, beside.
private let multiplesPipeline: [ModelField] = [
    .count("c2", "type == 'buy'", minus: "type == 'ret'", window: (3, 2 * second)),
    .count("c6", "true", window: (4, 6 * second)),
    .of(.sum, "s4", "event.n", where: "type != 'view'", window: (5, 4 * second), default: .double(0.5)),
    .of(.max, "m10", "event.v", window: (2, 10 * second)),
    .of(.first, "f4", "event.v", window: (3, 4 * second)),
    .of(.distinct, "d6", "event.v", window: (2, 6 * second), capacity: 4),
    .of(.last, "l1", "event.v", window: (3, second)),
    .of(.avg, "a", "event.n", where: "type == 'buy'", default: .int(0)),
]

/// Values of `v`: numbers (1, 1.0 and 1e0 are one value), strings with and without escapes,
/// inline (up to 13 bytes) and in the arena, null, booleans, lists and maps.
private let values: [String] = [
    "1", "1.0", "1e0", "2", "-3", "0", "-0", "2.5", "100", "-0.25",
    #""a""#, #""b""#, #""zz""#, #""""#, #""café""#, #""caf\u00e9""#, #""say \"hi\"""#, #""\n\t""#,
    #""abcdefghijklm""#, #""abcdefghijklmn""#, #""a long string that goes to the arena""#,
    #""a long string with an \u00e9scape and a \"quote\"""#, #""\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9""#,
    "null", "true", "false",
    "[]", #"[1, "x"]"#, #"["a long text inside a list, in the arena"]"#, #"{"k": "v"}"#,
    #"{"a":[1,2,{"b":null}],"long":"abc\u00e9defghijklmnopqrstuvwxyz"}"#,
]
private let numbers = ["0.25", "1", "-2.5", "3.75", "10", "0", "-0", #""x""#, "null"]
private let ints = ["1", "2", "5", "-4", "0", "1.0"]
private let durations = [#""3s""#, #""-1m""#, #""1.5s""#, #""0s""#]
private let types = ["buy", "view", "ret", "buy"]

fileprivate extension SplitMix {
    /// 0 ..< n, without the standard library's algorithm (which may change between releases).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func percent(_ p: Int) -> Bool { below(100) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// A generated event.
private struct GenEvent: CustomStringConvertible {
    var customer: String
    var time: Int64
    var line: String
    var description: String { "\(customer) @\(time): \(line)" }
}

/// A seeded stream: a few customers, times drifting forward with late events up to two
/// buckets back, steps of exactly a bucket, a window or the ttl, big jumps, times on bucket
/// boundaries and one nanosecond off them, before and after 1970.
private func stream(seed: UInt64, count: Int, customers: Int) -> [GenEvent] {
    var rng = SplitMix(seed: seed)
    let bases: [Int64] = [0, -300 * second, 1_700_000_000 * second + 3 * second / 2, -1_000_000_000 * second, -1]
    var now = bases[rng.below(bases.count)]
    var latest: [String: Int64] = [:]
    var events: [GenEvent] = []
    for _ in 0..<count {
        let r = rng.below(100)
        switch r {
        case 0..<30: now += Int64(rng.below(5)) * second / 2
        case 30..<45: now += bucket
        case 45..<50: now += 1
        case 50..<55: now += window
        case 55..<60: now += window + Int64(1 + rng.below(5)) * second
        case 60..<62: now += ttl
        case 62..<64: now += ttl + Int64(rng.below(300)) * second
        case 64..<72: now = (floorBucket(now, bucket) + 1) * bucket  // the next boundary
        default: now += Int64(1 + rng.below(20)) * second
        }
        let customer = "c\(rng.below(customers))"
        var t = now
        switch rng.below(100) {
        case 0..<20: t = now - Int64(rng.below(41)) * second / 2  // late, up to 2 buckets
        case 20..<24: t = now - 1
        case 24..<28: if let l = latest[customer] { t = l + window }  // exactly a window apart
        case 28..<31: if let l = latest[customer] { t = l - window }
        case 31..<34: if let l = latest[customer] { t = l }  // a tie
        default: break
        }
        if t > now { now = t }
        latest[customer] = max(latest[customer] ?? .min, t)
        var line = #"{"cid":"\#(customer)","type":"\#(rng.pick(types))""#
        if rng.percent(85) { line += #","v":\#(rng.pick(values))"# }
        if rng.percent(80) { line += #","n":\#(rng.pick(numbers))"# }
        if rng.percent(70) { line += #","i":\#(rng.pick(ints))"# }
        if rng.percent(25) { line += #","d":\#(rng.pick(durations))"# }
        line += "}"
        events.append(GenEvent(customer: customer, time: t, line: line))
    }
    return events
}

/// Feeds the events to a harness, comparing every field after each event with the model; every
/// 50 events and at the end, compares `appendJSON` of every customer at the global clock.
/// Returns the first differences found, with the customer's events for a replay.
private func check(_ events: [GenEvent], _ harness: ProfileHarness, seed: UInt64) -> String? {
    func written(after n: Int) -> String? {
        let clock = harness.engine.clock
        if clock != harness.model.clock { return "seed \(seed), event \(n): clock \(clock), expected \(harness.model.clock)" }
        for (customer, payload) in harness.payloads.sorted(by: { $0.key < $1.key }) {
            let diff = harness.differences(harness.written(payload, at: clock), harness.expected(customer, at: clock))
            if !diff.isEmpty {
                return "seed \(seed), after event \(n), appendJSON of \(customer) at \(clock):\n" + diff.joined(separator: "\n")
            }
        }
        return nil
    }
    for (n, event) in events.enumerated() {
        let payload = harness.apply(customer: event.customer, time: event.time, line: event.line)
        let got = harness.loaded(payload)
        let diff = harness.differences(got, harness.expected(event.customer, at: harness.model.customers[event.customer]!.latest))
        if !diff.isEmpty {
            let history = events[...n].filter { $0.customer == event.customer }.map { "  \($0)" }
            return "seed \(seed), event \(n) (\(event)):\n" + diff.joined(separator: "\n")
                + "\nevents of \(event.customer):\n" + history.joined(separator: "\n")
        }
        if n % 50 == 49, let failure = written(after: n) { return failure }
    }
    return written(after: events.count - 1)
}

@Suite("profile aggregates against a naive model")
struct ProfileModelTests {
    /// 200 seeds × 100 events, in batches that run in parallel.
    @Test("every aggregate equals the naive model after every event of seeded random streams",
          arguments: [UInt64(1)...50, 51...100, 101...150, 151...200])
    func randomStreams(seeds: ClosedRange<UInt64>) {
        expectModel(pipeline, seeds: seeds, events: 100, customers: 4) { $0 % 4 == 0 ? nil : ttl }
    }

    @Test("rings whose widths are multiples of the narrowest, whose clocks move without a pass over them, also equal the model")
    func multipleWidths() {
        // The shortcut is in use here (the 2 s ring is the grain) and not for the other
        // pipelines' 7, 10 and 25 s.
        #expect(ProfileHarness(multiplesPipeline, ttl: nil).engine.grain == 0)
        #expect(ProfileHarness(pipeline, ttl: nil).engine.grain == -1)
        expectModel(multiplesPipeline, seeds: 801...880, events: 100, customers: 3) { $0 % 2 == 0 ? nil : 30 * second }
    }

    @Test("uints, bytes, timestamps and durations mixed in small windows also equal the model")
    func smallWindows() {
        expectModel(smallPipeline, seeds: 501...560, events: 80, customers: 3) { $0 % 2 == 0 ? nil : 20 * second }
    }

    /// For each seed, a stream of `events` over 1 + seed % `customers` customers through a
    /// harness with the seed's ttl: every aggregate equals the model after every event
    /// (stops at the third failing seed).
    private func expectModel(_ fields: [ModelField], seeds: ClosedRange<UInt64>, events: Int, customers: UInt64,
                             ttl: (UInt64) -> Int64?) {
        var failures: [String] = []
        for seed in seeds {
            let harness = ProfileHarness(fields, ttl: ttl(seed))
            let generated = stream(seed: seed, count: events, customers: 1 + Int(seed % customers))
            if let failure = check(generated, harness, seed: seed) { failures.append(failure) }
            if failures.count >= 3 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }

    /// 40 seeds × 100 events, in batches that run in parallel.
    @Test("sweeping expired customers at random points changes nothing that later events see",
          arguments: [UInt64(1001)...1020, 1021...1040])
    func sweeping(seeds: ClosedRange<UInt64>) {
        var failures: [String] = []
        for seed in seeds {
            let plain = ProfileHarness(pipeline, ttl: ttl)
            let swept = ProfileHarness(pipeline, ttl: ttl, modelled: false)
            var rng = SplitMix(seed: seed ^ 0x5EE9)
            let events = stream(seed: seed, count: 100, customers: 2 + Int(seed % 5))
            for (n, event) in events.enumerated() {
                let a = plain.loaded(plain.apply(customer: event.customer, time: event.time, line: event.line))
                let b = swept.loaded(swept.apply(customer: event.customer, time: event.time, line: event.line))
                if a != b {
                    let diff = zip(pipeline, zip(a, b)).filter { $1.0 != $1.1 }.map { "\($0.name): \($1.0) without sweeping, \($1.1) with" }
                    failures.append("seed \(seed), event \(n) (\(event)):\n" + diff.joined(separator: "\n"))
                    break
                }
                if rng.percent(30) { swept.engine.sweep(1 + rng.below(4)) }
            }
            // A full sweep leaves exactly the customers that are not expired, with the same
            // state as without sweeping.
            swept.engine.sweep(swept.engine.store.slotCount)
            let clock = plain.engine.clock
            let live = plain.model.customers.filter { clock - $0.value.latest < ttl }.keys.sorted()
            var kept: [String] = []
            for i in 0..<swept.engine.store.slotCount {
                guard let slot = swept.engine.store.slot(at: i) else { continue }
                let customer = String(decoding: slot.key, as: UTF8.self)
                kept.append(customer)
                if swept.written(slot.payload, at: clock) != plain.written(plain.payloads[customer]!, at: clock) {
                    failures.append("seed \(seed): \(customer) differs after the sweep")
                }
            }
            if kept.sorted() != live { failures.append("seed \(seed): kept \(kept.sorted()), expected \(live)") }
            if failures.count >= 3 { break }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }
}

/// Small pipelines and hand-written events for the boundaries, stated once more where a
/// reader can see them.
@Suite("profile aggregates at their boundaries")
struct ProfileBoundaryTests {
    /// Applies `(customer, time, line)` events and returns field `name` as the last event's
    /// customer sees it, after checking it against the model.
    private func run(_ fields: [ModelField], ttl: Int64? = nil, _ events: [(String, Int64, String)]) -> [String] {
        let harness = ProfileHarness(fields, ttl: ttl)
        var got: [String] = []
        for (customer, time, line) in events {
            got = harness.loaded(harness.apply(customer: customer, time: time, line: line))
            let expected = harness.expected(customer, at: harness.model.customers[customer]!.latest)
            #expect(harness.differences(got, expected).isEmpty, "\(harness.differences(got, expected))")
        }
        return got
    }

    @Test("an event exactly one window before the latest has left it; one nanosecond later it has not")
    func windowEdge() {
        let fields: [ModelField] = [.count("n", "true", window: (8, bucket))]
        #expect(run(fields, [("c", 0, "{}"), ("c", window, "{}")]) == ["1"])
        #expect(run(fields, [("c", 1, "{}"), ("c", window, "{}")]) == ["1"])  // same bucket as 0
        #expect(run(fields, [("c", bucket, "{}"), ("c", window + bucket - 1, "{}")]) == ["2"])
        #expect(run(fields, [("c", window, "{}"), ("c", 0, "{}")]) == ["1"])  // late: not counted
        #expect(run(fields, [("c", window, "{}"), ("c", bucket, "{}")]) == ["2"])
    }

    @Test("buckets are floored before 1970: -1 ns is in the bucket before 0")
    func negativeTimes() {
        let fields: [ModelField] = [.count("n", "true", window: (2, bucket)), .of(.first, "f", "time", window: (2, bucket))]
        #expect(run(fields, [("c", -1, "{}"), ("c", bucket, "{}")]) == ["1", #""1970-01-01T00:00:10Z""#])
        #expect(run(fields, [("c", -bucket, "{}"), ("c", bucket - 1, "{}")]) == ["2", #""1969-12-31T23:59:50Z""#])
    }

    @Test("a customer idle for exactly the ttl, by the clock of the whole stream, starts afresh")
    func ttlEdge() {
        let fields: [ModelField] = [.count("n", "true")]
        let ttl = 100 * second
        #expect(run(fields, ttl: ttl, [("a", 0, "{}"), ("a", ttl - 1, "{}")]) == ["2"])
        #expect(run(fields, ttl: ttl, [("a", 0, "{}"), ("a", ttl, "{}")]) == ["1"])
        // Another customer's event moves the clock; a's late event then finds a expired.
        #expect(run(fields, ttl: ttl, [("a", 0, "{}"), ("b", ttl, "{}"), ("a", 1, "{}")]) == ["1"])
        #expect(run(fields, ttl: ttl, [("a", 0, "{}"), ("b", ttl - 1, "{}"), ("a", 1, "{}")]) == ["2"])
    }

    @Test("distinct is exact up to its capacity and estimates within 40 % beyond it")
    func distinctEstimate() {
        let fields: [ModelField] = [.of(.distinct, "d", "event.v", capacity: 64)]
        let harness = ProfileHarness(fields, ttl: nil, modelled: false)
        var rng = SplitMix(seed: 64)
        var payload: UnsafeMutableRawPointer?
        var seen = 0
        for i in 0..<1000 {
            // Every value twice, the second time out of order, as numbers and strings.
            let v = i % 2 == 0 ? String(i) : "\"s\(i)-\(rng.next())\""
            for _ in 0..<2 { payload = harness.apply(customer: "c", time: Int64(i) * second, line: "{\"v\":\(v)}") }
            seen += 1
            if seen <= 64 { #expect(harness.loaded(payload!) == [String(seen)]) }
        }
        let estimate = Double(harness.loaded(payload!)[0])!
        #expect(abs(estimate - 1000) / 1000 < 0.4, "estimate \(estimate) for 1000 distinct values")
    }

    @Test("regression: a windowed distinct forgets values 2^32 buckets back (32-bit buckets compared across a wrap)")
    func distinctAcrossBucketWrap() {
        let millisecond: Int64 = 1_000_000
        let fields: [ModelField] = [.of(.distinct, "d", "event.v", window: (8, millisecond), capacity: 4)]
        for jump: Int64 in [1 << 32, (1 << 32) + 3, (1 << 32) + 8, 1 << 31] {
            let harness = ProfileHarness(fields, ttl: nil, modelled: false)
            _ = harness.apply(customer: "c", time: 0, line: #"{"v":"a"}"#)
            let payload = harness.apply(customer: "c", time: jump * millisecond, line: #"{"v":"b"}"#)
            #expect(harness.loaded(payload) == ["1"], "after a jump of \(jump) buckets")
            #expect(harness.written(payload, at: jump * millisecond) == ["1"])
        }
        // Read at a clock a whole window past the customer's latest event: nothing is covered.
        let harness = ProfileHarness(fields, ttl: nil, modelled: false)
        let payload = harness.apply(customer: "c", time: 0, line: #"{"v":"a"}"#)
        #expect(harness.written(payload, at: (1 << 32) * millisecond) == ["0"])
    }
}
