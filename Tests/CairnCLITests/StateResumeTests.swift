import Foundation
import Testing

/// kill -9 at random points of a run over several files (plain and .zst), then the same
/// command again until one finishes: the state and the set of record ids must equal those
/// of a run that was never interrupted.
@Suite("state survives kill -9", .serialized)
struct StateResumeTests {
    static let pipeline = """
        cairn: 1
        name: resume
        events: { customer: user_id, time: ts, type: event }
        profile:
          carts_1h:  { count: type == "add_to_cart", window: 1h, bucket: 5m }
          spend:     { sum: event.props.total, where: type == "purchase" }
          tickets:   { count: type == "ticket_opened", minus: type == "ticket_resolved" }
          last_page: { last: event.page, where: has(event.page) }
          skus_1d:   { distinct: event.props.sku, where: has(event.props.sku), window: 1d }
          ttl: 2d
        journeys:
          - name: cart-fan
            entry: type == "add_to_cart" && profile.carts_1h >= 2
            steps: [ { send: { channel: push, template: fan } } ]
          - name: buyer
            entry: type == "purchase" && profile.spend > 100.0
            steps: [ { send: { channel: email, template: thanks } } ]
          - name: browser
            entry: type == "page_view" && profile.skus_1d >= 3
            steps: [ { send: { channel: push, template: browse } } ]
        """

    /// Three inputs: two plain, one zstd; consecutive in event time, 24k events in all. With
    /// `swapNeighbours`, lines 1 and 2, 3 and 4, … of each file trade places (events about ten
    /// seconds apart: out of order, well within a lateness of minutes).
    static func makeInputs(in dir: URL, swapNeighbours: Bool = false) throws -> [String] {
        let gen = CLI.binary.deletingLastPathComponent().appendingPathComponent("cairn-gen").path
        var names: [String] = []
        for (i, start) in ["2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", "2024-03-03T00:00:00Z"].enumerated() {
            let name = "events-\(i).ndjson"
            try runTool(gen, ["--seed", "\(i + 7)", "--events", "8000", "--customers", "300", "--start", start,
                              "--rate", "0.1", "--out", name], in: dir)
            if swapNeighbours {
                let url = dir.appendingPathComponent(name)
                var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
                var k = 0
                while k + 1 < lines.count {
                    lines.swapAt(k, k + 1)
                    k += 2
                }
                try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
            }
            if i == 1 {
                try runTool("/usr/bin/env", ["zstd", "-q", "--rm", name], in: dir)
                names.append(name + ".zst")
            } else {
                names.append(name)
            }
        }
        return names
    }

    static func runTool(_ path: String, _ args: [String], in dir: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        p.currentDirectoryURL = dir
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(path) \(args) failed")
    }

    static func ids(_ output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            guard let r = line.range(of: #""id":""#) else { return nil }
            return String(line[r.upperBound...].prefix(16))
        }
    }

    @Test("killed at random events, the resumed runs end with the same state and record ids as one uninterrupted run",
          arguments: [1, 2, 3])
    func killAndResume(seed: UInt64) throws {
        try killAndResume(seed: seed, pipeline: Self.pipeline, swapNeighbours: false)
    }

    @Test("with lateness, events held for time order survive kill -9 in the checkpoint: same state and record ids",
          arguments: [4, 5, 6])
    func killAndResumeWithLateness(seed: UInt64) throws {
        let pipeline = Self.pipeline.replacingOccurrences(
            of: "events: { customer: user_id, time: ts, type: event }",
            with: "events: { customer: user_id, time: ts, type: event, lateness: 2m }")
        try killAndResume(seed: seed, pipeline: pipeline, swapNeighbours: true)
    }

    /// Journeys with keyed instances waiting for events and times, a split, a hold, caps and
    /// erasure: their instances, timers, re-entry memory and send logs live in the state.
    static let journeyPipeline = """
        cairn: 1
        name: resume-journeys
        events: { customer: user_id, time: ts, type: event, lateness: 2m }
        profile:
          tickets: { count: type == "ticket_opened", minus: type == "ticket_resolved" }
          ttl: 1d
        channels:
          email: { cap: 2 per 1d, quiet: 22:00-06:00 }
          push:  { cap: 1 per calendar day }
        erase: type == "email_preference" && event.subscribed == false
        journeys:
          - name: cart
            entry: type == "add_to_cart"
            key: event.props.cart_id
            exit: type == "purchase" && event.props.cart_id == journey.key
            hold: profile.tickets > 0
            goal: { when: type == "purchase", within: 2d }
            steps:
              - wait_for: { event: type == "checkout_started" && event.props.cart_id == journey.key, timeout: 30m }
                else:
                  - split:
                      salt: resume
                      variants:
                        mail: { weight: 2, steps: [ { send: { channel: email, template: cart } } ] }
                        nudge: { weight: 2, steps: [ { send: { channel: push, template: nudge } } ] }
                        control: { weight: 1, holdout: true }
          - name: after
            entry: type == "purchase"
            reentry: { mode: after_exit, cooldown: 6h }
            priority: 3
            steps:
              - wait: 2h
              - send: { channel: email, template: tips, data: { order: event.props.order_id } }
        """

    @Test("journeys survive kill -9 too: instances, timers, re-entry memory and send logs resume to the same records and state",
          arguments: [7, 8])
    func killAndResumeJourneys(seed: UInt64) throws {
        try killAndResume(seed: seed, pipeline: Self.journeyPipeline, swapNeighbours: true, extra: ["--emit", "all"])
    }

    func killAndResume(seed: UInt64, pipeline: String, swapNeighbours: Bool, extra: [String] = []) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let inputs = try Self.makeInputs(in: dir, swapNeighbours: swapNeighbours)
        let common = ["run", "p.yaml"] + inputs + ["--checkpoint-events", "700"] + extra

        let reference = try CLI.run(common + ["--state", "ref"], in: dir)
        #expect(reference.status == 0, "\(reference.err)")
        #expect(reference.err.isEmpty, "\(reference.err)")
        let referenceIDs = Self.ids(reference.out)
        #expect(referenceIDs.count > 100)
        #expect(Set(referenceIDs).count == referenceIDs.count)
        let referenceDump = try CLI.run(["state", "dump", "--state", "ref"], in: dir)
        #expect(referenceDump.status == 0)
        #expect(referenceDump.out.split(separator: "\n").count > 200)

        var rng = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(bound))
        }
        var collected: [String] = []
        var kills = 0
        for attempt in 0..<12 {
            // Four kills at random points, then a run to the end.
            var args = common + ["--state", "crashy"]
            if attempt < 4 { args += ["--kill-after-events", "\(1 + next(9000))"] }
            let run = try CLI.run(args, in: dir)
            collected += Self.ids(run.out)
            if attempt < 4 {
                #expect(run.status == 9, "expected SIGKILL, got \(run.status): \(run.err)")
                kills += 1
                continue
            }
            #expect(run.status == 0, "\(run.err)")
            break
        }
        #expect(kills == 4)
        // Records after a checkpoint may repeat; none may be missing or new.
        #expect(Set(collected) == Set(referenceIDs))
        let dump = try CLI.run(["state", "dump", "--state", "crashy"], in: dir)
        #expect(dump.out == referenceDump.out)

        // Once finished, the same command has nothing left to do.
        let again = try CLI.run(common + ["--state", "crashy"], in: dir)
        #expect(again.status == 0)
        #expect(again.out.isEmpty)
        #expect(again.err.contains("was read to its end by an earlier run on this state: skipped"))
    }

    @Test("a file that grew since the last run continues where the last run stopped",
          arguments: [("half", 0), ("under the 64 KiB fingerprinted at first", 100)])
    func grownFileContinues(_ what: String, firstLines: Int) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let inputs = try Self.makeInputs(in: dir)
        let whole = try Data(contentsOf: dir.appendingPathComponent(inputs[0]))
        let lines = whole.split(separator: 0x0A, omittingEmptySubsequences: false)
        let cut = firstLines > 0 ? firstLines : lines.count / 2
        let first = Data(lines[0..<cut].joined(separator: [0x0A])) + Data([0x0A])
        #expect(firstLines == 0 || first.count < 1 << 16, "\(what): \(first.count) bytes")
        try first.write(to: dir.appendingPathComponent("log.ndjson"))

        let reference = try CLI.run(["run", "p.yaml", inputs[0], "--state", "ref"], in: dir)
        #expect(reference.status == 0)
        let part1 = try CLI.run(["run", "p.yaml", "log.ndjson", "--state", "grow"], in: dir)
        #expect(part1.status == 0)
        try whole.write(to: dir.appendingPathComponent("log.ndjson"))
        let part2 = try CLI.run(["run", "p.yaml", "log.ndjson", "--state", "grow"], in: dir)
        #expect(part2.status == 0, "\(part2.err)")
        #expect(!part2.err.contains("is not the file"), "\(what): \(part2.err)")
        #expect(Self.ids(part1.out) + Self.ids(part2.out) == Self.ids(reference.out))
        let a = try CLI.run(["state", "dump", "--state", "ref"], in: dir)
        let b = try CLI.run(["state", "dump", "--state", "grow"], in: dir)
        #expect(a.out == b.out)
    }

    @Test("a second writer is refused at once with exit 75")
    func secondWriterRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        // The first writer reads a pipe that stays open until the second has tried.
        let first = Process()
        first.executableURL = CLI.binary
        first.arguments = ["run", "p.yaml", "--state", "st"]
        first.currentDirectoryURL = dir
        let feed = Pipe()
        first.standardInput = feed
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        // Wait until the first holds the lock (its lock file names its pid).
        var waited = 0
        while waited < 200, (try? String(contentsOf: dir.appendingPathComponent("st/lock"), encoding: .utf8))?
            .contains("\(first.processIdentifier)") != true {
            usleep(20_000)
            waited += 1
        }
        let second = try CLI.run(["run", "p.yaml", "--state", "st"], in: dir, stdin: Data())
        try feed.fileHandleForWriting.close()
        first.waitUntilExit()
        #expect(second.status == 75)
        #expect(second.err.contains("state directory 'st' is in use by another cairn process (pid \(first.processIdentifier))"))
        #expect(first.terminationStatus == 0)
    }
}
