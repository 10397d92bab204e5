@testable import CairnCore

// A naive model of journeys for model-based tests of channel caps and re-entry: seeded
// generated pipelines (send and wait steps, keys, re-entry rules, exits, priorities, rolling
// caps) and event streams, and a straightforward simulation written from docs/journeys.md
// (lists of instances per customer, a list of send times per customer and channel, counts
// recomputed by scanning). Times are whole seconds here; records carry nanoseconds in ids.

// MARK: - Generated pipelines and events

/// A channel: a rolling cap `count per seconds`, or none.
struct JMChannel {
    var name: String
    var cap: (count: Int, per: Int64)?
    /// Declared as `NAME:` alone rather than `NAME: {}` (no cap only).
    var bare: Bool
}

enum JMStep {
    case send(channel: Int, template: String)
    case wait(Int64)
}

struct JMJourney {
    var name: String
    var entryType: String
    /// `key: event.k`.
    var keyed: Bool
    /// `reentry:` as written: nil mode means the key is left out (the default, after_exit).
    var writesReentry: Bool
    var mode: ReentryMode?
    var cooldown: Int64?
    var max: Int?
    /// `exit: type == "…"`.
    var exitType: String?
    var priority: Int?
    var steps: [JMStep]
    /// Per step: its `id`, if it has one.
    var ids: [String?]

    var effectiveMode: ReentryMode { mode ?? .afterExit }
    var effectivePriority: Int { priority ?? 0 }
    func stepName(_ i: Int) -> String { ids[i] ?? "steps[\(i)]" }
}

struct JMPipeline {
    var channels: [JMChannel]
    var journeys: [JMJourney]
    /// `events.lateness`, seconds.
    var lateness: Int64?

    /// The pipeline file.
    var yaml: String {
        var out = """
            cairn: 1
            name: journey-model
            events: { customer: cid, time: ts, type: type\(lateness.map { ", lateness: \(durationText($0))" } ?? "") }
            channels:

            """
        for c in channels {
            if let cap = c.cap {
                out += "  \(c.name): { cap: \(cap.count) per \(durationText(cap.per)) }\n"
            } else {
                out += c.bare ? "  \(c.name):\n" : "  \(c.name): {}\n"
            }
        }
        out += "journeys:\n"
        for j in journeys {
            out += "  - name: \(j.name)\n"
            out += "    entry: type == \"\(j.entryType)\"\n"
            if j.keyed { out += "    key: event.k\n" }
            if j.writesReentry {
                var parts: [String] = []
                if let m = j.mode { parts.append("mode: \(m.rawValue)") }
                if let c = j.cooldown { parts.append("cooldown: \(durationText(c))") }
                if let m = j.max { parts.append("max: \(m)") }
                out += "    reentry: { \(parts.joined(separator: ", ")) }\n"
            }
            if let e = j.exitType { out += "    exit: type == \"\(e)\"\n" }
            if let p = j.priority { out += "    priority: \(p)\n" }
            out += "    steps:\n"
            for (i, step) in j.steps.enumerated() {
                let id = j.ids[i].map { "id: \($0), " } ?? ""
                switch step {
                case .send(let channel, let template):
                    out += "      - { \(id)send: { channel: \(channels[channel].name), template: \(template) } }\n"
                case .wait(let d):
                    out += "      - { \(id)wait: \(durationText(d)) }\n"
                }
            }
        }
        return out
    }
}

/// The value of an event's `k`.
enum JMKey {
    case string(String), int(Int), null

    var json: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .int(let i): return String(i)
        case .null: return "null"
        }
    }

    /// The instance key's text (docs/journeys.md: what CEL's `string()` makes of the value);
    /// nil for null, which does not enter. A JSON number is a CEL double, and `string(1.0)` is
    /// `"1"`: the key of `"k":1` is the same text as that of `"k":"1"`.
    var text: String? {
        switch self {
        case .string(let s): return s
        case .int(let i): return "\(i)"
        case .null: return nil
        }
    }
}

struct JMEvent: CustomStringConvertible {
    var customer: String
    /// Seconds since 1970.
    var time: Int64
    var type: String
    var key: JMKey?

    var line: String {
        var s = #"{"cid":"\#(customer)","ts":"\#(rfc3339(time))","type":"\#(type)""#
        if let key { s += #","k":\#(key.json)"# }
        return s + "}"
    }
    var description: String { line }
}

/// 2024-03-01T00:00:00Z.
let journeyModelBase: Int64 = 1_709_251_200

/// `90s`, `10m`, `1h30m`: largest units first.
func durationText(_ seconds: Int64) -> String {
    var rest = seconds, out = ""
    for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
        out += "\(rest / size)\(unit)"
        rest %= size
    }
    return out
}

/// RFC 3339 in UTC for whole seconds since 1970 (after 1970), e.g. `2024-03-01T00:10:00Z`.
func rfc3339(_ seconds: Int64) -> String {
    let days = seconds / 86_400, secs = seconds % 86_400
    // Civil from days (H. Hinnant).
    let z = days + 719_468
    let era = z / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(y)-\(two(m))-\(two(d))T\(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60))Z"
}

fileprivate extension SplitMix {
    /// 0 ..< n, without the standard library's algorithm (which may change between releases).
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func percent(_ p: Int) -> Bool { below(100) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

/// A seeded pipeline: 1–3 channels (most with a rolling cap of 1–3 per 10m to 1h30m), 1–3
/// journeys on entry types `a` and `b` (so that journeys often start in the same moment), with
/// or without `key: event.k`, random re-entry rules, `exit: type == "stop"` (or the other
/// entry type, so that one event ends an instance and starts another), priorities with ties,
/// and 1–4 sends with waits of 5m to 1h before, between and after them.
func journeyModelPipeline(seed: UInt64) -> JMPipeline {
    var rng = SplitMix(seed: seed &* 0x2545_F491_4F6C_DD1D)
    var channels: [JMChannel] = []
    for name in ["email", "push", "sms"].prefix(1 + rng.below(3)) {
        let cap: (Int, Int64)? = rng.percent(75) ? (1 + rng.below(3), rng.pick([600, 1800, 3600, 5400])) : nil
        channels.append(JMChannel(name: name, cap: cap, bare: cap == nil && rng.percent(50)))
    }
    var journeys: [JMJourney] = []
    for n in 0..<(1 + rng.below(3)) {
        let entryType = rng.pick(["a", "b"])
        var j = JMJourney(name: "j\(n)", entryType: entryType, keyed: rng.percent(45), writesReentry: false,
                          mode: nil, cooldown: nil, max: nil, exitType: nil, priority: nil, steps: [], ids: [])
        if rng.percent(75) {
            j.writesReentry = true
            j.mode = rng.pick([nil, .never, .afterExit, .always, .always])
            if j.mode != .never {
                if rng.percent(40) { j.cooldown = rng.pick([300, 600, 1800]) }
                if rng.percent(30) { j.max = 1 + rng.below(3) }
            }
            if j.mode == nil && j.cooldown == nil && j.max == nil { j.mode = .always }
        }
        if rng.percent(40) { j.exitType = rng.percent(75) ? "stop" : (entryType == "a" ? "b" : "a") }
        if rng.percent(30) { j.exitType = entryType }
        if rng.percent(60) { j.priority = rng.pick([-5, 0, 3, 10]) }
        let waits: [Int64] = [300, 600, 1800, 3600]
        if rng.percent(20) { j.steps.append(.wait(rng.pick(waits))) }
        for s in 0..<(1 + rng.below(4)) {
            if s > 0 && rng.percent(55) { j.steps.append(.wait(rng.pick(waits))) }
            j.steps.append(.send(channel: rng.below(channels.count), template: "t\(s)"))
        }
        if rng.percent(20) { j.steps.append(.wait(rng.pick(waits))) }
        j.ids = j.steps.indices.map { rng.percent(20) ? "s\($0)" : nil }
        journeys.append(j)
    }
    return JMPipeline(channels: channels, journeys: journeys, lateness: nil)
}

/// A seeded stream for `pipeline`: 1–3 customers, each with its own times advancing by 0
/// (ties), 1 s, exactly a cap period or a wait, a period less one second, or 1–20 minutes;
/// merged in time order. 60–120 events in all.
func journeyModelEvents(seed: UInt64, pipeline: JMPipeline) -> [JMEvent] {
    var rng = SplitMix(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 7)
    let total = 60 + rng.below(61)
    let customers = 1 + rng.below(3)
    let periods = pipeline.channels.compactMap { $0.cap?.per }
    var waits: [Int64] = []
    for j in pipeline.journeys {
        for case .wait(let d) in j.steps { waits.append(d) }
    }
    var streams: [[JMEvent]] = []
    for c in 0..<customers {
        var t = journeyModelBase + Int64(rng.below(600))
        var events: [JMEvent] = []
        for _ in 0..<(total / customers) {
            let r = rng.below(100)
            switch r {
            case 0..<22: break
            case 22..<30: t += 1
            case 30..<45: t += periods.isEmpty ? 600 : rng.pick(periods)
            case 45..<57: t += waits.isEmpty ? 300 : rng.pick(waits)
            case 57..<62: t += (periods.isEmpty ? 600 : rng.pick(periods)) - 1
            default: t += 60 * Int64(1 + rng.below(20))
            }
            let type = rng.pick(["a", "a", "a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "b", "stop", "stop", "stop", "x", "x"])
            let key: JMKey?
            switch rng.below(100) {
            case 0..<30: key = .string("k1")
            case 30..<55: key = .string("k2")
            case 55..<65: key = .int(1)
            case 65..<75: key = .string("1")
            case 75..<80: key = .null
            default: key = nil
            }
            events.append(JMEvent(customer: "c\(c)", time: t, type: type, key: key))
        }
        streams.append(events)
    }
    // Merge by time; ties across customers in customer order (any order would do: the
    // comparison is per customer).
    return streams.joined().enumerated().sorted { a, b in
        a.element.time != b.element.time ? a.element.time < b.element.time : a.offset < b.offset
    }.map(\.element)
}

/// `--until` for a seeded stream: none (the clock stays at the last event), a wait's length
/// or less after the last event (some timers stay pending, some fall due exactly then), or a
/// day after it (every wait ends).
func journeyModelUntil(seed: UInt64, events: [JMEvent]) -> Int64? {
    var rng = SplitMix(seed: seed &+ 0x5EED)
    let last = events.last!.time
    switch rng.below(100) {
    case 0..<15: return nil
    case 15..<50: return last + rng.pick([1, 300, 600, 1800, 3600])
    default: return last + 86_400
    }
}

/// The stream as it might arrive with `events.lateness: D`: each event up to `D` seconds late
/// (by a delay drawn per distinct time, so that events of equal times keep their order, as
/// the doc's "ties keep input order" needs for the same records).
func journeyModelShuffled(_ events: [JMEvent], lateness: Int64, seed: UInt64) -> [JMEvent] {
    var rng = SplitMix(seed: seed &+ 0x1A7E)
    var delays: [Int64: Int64] = [:]
    for e in events where delays[e.time] == nil {
        delays[e.time] = rng.percent(30) ? 0 : Int64(rng.below(Int(lateness) + 1))
    }
    return events.enumerated().sorted { a, b in
        let ka = a.element.time + delays[a.element.time]!, kb = b.element.time + delays[b.element.time]!
        return ka != kb ? ka < kb : a.offset < b.offset
    }.map(\.element)
}

// MARK: - The model

/// When re-entry memory is forgotten. docs/journeys.md: "with `never` or `max` it is kept for
/// good; with a cooldown, until the cooldown has passed; otherwise it is dropped when the
/// instance ends, in that same moment". Equivalently: kept while never/max applies, an
/// instance of the key runs or the cooldown since the last entry has not passed, looked at
/// when the next entry comes. (Earlier readings of the doc, deciding once when an instance
/// ends, gave other entry numbers; the doc now says this one.)
enum JMMemoryRule: String, CaseIterable {
    case whileNeeded
}

/// An expected record. `reasons` has two members where the doc leaves the skip reason open
/// (see `JourneyModel.decide`); `step` is nil for a `completed` exit, where the doc does not
/// say which step "it was" at.
struct JMRecord {
    var kind: String
    var time: Int64
    var customer: String
    var journey: String
    var instance: String?
    var step: String?
    var channel: String?
    var template: String?
    var reasons: [String] = []
    var entry: Int?
    /// For the id.
    var stepHash: UInt32 = 0
    var journeyHash: UInt32
    var enteredAt: Int64
    var entryNumber: Int

    var id: String {
        let kindCode: UInt64 = ["enter": 1, "action": 2, "skip": 2, "exit": 3, "goal": 4][kind]!
        let customerHash = hash64(customer)
        let keyHash = instance.map(hash64) ?? 0
        var bytes: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        put(journeyHash)
        put(stepHash)
        put(customerHash)
        put(keyHash)
        put(enteredAt * 1_000_000_000)
        put(UInt64(entryNumber) | kindCode << 32)
        let h = bytes.withUnsafeBytes { XXH64.hash($0, seed: 0) }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The members the record should have, in the doc's order, as JSON text; a value of nil
    /// is not compared (one of `alternatives` is accepted for `reason`).
    var members: [(String, String?)] {
        func q(_ s: String) -> String { "\"\(s)\"" }
        var m: [(String, String?)] = [("kind", q(kind)), ("id", q(id)), ("time", q(rfc3339(time))),
                                      ("customer", q(customer)), ("journey", q(journey)),
                                      ("instance", instance.map(q) ?? "null")]
        switch kind {
        case "enter":
            m.append(("entry", String(entry!)))
        case "exit":
            m.append(("step", step.map(q)))
            m.append(("reason", reasons.count == 1 ? q(reasons[0]) : nil))
        default:
            m += [("step", q(step!)), ("channel", q(channel!)), ("template", q(template!)), ("variant", "null")]
            if kind == "skip" { m.append(("reason", reasons.count == 1 ? q(reasons[0]) : nil)) }
        }
        return m
    }

    var description: String {
        members.map { "\($0.0):\($0.1 ?? (kind == "exit" && $0.0 == "step" ? "<any>" : reasons.map { "\"\($0)\"" }.joined(separator: "|")))" }
            .joined(separator: ",")
    }
}

func hash64(_ s: String) -> UInt64 { Array(s.utf8).withUnsafeBytes { XXH64.hash($0, seed: 0) } }
func hash32(_ s: String) -> UInt32 { UInt32(truncatingIfNeeded: hash64(s)) }

/// The simulation of one customer, from the doc.
struct JourneyModel {
    struct Instance {
        var journey: Int
        var key: String?
        var enteredAt: Int64
        var entry: Int
        /// The wait step it is at, and when that wait ends.
        var at: Int
        var wake: Int64
        /// Entry order among all the customer's instances.
        var seq: Int
    }

    struct MemoKey: Hashable {
        var journey: Int
        var key: String?
    }

    struct Memo {
        var count: Int
        var last: Int64
    }

    /// A send asked for in the current moment, decided at the moment's end.
    struct Request {
        var record: Int
        var journey: Int
        var channel: Int
    }

    let pipeline: JMPipeline
    let customer: String
    let rule: JMMemoryRule
    /// In the order they entered.
    var instances: [Instance] = []
    var memos: [MemoKey: Memo] = [:]
    /// Per channel: the times of the sends that went out.
    var sent: [[Int64]]
    var records: [JMRecord] = []
    /// How often the boundaries this test is after came up: a capped send exactly one period
    /// after a send that went out (`cap boundary`), timers due exactly at an event's time
    /// (`timer at event time`), an entry refused by each rule.
    var coverage: [String: Int] = [:]

    // The current moment.
    private var moment: [JMRecord] = []
    private var requests: [Request] = []

    init(pipeline: JMPipeline, customer: String, rule: JMMemoryRule) {
        self.pipeline = pipeline
        self.customer = customer
        self.rule = rule
        sent = Array(repeating: [], count: pipeline.channels.count)
    }

    /// Runs the customer's events in order, then the timers due by `until`.
    static func run(_ pipeline: JMPipeline, customer: String, events: [JMEvent], until: Int64,
                    rule: JMMemoryRule) -> JourneyModel {
        var m = JourneyModel(pipeline: pipeline, customer: customer, rule: rule)
        for e in events where e.customer == customer {
            m.fireTimers(through: e.time)
            if m.lastTimer == e.time { m.coverage["timer at event time", default: 0] += 1 }
            m.event(e)
        }
        m.fireTimers(through: until)
        return m
    }

    /// Timers due at or before `t`, in time order, one moment per distinct time.
    mutating func fireTimers(through t: Int64) {
        while let next = instances.map(\.wake).min(), next <= t {
            // Due at `next`: journey order, then the order they entered.
            let due = instances.filter { $0.wake == next }.sorted { ($0.journey, $0.seq) < ($1.journey, $1.seq) }
                .map(\.seq)
            for seq in due {
                guard let i = instances.firstIndex(where: { $0.seq == seq }) else { continue }
                instances[i].wake = .max
                advance(i, from: instances[i].at + 1, at: next)
            }
            finishMoment(at: next)
            lastTimer = next
        }
    }

    /// The time of the latest timer moment.
    private var lastTimer: Int64?

    mutating func event(_ e: JMEvent) {
        let t = e.time
        for (j, journey) in pipeline.journeys.enumerated() {
            // Instances running before this event, in the order they entered: `exit`.
            if journey.exitType == e.type {
                var i = 0
                while i < instances.count {
                    if instances[i].journey == j {
                        end(i, step: journey.stepName(instances[i].at), reason: "exit", at: t)
                        continue
                    }
                    i += 1
                }
            }
            // The entry.
            guard e.type == journey.entryType else { continue }
            var key: String?
            if journey.keyed {
                guard let text = e.key?.text else { continue }
                key = text
            }
            let memoKey = MemoKey(journey: j, key: key)
            let running = instances.contains { $0.journey == j && $0.key == key }
            let memo = memos[memoKey]
            switch journey.effectiveMode {
            case .never: if memo != nil { coverage["refused: never", default: 0] += 1; continue }
            case .afterExit: if running { coverage["refused: running", default: 0] += 1; continue }
            case .always: break
            }
            if let cooldown = journey.cooldown, let memo, t - memo.last < cooldown {
                coverage["refused: cooldown", default: 0] += 1
                continue
            }
            if let max = journey.max, let memo, memo.count >= max { coverage["refused: max", default: 0] += 1; continue }
            var remembered = memo?.count ?? 0
            if memo != nil {
                let kept = journey.effectiveMode == .never || journey.max != nil || running
                    || journey.cooldown.map { t - memo!.last < $0 } ?? false
                if !kept { remembered = 0 }
            }
            let number = remembered + 1
            memos[memoKey] = Memo(count: number, last: t)
            instances.append(Instance(journey: j, key: key, enteredAt: t, entry: number, at: 0, wake: .max,
                                      seq: nextSequence))
            nextSequence += 1
            moment.append(JMRecord(kind: "enter", time: t, customer: customer, journey: journey.name, instance: key,
                                   entry: number, journeyHash: hash32(journey.name), enteredAt: t, entryNumber: number))
            advance(instances.count - 1, from: 0, at: t)
        }
        finishMoment(at: t)
    }

    /// Runs instance `i`'s steps from `step` at time `t` until it waits or ends.
    private mutating func advance(_ i: Int, from step: Int, at t: Int64) {
        let journey = pipeline.journeys[instances[i].journey]
        var s = step
        while s < journey.steps.count {
            switch journey.steps[s] {
            case .send(let channel, let template):
                let inst = instances[i]
                requests.append(Request(record: moment.count, journey: inst.journey, channel: channel))
                moment.append(JMRecord(kind: "action", time: t, customer: customer, journey: journey.name,
                                       instance: inst.key, step: journey.stepName(s),
                                       channel: pipeline.channels[channel].name, template: template,
                                       stepHash: hash32(journey.stepName(s)), journeyHash: hash32(journey.name),
                                       enteredAt: inst.enteredAt, entryNumber: inst.entry))
                s += 1
            case .wait(let d):
                instances[i].at = s
                instances[i].wake = t + d
                return
            }
        }
        end(i, step: nil, reason: "completed", at: t)
    }

    /// Ends instance `i` with an exit record, and forgets re-entry memory per `rule`.
    private mutating func end(_ i: Int, step: String?, reason: String, at t: Int64) {
        let inst = instances.remove(at: i)
        let journey = pipeline.journeys[inst.journey]
        moment.append(JMRecord(kind: "exit", time: t, customer: customer, journey: journey.name, instance: inst.key,
                               step: step, reasons: [reason], journeyHash: hash32(journey.name),
                               enteredAt: inst.enteredAt, entryNumber: inst.entry))
        // Under `whileNeeded` nothing is forgotten here: the next entry looks.
        _ = journey
    }

    /// The moment's sends, decided by channel: by priority (higher first), ties in file
    /// order, then in the order they were asked for. A send goes out if fewer than N sends
    /// went out in (t − D, t]; otherwise it is skipped, with reason `frequency_cap` when the
    /// sends of earlier moments alone fill the cap, and `priority` when a higher-priority send
    /// of this moment filled it. When only sends of equal priority of this moment filled it
    /// (the same journey twice, or two journeys with the same priority): `frequency_cap`
    /// (docs/journeys.md, Sends and policies, 5).
    private mutating func finishMoment(at t: Int64) {
        let order = requests.indices.sorted { a, b in
            let ra = requests[a], rb = requests[b]
            let pa = pipeline.journeys[ra.journey].effectivePriority, pb = pipeline.journeys[rb.journey].effectivePriority
            if pa != pb { return pa > pb }
            if ra.journey != rb.journey { return ra.journey < rb.journey }
            return a < b
        }
        var wentOut: [(channel: Int, priority: Int)] = []
        for r in order {
            let request = requests[r]
            let priority = pipeline.journeys[request.journey].effectivePriority
            guard let cap = pipeline.channels[request.channel].cap else { continue }
            let inWindow = sent[request.channel].filter { $0 > t - cap.per && $0 <= t }.count
            if sent[request.channel].contains(t - cap.per) { coverage["cap boundary", default: 0] += 1 }
            if inWindow < cap.count {
                sent[request.channel].append(t)
                wentOut.append((request.channel, priority))
                continue
            }
            moment[request.record].kind = "skip"
            let thisMoment = wentOut.filter { $0.channel == request.channel }
            if inWindow - thisMoment.count >= cap.count {
                moment[request.record].reasons = ["frequency_cap"]
            } else if thisMoment.contains(where: { $0.priority > priority }) {
                moment[request.record].reasons = ["priority"]
            } else {
                moment[request.record].reasons = ["frequency_cap"]
            }
        }
        records += moment
        moment = []
        requests = []
    }

    private var nextSequence = 0
}
