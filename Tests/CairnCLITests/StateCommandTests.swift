import Foundation
import Testing

/// `cairn run --state` and `cairn state` end to end: what they print, and how they refuse a
/// changed layout, a damaged directory and a missing one.
@Suite("state directories from the command line", .serialized)
final class StateCommandTests {
    let dir: URL

    init() throws {
        dir = try CLI.temporaryDirectory()
    }

    deinit {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// A state of the sample shop in `name`.
    func makeState(_ name: String = "st") throws {
        let run = try CLI.run(["run", "pipelines/shop.yaml", "samples/shop.ndjson", "--state", path(name)])
        #expect(run.status == 0, "\(run.err)")
    }

    func files(in name: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: dir.appendingPathComponent(name), includingPropertiesForKeys: nil)
    }

    @Test("show prints a customer's profile as journeys see it; an unknown customer exits 1")
    func show() throws {
        try makeState()
        let shown = try CLI.run(["state", "show", "--state", path("st"), "c-000017", "nobody"])
        #expect(shown.status == 1)
        #expect(shown.out == #"""
            {"customer":"c-000017","latest":"2024-03-01T15:26:09.291Z","profile":{"carts_24h":4,"spend_90d":196.0,"orders":1,"avg_order":196.0,"open_tickets":0,"skus_7d":14,"first_seen":"2024-03-01T09:00:00Z","city":"Paris","subscribed":true},"journeys":[]}

            """#)
        #expect(shown.err == "cairn: 'nobody' is not in the state\n")
    }

    @Test("dump prints every customer once, in a deterministic order, and equals show customer by customer")
    func dump() throws {
        try makeState("a")
        try makeState("b")
        let a = try CLI.run(["state", "dump", "--state", path("a")])
        let b = try CLI.run(["state", "dump", "--state", path("b")])
        #expect(a.status == 0)
        #expect(a.out == b.out)
        let lines = a.out.split(separator: "\n")
        let sample = try String(contentsOfFile: CLI.repoRoot.appendingPathComponent("samples/shop.ndjson").path, encoding: .utf8)
        var customers = Set<String>()
        for line in sample.split(separator: "\n") {
            guard let r = line.range(of: #""user_id":""#) else { continue }
            customers.insert(String(line[r.upperBound...].prefix { $0 != "\"" }))
        }
        let keys = lines.compactMap { line -> String? in
            guard let r = line.range(of: #"{"customer":""#) else { return nil }
            return String(line[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(Set(keys).count == keys.count)
        #expect(keys.count == customers.count, "every sample customer is kept (the ttl is 180 days)")
        let first = try CLI.run(["state", "show", "--state", path("a"), keys[0]])
        #expect(first.out == lines[0] + "\n")
    }

    @Test("stats counts customers and bytes and tells how far each input was read")
    func stats() throws {
        try makeState()
        let json = try CLI.run(["state", "stats", "--state", path("st"), "--format", "json"])
        #expect(json.status == 0)
        #expect(json.out.contains(#""customers":128,"expired":0,"#))
        #expect(json.out.contains(#""clock":"2024-03-01T20:11:45.403Z","events":2000,"records":"#))
        #expect(json.out.contains(#""inputs":[{"path":"samples/shop.ndjson","offset":661341,"line":2000,"done":true}]"#))
        let text = try CLI.run(["state", "stats", "--state", path("st")])
        #expect(text.out.contains("customers:  128\n"))
        #expect(text.out.contains("  samples/shop.ndjson: read to the end (661341 bytes)\n"))
    }

    @Test("forget erases a customer: gone from show and dump, and no byte of the key is left in any file")
    func forget() throws {
        try makeState()
        let key = "c-000017"
        let before = try files(in: "st").map { try Data(contentsOf: $0) }
        #expect(before.contains { $0.range(of: Data(key.utf8)) != nil })
        let forgot = try CLI.run(["state", "forget", "--state", path("st"), key, "nobody"])
        #expect(forgot.status == 0, "\(forgot.err)")
        // The id, recomputed with Python's xxhash: XXH64 of struct.pack('<QqQ', xxh64(key),
        // the state's clock in ns, 5) (docs/journeys.md, Records).
        #expect(forgot.out == #"{"kind":"erased","id":"d5e2c08e8df10db1","time":"2024-03-01T20:11:45.403Z","customer":"c-000017"}"# + "\n")
        #expect(forgot.err == "cairn: note: 'nobody' is not in the state: nothing to forget\n")
        for file in try files(in: "st") {
            let bytes = try Data(contentsOf: file)
            #expect(bytes.range(of: Data(key.utf8)) == nil, "\(file.lastPathComponent) still holds the key")
        }
        #expect(try CLI.run(["state", "show", "--state", path("st"), key]).status == 1)
        let dump = try CLI.run(["state", "dump", "--state", path("st")])
        #expect(!dump.out.contains(key))
        #expect(dump.out.split(separator: "\n").count == 127)
        // The next run carries on without them, and counts them afresh from their next event.
        let more = try CLI.run(["run", "pipelines/shop.yaml", "-", "--state", path("st")],
                               stdin: Data(#"{"event":"purchase","ts":"2024-03-02T00:00:00Z","user_id":"c-000017","props":{"total":5.0}}"#.utf8))
        #expect(more.status == 0, "\(more.err)")
        #expect(try CLI.run(["state", "show", "--state", path("st"), key]).out.contains(#""orders":1,"avg_order":5.0"#))
    }

    @Test("a pipeline whose profile layout differs is refused with what differs, exit 78")
    func layoutChange() throws {
        try makeState()
        let shop = try String(contentsOf: CLI.repoRoot.appendingPathComponent("pipelines/shop.yaml"), encoding: .utf8)
        let changed = shop.replacingOccurrences(of: "window: 24h, bucket: 1h", with: "window: 48h, bucket: 1h")
            .replacingOccurrences(of: "  ttl: 180d", with: "  views: { count: type == \"page_view\" }\n  ttl: 180d")
        try changed.write(to: dir.appendingPathComponent("changed.yaml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", path("changed.yaml"), "samples/shop.ndjson", "--state", path("st")])
        #expect(run.status == 78)
        #expect(run.out.isEmpty)
        #expect(run.err == """
            cairn: error: state directory '\(path("st"))' keeps profiles in another layout than this pipeline's
              profile 'carts_24h': count over a window of 1d in buckets of 1h in the state, count over a window of 2d in buckets of 1h in the pipeline
              profile 'views': new in the pipeline
              help: a state directory keeps one layout: undo the change to 'profile', or build a new state by replaying the archives into a fresh directory (cairn run PIPELINE ARCHIVE... --state NEW_DIR > /dev/null)

            """)
    }

    @Test("a pipeline changed without touching its profile layout carries on, with a note")
    func compatibleChange() throws {
        try makeState()
        let shop = try String(contentsOf: CLI.repoRoot.appendingPathComponent("pipelines/shop.yaml"), encoding: .utf8)
        let changed = shop.replacingOccurrences(of: "template: order-thanks", with: "template: order-thanks-v2")
        try changed.write(to: dir.appendingPathComponent("changed.yaml"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", path("changed.yaml"), "-", "--state", path("st")],
                              stdin: Data(#"{"event":"purchase","ts":"2024-03-02T00:00:00Z","user_id":"c-000017","props":{"total":5.0}}"#.utf8))
        #expect(run.status == 0)
        #expect(run.err.contains("has changed since the last checkpoint in \(path("st")); its profile layout is the same, so the state carries on"))
        #expect(run.out.contains("order-thanks-v2"))
        #expect(run.out.contains("welcome-back"), "the customer's second order counts the first from the state")
    }

    @Test("a flipped byte or a truncated state file is reported with the file's name, exit 74, never read")
    func damage() throws {
        let event = Data(#"{"event":"purchase","ts":"2024-03-02T00:00:00Z","user_id":"c-000017","props":{"total":5.0}}"#.utf8)
        for (file, damage) in [("slots.cairn", "flip"), ("index.cairn", "flip"), ("slots.cairn", "truncate"), ("journal", "flip")] {
            let name = "st-\(file)-\(damage)"
            try makeState(name)
            // A second, small checkpoint: the journal now holds only the pages it changed, so
            // it cannot repair the page damaged below.
            #expect(try CLI.run(["run", "pipelines/shop.yaml", "-", "--state", path(name)], stdin: event).status == 0)
            let url = dir.appendingPathComponent(name).appendingPathComponent(file)
            var bytes = try Data(contentsOf: url)
            if damage == "flip" {
                bytes[bytes.count / 2 + 100] ^= 0x20
            } else {
                bytes = bytes.prefix(bytes.count / 2)
            }
            try bytes.write(to: url)
            for args in [["run", "pipelines/shop.yaml", "samples/shop.ndjson", "--state", path(name)],
                         ["state", "dump", "--state", path(name)]] {
                let run = try CLI.run(args)
                #expect(run.status == 74, "\(file) \(damage): \(args[0]) exited \(run.status): \(run.err)")
                #expect(run.out.isEmpty)
                #expect(run.err.contains("cairn: error: state directory '\(path(name))' is damaged: "), "\(run.err)")
                #expect(run.err.contains(file), "\(run.err)")
            }
        }
    }

    @Test("cairn state on a path that is not a directory, or a directory without state, exits 66")
    func missing() throws {
        let run = try CLI.run(["state", "stats", "--state", path("nothing-here")])
        #expect(run.status == 66)
        #expect(run.err == "cairn: error: '\(path("nothing-here"))' is not a state directory: no such file or directory\n")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: false)
        let empty = try CLI.run(["state", "dump", "--state", path("empty")])
        #expect(empty.status == 66)
        #expect(empty.err == "cairn: error: '\(path("empty"))' is not a state directory: it holds no checkpoint\n"
            + "  help: 'cairn run PIPELINE INPUT... --state \(path("empty"))' makes one\n")
    }

    @Test("a run stopped by a bad line under --on-error fail checkpoints before it, and the next stops there again")
    func badLineStops() throws {
        let input = dir.appendingPathComponent("in.ndjson")
        let lines = try String(contentsOf: CLI.repoRoot.appendingPathComponent("samples/shop.ndjson"), encoding: .utf8)
            .split(separator: "\n")
        try (lines[0..<100].joined(separator: "\n") + "\n{nope\n" + lines[100..<200].joined(separator: "\n") + "\n")
            .write(to: input, atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let run = try CLI.run(["run", "pipelines/shop.yaml", input.path, "--state", path("st"), "--on-error", "fail"])
            #expect(run.status == 65)
            #expect(run.err.contains("\(input.path):101: "), "\(run.err)")
        }
        let stats = try CLI.run(["state", "stats", "--state", path("st"), "--format", "json"])
        #expect(stats.out.contains(#""events":100,"#))
    }

    @Test("standard input is checkpointed but never skipped: stats shows how far it got")
    func standardInput() throws {
        let sample = try String(contentsOf: CLI.repoRoot.appendingPathComponent("samples/shop.ndjson"), encoding: .utf8)
        // The second run gets the same events a day later: the same events again would be
        // late, behind the time the state has seen.
        let nextDay = sample.replacingOccurrences(of: "\"ts\":\"2024-03-01T", with: "\"ts\":\"2024-03-02T")
        for text in [sample, nextDay] {
            let run = try CLI.run(["run", "pipelines/shop.yaml", "--state", path("st")], stdin: Data(text.utf8))
            #expect(run.err.isEmpty, "\(run.err)")
            #expect(run.status == 0)
            #expect(!run.out.isEmpty)
        }
        let stats = try CLI.run(["state", "stats", "--state", path("st"), "--format", "json"])
        #expect(stats.out.contains(#""events":4000,"#))
        #expect(stats.out.contains(#"{"path":"-","offset":661341,"line":2000,"done":true}"#))
    }

    @Test("stats counts the events a stopped run left buffered for time order")
    func bufferedEvents() throws {
        let pipeline = """
            cairn: 1
            name: held
            events: { customer: user_id, time: ts, type: event, lateness: 1h }
            profile:
              n: { count: true }
            journeys:
              - name: any
                entry: profile.n > 100
                steps: [ { send: { channel: email, template: x } } ]
            """
        try pipeline.write(to: dir.appendingPathComponent("held.yaml"), atomically: true, encoding: .utf8)
        let input = """
            {"event":"a","ts":"2024-03-01T09:00:00Z","user_id":"c-1"}
            {"event":"a","ts":"2024-03-01T09:10:00Z","user_id":"c-2"}
            {"event":"a","ts":"2024-03-01T09:05:00Z","user_id":"c-1"}
            {nope

            """
        try input.write(to: dir.appendingPathComponent("in.ndjson"), atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", path("held.yaml"), path("in.ndjson"), "--state", path("st"), "--on-error", "fail"])
        #expect(run.status == 65)
        let json = try CLI.run(["state", "stats", "--state", path("st"), "--format", "json"])
        #expect(json.out.contains(#""events":0,"records":0,"buffered":3,"#), "\(json.out)")
        let text = try CLI.run(["state", "stats", "--state", path("st")])
        #expect(text.out.contains("buffered:   3 events held for time order (applied by the next run)\n"))
        #expect(try CLI.run(["state", "dump", "--state", path("st")]).out.isEmpty, "nothing buffered is applied yet")
    }

    @Test("--stats sums up a run on stderr, with the state's size and checkpoints when there is a directory")
    func runStats() throws {
        let withState = try CLI.run(["run", "pipelines/shop.yaml", "samples/shop.ndjson", "--state", path("st"), "--stats"])
        #expect(withState.status == 0)
        let line = withState.err.split(separator: "\n").last.map(String.init) ?? ""
        #expect(line.hasPrefix(#"cairn: stats: {"events":2000,"records":167,"bad_lines":0,"late_events":0,"entries_refused":0,"bytes":661341,"seconds":"#))
        #expect(line.contains(#""customers":128,"state_bytes":"#))
        #expect(line.contains(#""checkpoints":1,"last_checkpoint_ms":"#))
        let inMemory = try CLI.run(["run", "pipelines/shop.yaml", "samples/shop.ndjson", "--stats"])
        #expect(inMemory.err.hasPrefix(#"cairn: stats: {"events":2000,"records":167,"#))
        #expect(!inMemory.err.contains("checkpoints"))
        #expect(inMemory.out == withState.out)
    }
}
