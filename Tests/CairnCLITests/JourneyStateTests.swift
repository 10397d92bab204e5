import Foundation
import Testing

/// Journeys across runs and across ways of reading the same input: timers kept in the state
/// fire in a later run (docs/journeys.md, Time: "Timers due later stay in the state"), and the
/// records do not depend on how the input is cut into files, reads or runs.
@Suite("journeys across runs and reads", .serialized)
final class JourneyStateCLITests {
    let dir: URL

    init() throws {
        dir = try CLI.temporaryDirectory()
    }

    deinit {
        try? FileManager.default.removeItem(at: dir)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func run(_ args: [String]) throws -> CLI.Result {
        let result = try CLI.run(args, in: dir)
        #expect(result.status == 0, "cairn \(args.joined(separator: " ")): \(result.err)")
        return result
    }

    static let drip = """
        cairn: 1
        name: drip
        events: { customer: user_id, time: ts, type: event }
        journeys:
          - name: drip
            entry: type == "signup"
            steps:
              - wait: 1h
              - send: { channel: email, template: drip }
        """

    static func event(_ type: String, _ ts: String, _ customer: String) -> String {
        #"{"event":"\#(type)","ts":"\#(ts)","user_id":"\#(customer)"}"# + "\n"
    }

    @Test("a wait begun in one run fires in the next; state show lists it with its wakes_at; two runs print what one run prints")
    func waitAcrossRuns() throws {
        try write("p.yaml", Self.drip)
        let part1 = Self.event("signup", "2024-03-04T10:00:00Z", "c-1") + Self.event("signup", "2024-03-04T10:20:00Z", "c-2")
        let part2 = Self.event("signup", "2024-03-04T11:10:00Z", "c-3")
        try write("part1.ndjson", part1)
        try write("part2.ndjson", part2)
        try write("whole.ndjson", part1 + part2)

        let first = try run(["run", "p.yaml", "part1.ndjson", "--state", "st", "--emit", "all"])
        #expect(Self.kinds(first.out) == ["enter c-1 10:00:00", "enter c-2 10:20:00"])

        let shown = try CLI.run(["state", "show", "--state", "st", "c-1"], in: dir)
        #expect(shown.status == 0)
        #expect(shown.out.contains(
            #""journeys":[{"journey":"drip","instance":null,"step":"steps[0]","entered_at":"2024-03-04T10:00:00Z","entry":1,"variant":null,"wakes_at":"2024-03-04T11:00:00Z"}]"#),
            "\(shown.out)")

        // The clock reaches 11:10 with part 2: c-1's wait (11:00) has ended, c-2's (11:20)
        // fires only when --until moves the clock past it; c-3's (12:10) stays pending.
        let second = try run(["run", "p.yaml", "part2.ndjson", "--state", "st", "--emit", "all",
                              "--until", "2024-03-04T12:00:00Z"])
        #expect(Self.kinds(second.out) == [
            "action c-1 11:00:00", "exit c-1 11:00:00", "enter c-3 11:10:00", "action c-2 11:20:00", "exit c-2 11:20:00",
        ])
        let after = try CLI.run(["state", "show", "--state", "st", "c-3"], in: dir)
        #expect(after.out.contains(#""entered_at":"2024-03-04T11:10:00Z","entry":1,"variant":null,"wakes_at":"2024-03-04T12:10:00Z""#),
                "\(after.out)")

        let whole = try run(["run", "p.yaml", "whole.ndjson", "--emit", "all", "--until", "2024-03-04T12:00:00Z"])
        #expect(first.out + second.out == whole.out)
    }

    @Test("without --until, a timer due after the last event stays pending; the next run fires it when its events pass it")
    func pendingWithoutUntil() throws {
        try write("p.yaml", Self.drip)
        try write("a.ndjson", Self.event("signup", "2024-03-04T10:00:00Z", "c-1"))
        try write("b.ndjson", Self.event("page_view", "2024-03-04T10:59:59.999Z", "c-9"))
        try write("c.ndjson", Self.event("page_view", "2024-03-04T11:00:00Z", "c-9"))
        #expect(try run(["run", "p.yaml", "a.ndjson", "--state", "st"]).out.isEmpty)
        #expect(try run(["run", "p.yaml", "b.ndjson", "--state", "st"]).out.isEmpty)
        let fired = try run(["run", "p.yaml", "c.ndjson", "--state", "st"])
        #expect(Self.kinds(fired.out) == ["action c-1 11:00:00"])
    }

    @Test("after --until TIME, the next run's events behind TIME minus lateness are late; one at that instant is not")
    func untilMovesTheWatermark() throws {
        try write("p.yaml", Self.drip.replacingOccurrences(
            of: "type: event }", with: "type: event, lateness: 5m }"))
        try write("a.ndjson", Self.event("signup", "2024-03-04T10:00:00Z", "c-1"))
        try write("b.ndjson", Self.event("signup", "2024-03-04T10:54:59Z", "c-2") + Self.event("signup", "2024-03-04T10:55:00Z", "c-3"))
        let first = try run(["run", "p.yaml", "a.ndjson", "--state", "st", "--emit", "all", "--until", "2024-03-04T11:00:00Z"])
        #expect(Self.kinds(first.out) == ["enter c-1 10:00:00", "action c-1 11:00:00", "exit c-1 11:00:00"])
        let second = try run(["run", "p.yaml", "b.ndjson", "--state", "st", "--emit", "enter"])
        #expect(Self.kinds(second.out) == ["enter c-3 10:55:00"])
        #expect(second.err.contains("b.ndjson:1: late event"), "\(second.err)")
    }

    @Test("a send deferred by quiet hours and one held by hold carry over to the next run; state show marks them")
    func deferredAndHeldAcrossRuns() throws {
        try write("p.yaml", """
            cairn: 1
            name: carry
            events: { customer: user_id, time: ts, type: event }
            profile:
              tickets: { count: type == "open", minus: type == "resolve" }
            channels:
              email: { quiet: 21:00-08:00, cap: 1 per 1d }
            journeys:
              - name: j
                entry: type == "go"
                hold: { when: profile.tickets > 0, max: 1d }
                steps:
                  - send: { channel: email, template: first }
                  - wait: { until: "09:00" }
                  - send: { channel: email, template: second }
            """)
        let part1 = Self.event("go", "2024-03-04T22:00:00Z", "c-1") + Self.event("open", "2024-03-04T22:00:00Z", "c-2")
            + Self.event("go", "2024-03-04T22:00:00Z", "c-2")
        let part2 = Self.event("resolve", "2024-03-05T10:00:00Z", "c-2") + Self.event("tick", "2024-03-06T12:00:00Z", "c-9")
        try write("part1.ndjson", part1)
        try write("part2.ndjson", part2)
        try write("whole.ndjson", part1 + part2)
        let first = try run(["run", "p.yaml", "part1.ndjson", "--state", "st", "--emit", "all"])
        let shown = try CLI.run(["state", "show", "--state", "st", "c-1", "c-2"], in: dir)
        // c-1 waits for the end of quiet hours (08:00 UTC); c-2's send is held, at most 1d.
        #expect(shown.out.contains(#""step":"steps[0]","entered_at":"2024-03-04T22:00:00Z","entry":1,"variant":null,"wakes_at":"2024-03-05T08:00:00Z","deferred":true}"#),
                "\(shown.out)")
        #expect(shown.out.contains(#""step":"steps[0]","entered_at":"2024-03-04T22:00:00Z","entry":1,"variant":null,"wakes_at":"2024-03-05T22:00:00Z","held":true}"#),
                "\(shown.out)")
        let second = try run(["run", "p.yaml", "part2.ndjson", "--state", "st", "--emit", "all"])
        // first goes out when quiet hours end (c-1) or the ticket is resolved (c-2); the wait
        // until 09:00 starts then, and second finds the cap (1 per 1d) full.
        #expect(Self.kinds(second.out) == [
            "action c-1 08:00:00", "skip c-1 09:00:00", "exit c-1 09:00:00",
            "action c-2 10:00:00", "skip c-2 09:00:00", "exit c-2 09:00:00",
        ])
        #expect(second.out.contains(#""time":"2024-03-06T09:00:00Z","customer":"c-2","journey":"j","instance":null,"step":"steps[2]","channel":"email","template":"second","variant":null,"reason":"frequency_cap"}"#))
        let whole = try run(["run", "p.yaml", "whole.ndjson", "--emit", "all"])
        #expect(first.out + second.out == whole.out)
    }

    /// A pipeline that uses waits, wait_for, a keyed journey with exit, rolling and calendar
    /// caps, priority and a split with a holdout.
    static let busy = """
        cairn: 1
        name: busy
        events: { customer: user_id, time: ts, type: event }
        profile:
          carts: { count: type == "add_to_cart", window: 1d }
        channels:
          email: { cap: 2 per 1d }
          push: { cap: 1 per calendar day, timezone: '"Europe/Paris"' }
        journeys:
          - name: cart
            entry: type == "add_to_cart"
            key: event.props.cart
            exit: type == "purchase" && event.props.cart == journey.key
            goal: { when: type == "purchase", within: 1d }
            steps:
              - wait: 30m
              - send: { channel: email, template: reminder }
              - wait_for: { event: type == "page_view", timeout: 2h }
                then: [ { send: { channel: push, template: welcome-back } } ]
                else: [ { send: { channel: email, template: last-call } } ]
              - split:
                  salt: busy-1
                  variants:
                    offer: { weight: 2, steps: [ { send: { channel: push, template: offer } } ] }
                    control: { weight: 1, holdout: true }
              - send: { channel: email, template: final }
          - name: browse
            entry: type == "page_view" && profile.carts > 0
            priority: 3
            steps:
              - send: { channel: push, template: browse }
        """

    /// Events in time order: 30 customers over two days, 1 s to 4 min apart (no two at one time).
    static func busyEvents(count: Int = 900) -> [String] {
        var rng: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(bound))
        }
        let start = ISO8601DateFormatter().date(from: "2024-03-04T06:00:00Z")!
        var t = start.timeIntervalSince1970
        let types = ["add_to_cart", "add_to_cart", "page_view", "page_view", "page_view", "purchase"]
        let formatter = ISO8601DateFormatter()
        var lines: [String] = []
        for _ in 0..<count {
            t += Double(1 + next(240))
            let type = types[next(types.count)]
            let customer = "c-\(next(30))"
            let ts = formatter.string(from: Date(timeIntervalSince1970: t))
            lines.append(#"{"event":"\#(type)","ts":"\#(ts)","user_id":"\#(customer)","props":{"cart":"k\#(next(3))"}}"# + "\n")
        }
        return lines
    }

    @Test("one file, two files, tiny reads, and two runs over a state give byte-identical records")
    func determinism() throws {
        try write("p.yaml", Self.busy)
        let lines = Self.busyEvents()
        let cut = lines.count * 2 / 5
        try write("all.ndjson", lines.joined())
        try write("head.ndjson", lines[..<cut].joined())
        try write("tail.ndjson", lines[cut...].joined())
        let until = ["--emit", "all", "--until", "2024-03-07T00:00:00Z"]

        let one = try run(["run", "p.yaml", "all.ndjson"] + until)
        let kinds = Set(Self.kinds(one.out).map { $0.split(separator: " ")[0] })
        #expect(kinds.isSuperset(of: ["enter", "exit", "action", "skip", "goal"]), "\(kinds)")
        #expect(one.out.contains(#""reason":"frequency_cap""#))
        #expect(one.out.contains(#""reason":"holdout""#))
        #expect(one.out.contains(#""template":"welcome-back""#) && one.out.contains(#""template":"last-call""#))

        let again = try run(["run", "p.yaml", "all.ndjson"] + until)
        #expect(again.out == one.out)
        let two = try run(["run", "p.yaml", "head.ndjson", "tail.ndjson"] + until)
        #expect(two.out == one.out)
        let tiny = try run(["run", "p.yaml", "all.ndjson", "--read-size", "7"] + until)
        #expect(tiny.out == one.out)
        let stdin = try CLI.run(["run", "p.yaml", "head.ndjson", "-"] + until, in: dir, stdin: Data(lines[cut...].joined().utf8))
        #expect(stdin.out == one.out)

        let part1 = try run(["run", "p.yaml", "head.ndjson", "--state", "st", "--emit", "all"])
        let part2 = try run(["run", "p.yaml", "tail.ndjson", "--state", "st"] + until)
        #expect(part1.out + part2.out == one.out)
    }

    @Test("events shuffled within the lateness give the same records, byte for byte, as the stream in time order")
    func shuffledWithinLateness() throws {
        try write("p.yaml", Self.busy.replacingOccurrences(
            of: "events: { customer: user_id, time: ts, type: event }",
            with: "events: { customer: user_id, time: ts, type: event, lateness: 10m }"))
        let lines = Self.busyEvents()
        // Each group of three lines in reverse: at most 8 minutes out of order.
        var shuffled: [String] = []
        var k = 0
        while k < lines.count {
            shuffled += lines[k..<min(k + 3, lines.count)].reversed()
            k += 3
        }
        try write("sorted.ndjson", lines.joined())
        try write("shuffled.ndjson", shuffled.joined())
        let args = ["--emit", "all", "--until", "2024-03-07T00:00:00Z"]
        let sorted = try run(["run", "p.yaml", "sorted.ndjson"] + args)
        let late = try run(["run", "p.yaml", "shuffled.ndjson"] + args)
        #expect(late.err.isEmpty, "\(late.err)")
        #expect(late.out == sorted.out)
        #expect(sorted.out.split(separator: "\n").count > 1000)
    }

    @Test("a split's variant is the same in every run and in a changed pipeline that keeps the salt and weights")
    func stableVariants() throws {
        try write("p.yaml", Self.busy)
        try write("all.ndjson", Self.busyEvents().joined())
        let changed = Self.busy
            .replacingOccurrences(of: "template: offer }", with: "template: offer-2 }")
            .replacingOccurrences(of: "      - send: { channel: email, template: final }", with: "      - wait: 1h")
        #expect(changed != Self.busy)
        try write("changed.yaml", changed)
        let a = try run(["run", "p.yaml", "all.ndjson", "--emit", "action,skip,goal"])
        let b = try run(["run", "p.yaml", "all.ndjson", "--emit", "action,skip,goal"])
        let c = try run(["run", "changed.yaml", "all.ndjson", "--emit", "action,skip,goal"])
        #expect(a.out == b.out)
        let va = Self.variants(a.out), vc = Self.variants(c.out)
        #expect(va.count >= 10, "\(va)")
        #expect(Set(va.values) == ["offer", "control"])
        for (instance, variant) in vc {
            #expect(va[instance] == nil || va[instance] == variant, "\(instance): \(va[instance] ?? "") then \(variant)")
        }
    }

    @Test("under a changed pipeline an instance continues at a step of the same name, exits with step_removed without one, and ends silently when its journey is gone")
    func pipelineChange() throws {
        try write("v1.yaml", """
            cairn: 1
            name: change
            events: { customer: user_id, time: ts, type: event }
            journeys:
              - name: drip
                entry: type == "signup"
                steps:
                  - id: pause
                    wait: 1h
                  - send: { channel: email, template: drip }
              - name: gone
                entry: type == "signup"
                steps:
                  - wait: 1h
                  - send: { channel: email, template: gone }
            """)
        // The wait keeps its id behind a new first step; 'gone' is no more.
        try write("moved.yaml", """
            cairn: 1
            name: change
            events: { customer: user_id, time: ts, type: event }
            journeys:
              - name: drip
                entry: type == "signup"
                steps:
                  - send: { channel: email, template: first }
                  - id: pause
                    wait: 1h
                  - send: { channel: email, template: drip-2 }
            """)
        // No step is named 'pause' any more.
        try write("renamed.yaml", """
            cairn: 1
            name: change
            events: { customer: user_id, time: ts, type: event }
            journeys:
              - name: drip
                entry: type == "signup"
                steps:
                  - id: rest
                    wait: 1h
                  - send: { channel: email, template: drip }
            """)
        try write("a.ndjson", Self.event("signup", "2024-03-04T10:00:00Z", "c-1"))
        try write("b.ndjson", Self.event("ping", "2024-03-04T12:00:00Z", "c-9"))
        for st in ["st-moved", "st-renamed"] {
            #expect(Self.kinds(try run(["run", "v1.yaml", "a.ndjson", "--state", st, "--emit", "all"]).out)
                    == ["enter c-1 10:00:00", "enter c-1 10:00:00"])
        }
        let moved = try run(["run", "moved.yaml", "b.ndjson", "--state", "st-moved", "--emit", "all"])
        #expect(Self.kinds(moved.out) == ["action c-1 11:00:00", "exit c-1 11:00:00"], "\(moved.out)")
        #expect(moved.out.contains(#""journey":"drip","instance":null,"step":"steps[2]","channel":"email","template":"drip-2""#))
        #expect(!moved.out.contains(#""journey":"gone""#))

        let renamed = try run(["run", "renamed.yaml", "b.ndjson", "--state", "st-renamed", "--emit", "all"])
        #expect(renamed.out.contains(#""customer":"c-1","journey":"drip","instance":null,"#), "\(renamed.out)")
        #expect(renamed.out.contains(#""reason":"step_removed"}"#), "\(renamed.out)")
        // docs/journeys.md, Records: an exit record's `step` is "where it was".
        #expect(renamed.out.contains(#""step":"pause","reason":"step_removed"}"#), "\(renamed.out)")
        #expect(!renamed.out.contains(#""kind":"action""#))
        #expect(!renamed.out.contains(#""journey":"gone""#))
    }

    static let perCart = """
        cairn: 1
        name: carts
        events: { customer: user_id, time: ts, type: event }
        journeys:
          - name: cart
            entry: type == "add_to_cart"
            key: event.props.cart
            REENTRY
            steps: [ { wait: 1h }, { send: { channel: email, template: reminder } } ]
        """

    /// `count` add_to_cart events of one customer, one cart each, a second apart.
    static func carts(_ count: Int) -> String {
        (0..<count).map { k in
            #"{"event":"add_to_cart","ts":"2024-03-04T10:\#(String(format: "%02d:%02d", k / 60, k % 60))Z","user_id":"c-1","props":{"cart":"cart-\#(k)"}}"# + "\n"
        }.joined()
    }

    @Test("a customer runs at most 256 instances of a keyed journey at once; the 257th entry is refused, the others go on")
    func instanceLimit() throws {
        try write("p.yaml", Self.perCart.replacingOccurrences(of: "REENTRY", with: "reentry: { mode: after_exit }"))
        try write("carts.ndjson", Self.carts(257))
        let result = try CLI.run(["run", "p.yaml", "carts.ndjson", "--emit", "enter"], in: dir)
        #expect(result.status == 0, "\(result.err.prefix(200))")
        #expect(Self.kinds(result.out).count == 256)
    }

    @Test("re-entry memory of 256 keys does not limit a journey whose instances have ended")
    func rememberedKeys() throws {
        try write("p.yaml", Self.perCart.replacingOccurrences(of: "REENTRY", with: "reentry: { mode: never }")
            .replacingOccurrences(of: "[ { wait: 1h }, { send", with: "[ { send"))
        try write("carts.ndjson", Self.carts(300))
        let result = try CLI.run(["run", "p.yaml", "carts.ndjson"], in: dir)
        #expect(result.status == 0, "\(result.err.prefix(200))")
        #expect(Self.kinds(result.out).count == 300)
    }

    /// The string value of key `name` in a record line ("?" when absent).
    static func field(_ name: String, in line: Substring) -> String {
        guard let r = line.range(of: "\"\(name)\":\"") else { return "?" }
        return String(line[r.upperBound...].prefix { $0 != "\"" })
    }

    /// "KIND CUSTOMER HH:MM:SS" per record.
    static func kinds(_ output: String) -> [String] {
        output.split(separator: "\n").map { line in
            "\(field("kind", in: line)) \(field("customer", in: line)) \(field("time", in: line).dropFirst(11).prefix(8))"
        }
    }

    /// "customer/instance" → variant, for records that carry a variant.
    static func variants(_ output: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard line.contains(#""variant":""#) else { continue }
            out["\(field("customer", in: line))/\(field("instance", in: line))"] = field("variant", in: line)
        }
        return out
    }

    @Test("with --clock wall, a wait in a live stream ends on the wall clock while the pipe stays open and idle")
    func wallClock() throws {
        try write("p.yaml", """
            cairn: 1
            name: live
            events: { customer: user_id, time: ts, type: event }
            journeys:
              - name: later
                entry: type == "signup"
                steps: [ { wait: 1s }, { send: { channel: email, template: hello } } ]
            """)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", "p.yaml", "--clock", "wall"]
        process.currentDirectoryURL = dir
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // An event stamped now: its wait ends a second later, with no event after it.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let stamp = formatter.string(from: Date())
        input.fileHandleForWriting.write(Data(#"{"event":"signup","ts":"\#(stamp)","user_id":"c-1"}"#.utf8 + [0x0A]))
        // The action arrives while stdin is still open (within 10 s, not before the wait ends);
        // if it never does, the process is stopped so that the read below ends and the test fails.
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { if process.isRunning { process.terminate() } }
        let sent = Date()
        var received = Data()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !received.contains(0x0A) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received += chunk
        }
        let arrived = Date()
        input.fileHandleForWriting.closeFile()
        process.waitUntilExit()
        let line = String(decoding: received, as: UTF8.self)
        #expect(line.contains(#""kind":"action""#) && line.contains(#""template":"hello""#), "\(line)")
        #expect(arrived < deadline)
        #expect(arrived.timeIntervalSince(sent) >= 0.9, "the wait of 1s ended early")
        #expect(process.terminationStatus == 0)
    }
}
