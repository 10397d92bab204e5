import Foundation
import Testing

/// `cairn-gen --scenario journeys`: the stream the scenario pipelines are written against
/// (the scenario vocabulary of samples/README.md). Checks the committed sample against a regeneration, determinism, the exact
/// key order and props of every event type, time order, and that each promised behaviour
/// occurs at least once.
@Suite("cairn-gen --scenario journeys", .serialized)
struct JourneyScenarioTests {
    /// The command of samples/README.md, without `--out`.
    static let sampleArgs = ["--scenario", "journeys", "--seed", "7", "--customers", "400", "--days", "120",
                             "--start", "2024-01-01T00:00:00Z"]

    static func generate(_ args: [String]) throws -> Data {
        let result = try CLI.run(args, executable: CLI.generator)
        #expect(result.status == 0, "cairn-gen \(args) failed: \(result.err)")
        return result.stdout
    }

    /// The committed sample, parsed once.
    static let sample: [ScenarioLine] = {
        let url = CLI.repoRoot.appendingPathComponent("samples/journeys.ndjson")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { ScenarioLine(String($0)) }
    }()

    // MARK: Bytes

    @Test("the committed sample is exactly what the README command regenerates")
    func sampleRegenerates() throws {
        let committed = try Data(contentsOf: CLI.repoRoot.appendingPathComponent("samples/journeys.ndjson"))
        let regenerated = try Self.generate(Self.sampleArgs)
        #expect(committed.count > 100_000)
        #expect(regenerated == committed, "samples/journeys.ndjson differs from a regeneration; see samples/README.md")
    }

    @Test("the same seed gives the same bytes and another seed other bytes")
    func deterministic() throws {
        let args = ["--scenario", "journeys", "--customers", "80", "--days", "60", "--start", "2024-05-01T00:00:00Z"]
        let a = try Self.generate(args + ["--seed", "3"])
        let b = try Self.generate(args + ["--seed", "3"])
        let c = try Self.generate(args + ["--seed", "4"])
        #expect(a.count > 10_000)
        #expect(a == b)
        #expect(a != c)
    }

    @Test("options of the shop simulation are refused with a scenario, and --days without one",
          arguments: [["--scenario", "journeys", "--events", "10"], ["--scenario", "journeys", "--rate", "1"],
                      ["--days", "30"], ["--scenario", "journeys", "--customers", "100000"],
                      ["--scenario", "holidays"]])
    func usageErrors(args: [String]) throws {
        let result = try CLI.run(args, executable: CLI.generator)
        #expect(result.status == 64)
        #expect(result.err.contains("rror"), "\(result.err)")
        #expect(result.stdout.isEmpty)
    }

    // MARK: Format

    /// Props keys of each event type, in vocabulary order (`sku` only on product pages).
    static let propsKeys: [String: [String]] = [
        "signup": ["plan", "source"],
        "app_open": ["os", "version"],
        "feature_used": ["feature"],
        "page_view": ["page"],
        "add_to_cart": ["cart_id", "sku", "name", "price", "qty", "category"],
        "checkout_started": ["cart_id", "value"],
        "purchase": ["order_id", "cart_id", "total", "category", "items"],
        "subscription_started": ["plan", "price"],
        "ticket_opened": ["ticket_id", "topic", "channel", "order_id"],
        "ticket_resolved": ["ticket_id", "topic", "channel"],
        "consent_changed": ["channel", "granted"],
        "erasure_request": ["source"],
    ]

    @Test("every line is one object with the vocabulary's keys in order, and every event type occurs")
    func keysInVocabularyOrder() throws {
        let lines = Self.sample
        #expect(lines.count >= 3000 && lines.count <= 8000)
        var seen: Set<String> = []
        for (n, line) in lines.enumerated() {
            guard case .object(let members)? = line.value else {
                Issue.record("line \(n + 1) is not a JSON object: \(line.text)")
                continue
            }
            let event = line.event
            seen.insert(event)
            let withTZ = event == "signup" || event == "app_open"
            #expect(members.map(\.0) == ["event", "ts", "user_id"] + (withTZ ? ["tz"] : []) + ["props"],
                    "line \(n + 1): \(line.text)")
            var expected = Self.propsKeys[event] ?? ["<unknown event>"]
            if event == "page_view", line.string("page")?.hasPrefix("/p/") == true { expected.append("sku") }
            #expect(line.props.map(\.0) == expected, "line \(n + 1): \(line.text)")
        }
        #expect(seen == Set(Self.propsKeys.keys))
    }

    @Test("values follow the vocabulary: ids, zones, enumerations, two-decimal prices, totals")
    func valuesFollowVocabulary() throws {
        let zones: Set = ["Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
                          "Asia/Tokyo", "Australia/Sydney"]
        let allowed: [String: Set<String>] = [
            "source": ["organic", "ads", "referral", "privacy_center"], "os": ["ios", "android"],
            "feature": ["search", "wishlist", "price_alert", "compare", "reorder", "scan"],
            "category": ["computers", "phones", "accessories", "home", "shoes"],
        ]
        for line in Self.sample {
            #expect(line.userId.wholeMatch(of: /u-\d{5}/) != nil, "\(line.text)")
            #expect(line.ts.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "\(line.text)")
            if let tz = line.top("tz") { #expect(zones.contains(tz.stringValue ?? ""), "\(line.text)") }
            for (key, value) in line.props {
                if let set = allowed[key] { #expect(set.contains(value.stringValue ?? ""), "\(line.text)") }
                if key == "price" || key == "total" || key == "value" {
                    #expect(value.numberText?.wholeMatch(of: /\d+\.\d\d/) != nil, "\(line.text)")
                }
            }
            switch line.event {
            case "signup": #expect(line.string("plan") == "free")
            case "app_open": #expect(line.string("version") == "5.1.0")
            case "subscription_started": #expect(line.string("plan") == "premium")
            case "add_to_cart", "checkout_started":
                #expect(line.string("cart_id")?.wholeMatch(of: /cart-\d+/) != nil, "\(line.text)")
            case "purchase":
                #expect(line.string("order_id")?.wholeMatch(of: /o-\d+/) != nil, "\(line.text)")
                guard case .array(let items)? = line.prop("items") else { Issue.record("\(line.text)"); continue }
                #expect(!items.isEmpty)
                var cents = 0
                for item in items {
                    guard case .object(let m) = item else { Issue.record("\(line.text)"); continue }
                    #expect(m.map(\.0) == ["sku", "qty", "price", "category"], "\(line.text)")
                    cents += (m[1].1.cents ?? 0) / 100 * (m[2].1.cents ?? 0)
                }
                #expect(line.prop("total")?.cents == cents, "\(line.text)")
            case "ticket_opened", "ticket_resolved":
                #expect(line.string("ticket_id")?.wholeMatch(of: /t-\d+/) != nil, "\(line.text)")
                #expect(["email", "chat", "phone", "social"].contains(line.string("channel") ?? ""), "\(line.text)")
                let topic = line.string("topic") ?? ""
                #expect(["delivery", "account", "repair"].contains(topic) || topic.hasPrefix("order-o-"), "\(line.text)")
                if topic.hasPrefix("order-"), line.event == "ticket_opened" {
                    #expect(line.string("order_id").map { "order-" + $0 } == topic, "\(line.text)")
                }
            case "consent_changed":
                #expect(["email", "push", "sms"].contains(line.string("channel") ?? ""), "\(line.text)")
            default: break
            }
        }
    }

    @Test("event time never decreases and stays inside the 120 days from 2024-01-01")
    func timeOrder() {
        let lines = Self.sample
        for (a, b) in zip(lines, lines.dropFirst()) {
            #expect(a.ts <= b.ts, "\(a.text)\n\(b.text)")
        }
        #expect((lines.first?.ts ?? "") >= "2024-01-01T00:00:00.000Z")
        #expect((lines.last?.ts ?? "") < "2024-04-30T00:00:00.000Z")
    }

    // MARK: Behaviours

    /// The sample's events by customer, in time order.
    static let byCustomer: [String: [ScenarioLine]] = Dictionary(grouping: sample, by: \.userId)

    static let hour = 3_600_000, day = 86_400_000

    @Test("a computer purchase is followed within days by a repair or order ticket, resolved later, and accessories")
    func computerPurchaseThenTicket() {
        var withTicket = 0, withAccessories = 0
        for events in Self.byCustomer.values {
            for p in events where p.event == "purchase" && p.string("category") == "computers" {
                let order = p.string("order_id") ?? "?"
                let ticket = events.first {
                    $0.event == "ticket_opened" && $0.ms > p.ms && $0.ms - p.ms <= 7 * Self.day
                        && ($0.string("topic") == "repair" || $0.string("topic") == "order-" + order)
                }
                if let ticket, events.contains(where: {
                    $0.event == "ticket_resolved" && $0.string("ticket_id") == ticket.string("ticket_id") && $0.ms > ticket.ms
                }) { withTicket += 1 }
                if events.contains(where: {
                    $0.event == "page_view" && $0.ms > p.ms && $0.string("page") == "/c/accessories"
                }) { withAccessories += 1 }
            }
        }
        #expect(withTicket >= 5)
        #expect(withAccessories >= 5)
    }

    @Test("new customers sign up, then open the app and use features over weeks; some use many, some few, some subscribe")
    func onboarding() {
        var many = 0, few = 0, subscribed = 0
        for events in Self.byCustomer.values {
            guard let signup = events.first(where: { $0.event == "signup" }) else { continue }
            #expect(events.first?.event == "signup", "signup is the first event of \(signup.userId)")
            let features = events.filter { $0.event == "feature_used" }
            guard let last = features.last, last.ms - signup.ms >= 14 * Self.day,
                  events.contains(where: { $0.event == "app_open" }) else { continue }
            let distinct = Set(features.compactMap { $0.string("feature") }).count
            if distinct >= 4 { many += 1 }
            if distinct <= 2 { few += 1 }
            if events.contains(where: { $0.event == "subscription_started" && $0.ms > signup.ms }) { subscribed += 1 }
        }
        #expect(many >= 5)
        #expect(few >= 5)
        #expect(subscribed >= 3)
    }

    @Test("carts are abandoned, and some are checked out and bought hours or days later with the same cart_id")
    func carts() {
        var events: [String: [ScenarioLine]] = [:]
        for line in Self.sample {
            if let cart = line.string("cart_id") { events[cart, default: []].append(line) }
        }
        let abandoned = events.values.filter { !$0.contains { $0.event == "purchase" } }.count
        let recovered = events.values.filter { lines in
            guard let added = lines.first(where: { $0.event == "add_to_cart" }),
                  let bought = lines.first(where: { $0.event == "purchase" }) else { return false }
            return bought.ms - added.ms >= 2 * Self.hour && lines.contains { $0.event == "checkout_started" }
                && Set(lines.map(\.userId)).count == 1
        }.count
        #expect(abandoned >= 50)
        #expect(recovered >= 10)
        #expect(Self.sample.contains { $0.event == "purchase" && $0.prop("cart_id") == .null })
    }

    @Test("customers buy in the first weeks, go silent for 45+ days, and some come back and buy again")
    func lapsing() {
        var silent = 0, back = 0
        for events in Self.byCustomer.values {
            let purchases = events.filter { $0.event == "purchase" }
            guard let first = purchases.first, first.ms - Self.sample[0].ms < 35 * Self.day else { continue }
            for (a, b) in zip(events, events.dropFirst()) where a.event == "purchase" && b.ms - a.ms >= 45 * Self.day {
                silent += 1
                if events.contains(where: { $0.event == "purchase" && $0.ms >= b.ms }) { back += 1 }
                break
            }
        }
        #expect(silent >= 10)
        #expect(back >= 5)
    }

    @Test("a ticket topic opened on one channel comes again on another channel 1 to 6 hours later, sometimes a day later too")
    func omnichannel() {
        var sameTopicOtherChannel = 0, dayLater = 0
        for events in Self.byCustomer.values {
            let tickets = events.filter { $0.event == "ticket_opened" }
            for (i, a) in tickets.enumerated() {
                let later = tickets[(i + 1)...].filter { $0.string("topic") == a.string("topic") }
                if later.contains(where: {
                    $0.string("channel") != a.string("channel") && $0.ms - a.ms >= Self.hour && $0.ms - a.ms <= 6 * Self.hour
                }) {
                    sameTopicOtherChannel += 1
                    if later.contains(where: { $0.ms - a.ms >= Self.day }) { dayLater += 1 }
                }
            }
        }
        #expect(sameTopicOtherChannel >= 10)
        #expect(dayLater >= 3)
    }

    @Test("consent is withdrawn and granted on each channel; erasure requests come last for their customer")
    func consentAndErasure() {
        var changes: Set<String> = []
        for line in Self.sample where line.event == "consent_changed" {
            changes.insert("\(line.string("channel") ?? "?") \(line.prop("granted") == .bool(true))")
        }
        #expect(changes == ["email true", "email false", "push true", "push false", "sms true", "sms false"])
        let erased = Self.byCustomer.values.filter { $0.contains { $0.event == "erasure_request" } }
        #expect(erased.count >= 2)
        for events in erased {
            #expect(events.last?.event == "erasure_request", "\(events.last?.text ?? "")")
            #expect(events.last?.string("source") == "privacy_center")
        }
    }
}

// MARK: - A small order-preserving JSON reader

/// One line of the stream, parsed keeping the order of object members.
struct ScenarioLine {
    let text: String
    let value: ScenarioJSON?

    init(_ text: String) {
        self.text = text
        var reader = ScenarioJSONReader(Array(text.utf8))
        value = reader.document()
    }

    func top(_ key: String) -> ScenarioJSON? {
        guard case .object(let members)? = value else { return nil }
        return members.first { $0.0 == key }?.1
    }

    var event: String { top("event")?.stringValue ?? "" }
    var ts: String { top("ts")?.stringValue ?? "" }
    var userId: String { top("user_id")?.stringValue ?? "" }

    var props: [(String, ScenarioJSON)] {
        guard case .object(let members)? = top("props") else { return [] }
        return members
    }

    func prop(_ key: String) -> ScenarioJSON? { props.first { $0.0 == key }?.1 }
    func string(_ key: String) -> String? { prop(key)?.stringValue }

    /// Milliseconds since the epoch of `ts` (`2024-01-03T09:15:42.123Z`), -1 if malformed.
    var ms: Int { Self.milliseconds(ts) }

    static func milliseconds(_ ts: String) -> Int {
        let d = Array(ts.utf8).map { Int($0) - 48 }
        guard d.count == 24 else { return -1 }
        func n(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + d[$1] } }
        // Days from civil (H. Hinnant), proleptic Gregorian.
        let m = n(5..<7), y = n(0..<4) - (m <= 2 ? 1 : 0)
        let era = y / 400, yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + n(8..<10) - 1
        let days = era * 146_097 + (yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719_468
        return days * 86_400_000 + ((n(11..<13) * 60 + n(14..<16)) * 60 + n(17..<19)) * 1000 + n(20..<23)
    }
}

indirect enum ScenarioJSON: Equatable {
    case object([(String, ScenarioJSON)])
    case array([ScenarioJSON])
    case string(String)
    /// The number's text as written.
    case number(String)
    case bool(Bool)
    case null

    static func == (a: ScenarioJSON, b: ScenarioJSON) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)): x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)), (.number(let x), .number(let y)): x == y
        case (.bool(let x), .bool(let y)): x == y
        case (.null, .null): true
        default: false
        }
    }

    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var numberText: String? { if case .number(let s) = self { s } else { nil } }

    /// A number × 100 as an integer (`89.90` → 8990, `2` → 200), from its text.
    var cents: Int? {
        guard let text = numberText else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard let whole = Int(parts[0]) else { return nil }
        let fraction = parts.count > 1 ? String((parts[1] + "00").prefix(2)) : "00"
        return whole * 100 + (Int(fraction) ?? 0)
    }
}

/// Recursive-descent JSON reader for the generator's output (RFC 8259 subset: no checks
/// beyond what these tests need; `nil` for anything malformed).
struct ScenarioJSONReader {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() -> ScenarioJSON? {
        guard let v = value() else { return nil }
        return i == bytes.count ? v : nil
    }

    private mutating func value() -> ScenarioJSON? {
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, ScenarioJSON)] = []
            if peek(UInt8(ascii: "}")) { i += 1; return .object(members) }
            while true {
                guard let key = string(), peek(UInt8(ascii: ":")) else { return nil }
                i += 1
                guard let v = value() else { return nil }
                members.append((key, v))
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                guard peek(UInt8(ascii: "}")) else { return nil }
                i += 1
                return .object(members)
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [ScenarioJSON] = []
            if peek(UInt8(ascii: "]")) { i += 1; return .array(items) }
            while true {
                guard let v = value() else { return nil }
                items.append(v)
                if peek(UInt8(ascii: ",")) { i += 1; continue }
                guard peek(UInt8(ascii: "]")) else { return nil }
                i += 1
                return .array(items)
            }
        case UInt8(ascii: "\""):
            return string().map(ScenarioJSON.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default:
            let start = i
            while i < bytes.count, "-+.eE0123456789".utf8.contains(bytes[i]) { i += 1 }
            return i > start ? .number(String(decoding: bytes[start..<i], as: UTF8.self)) : nil
        }
    }

    private func peek(_ byte: UInt8) -> Bool { i < bytes.count && bytes[i] == byte }

    private mutating func literal(_ word: String, _ v: ScenarioJSON) -> ScenarioJSON? {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { return nil }
        i += w.count
        return v
    }

    /// A string; escapes are kept undecoded except `\"` and `\\` (enough for comparisons here).
    private mutating func string() -> String? {
        guard peek(UInt8(ascii: "\"")) else { return nil }
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\\") {
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                if e == UInt8(ascii: "\"") || e == UInt8(ascii: "\\") || e == UInt8(ascii: "/") { out.append(e) }
                else { out += [b, e] }
                continue
            }
            guard b >= 0x20 else { return nil }
            out.append(b)
        }
        return nil
    }
}
