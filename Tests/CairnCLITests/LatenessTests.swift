import Foundation
import Testing

/// `events.lateness`: events out of time order within the bound are applied in time order,
/// whatever the read size or the scan thread; later ones are reported as late and skipped.
@Suite("event-time order within lateness", .serialized)
struct LatenessTests {
    /// StateResumeTests' pipeline (profiles whose values depend on the order of events) with
    /// a lateness of two minutes.
    static let pipeline = StateResumeTests.pipeline.replacingOccurrences(
        of: "events: { customer: user_id, time: ts, type: event }",
        with: "events: { customer: user_id, time: ts, type: event, lateness: 2m }")

    static let lateness: Double = 120

    /// A time-ordered generated file: about one event every ten seconds.
    static func generate(in dir: URL, seed: Int, events: Int = 6000) throws -> [String] {
        let gen = CLI.binary.deletingLastPathComponent().appendingPathComponent("cairn-gen").path
        try StateResumeTests.runTool(gen, ["--seed", "\(seed)", "--events", "\(events)", "--customers", "200",
                                           "--start", "2024-03-01T00:00:00Z", "--rate", "0.1", "--out", "sorted.ndjson"],
                                     in: dir)
        let text = try String(contentsOf: dir.appendingPathComponent("sorted.ndjson"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    static func time(_ line: String) -> Double {
        let r = line.range(of: #""ts":""#)!
        let text = String(line[r.upperBound...].prefix { $0 != "\"" })
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)!.timeIntervalSince1970
    }

    /// The lines reordered at random but within the lateness: each is sorted by its time plus
    /// a jitter in [0, lateness), so no line arrives after one more than `lateness` later than
    /// it. Lines of the same time share a jitter, so they keep their order (as ties must).
    static func shuffled(_ lines: [String], seed: UInt64, within: Double) -> [String] {
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var keyed: [(Double, Int, String)] = []
        var last: (time: Double, jitter: Double) = (-1, 0)
        for (i, line) in lines.enumerated() {
            let t = time(line)
            if t != last.time {
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                last = (t, Double(rng >> 11) / Double(1 << 53) * within * 0.999)
            }
            keyed.append((t + last.jitter, i, line))
        }
        keyed.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return keyed.map(\.2)
    }

    @Test("a stream shuffled within the lateness gives the sorted stream's records, byte for byte, at any read size and with or without the scan thread",
          arguments: [1, 2, 3])
    func shuffledEqualsSorted(seed: UInt64) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let lines = try Self.generate(in: dir, seed: Int(seed) + 40)
        let shuffled = Self.shuffled(lines, seed: seed, within: Self.lateness)
        #expect(shuffled != lines)
        try (shuffled.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("shuffled.ndjson"),
                                                             atomically: true, encoding: .utf8)
        let reference = try CLI.run(["run", "p.yaml", "sorted.ndjson"], in: dir)
        #expect(reference.status == 0)
        #expect(reference.err.isEmpty, "\(reference.err)")
        #expect(reference.out.split(separator: "\n").count > 50)
        for (size, single) in [(1 << 20, false), (1 << 20, true), (7, false), (4096, true), (65536, false)] {
            var args = ["run", "p.yaml", "shuffled.ndjson", "--read-size", "\(size)"]
            if single { args.append("--single-thread") }
            let run = try CLI.run(args, in: dir)
            #expect(run.status == 0)
            #expect(run.err.isEmpty, "\(run.err)")
            #expect(run.stdout == reference.stdout, "read size \(size), single thread \(single)")
        }
        // Without lateness the same shuffle loses events: they are reported as late.
        let strict = StateResumeTests.pipeline
        try strict.write(to: dir.appendingPathComponent("strict.yaml"), atomically: true, encoding: .utf8)
        let lost = try CLI.run(["run", "strict.yaml", "shuffled.ndjson"], in: dir)
        #expect(lost.status == 0)
        #expect(lost.err.contains("late events skipped (first at shuffled.ndjson:"), "\(lost.err)")
    }

    @Test("ties keep input order, whatever their place in the buffer")
    func tiesKeepInputOrder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            cairn: 1
            name: ties
            events: { customer: user_id, time: ts, type: event, lateness: 10m }
            journeys:
              - name: all
                entry: type == "a"
                steps: [ { send: { channel: email, template: t } } ]
            """.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let input = [
            #"{"event":"a","ts":"2024-03-01T10:05:00Z","user_id":"c-1"}"#,
            #"{"event":"a","ts":"2024-03-01T10:00:00Z","user_id":"c-2"}"#,
            #"{"event":"a","ts":"2024-03-01T10:05:00Z","user_id":"c-3"}"#,
            #"{"event":"a","ts":"2024-03-01T10:00:00Z","user_id":"c-4"}"#,
            #"{"event":"a","ts":"2024-03-01T10:20:00Z","user_id":"c-5"}"#,
            #"{"event":"a","ts":"2024-03-01T10:12:00Z","user_id":"c-6"}"#,
        ].joined(separator: "\n") + "\n"
        let run = try CLI.run(["run", "p.yaml"], in: dir, stdin: Data(input.utf8))
        #expect(run.status == 0)
        #expect(run.err.isEmpty, "\(run.err)")
        let customers = run.out.split(separator: "\n").map { line -> String in
            let r = line.range(of: #""customer":""#)!
            return String(line[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(customers == ["c-2", "c-4", "c-1", "c-3", "c-6", "c-5"])
    }

    @Test("late events are reported on stderr (ten, then counted), in --errors and in the summary, and not applied")
    func lateEventsReported() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            cairn: 1
            name: late
            events: { customer: user_id, time: ts, type: event, lateness: 10m }
            journeys:
              - name: all
                entry: type == "a"
                steps: [ { send: { channel: email, template: t } } ]
            """.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        var lines = [#"{"event":"a","ts":"2024-03-01T10:15:00Z","user_id":"c-0"}"#]
        for i in 1...12 { lines.append(#"{"event":"a","ts":"2024-03-01T10:00:00Z","user_id":"c-\#(i)"}"#) }
        lines.append(#"{"event":"a","ts":"2024-03-01T10:05:00Z","user_id":"c-13"}"#)
        lines.append("{broken")
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("in.ndjson"),
                                                         atomically: true, encoding: .utf8)
        let run = try CLI.run(["run", "p.yaml", "in.ndjson", "--errors", "errors.ndjson"], in: dir)
        #expect(run.status == 0)
        // Only c-0 and c-13 (exactly at the watermark) are applied.
        #expect(run.out.split(separator: "\n").count == 2)
        #expect(run.out.contains(#""customer":"c-13""#))
        #expect(run.err.hasPrefix(
            "cairn: warning: in.ndjson:2: late event: its time 2024-03-01T10:00:00Z is before the watermark 2024-03-01T10:05:00Z (lateness 10m)\n"),
            "\(run.err)")
        #expect(run.err.components(separatedBy: ": late event: ").count - 1 == 10)
        #expect(run.err.contains("cairn: warning: further late events are counted, not shown (see the --errors file)\n"))
        #expect(run.err.contains("cairn: warning: in.ndjson:15: invalid JSON"))
        #expect(run.err.contains("cairn: 1 bad line skipped (first at in.ndjson:15)\n"))
        #expect(run.err.contains("cairn: 12 late events skipped (first at in.ndjson:2)\n"))
        let errors = try String(contentsOf: dir.appendingPathComponent("errors.ndjson"), encoding: .utf8)
            .split(separator: "\n")
        #expect(errors.count == 13)
        let first = try JSONSerialization.jsonObject(with: Data(errors[0].utf8)) as? [String: Any]
        #expect(first?["source"] as? String == "in.ndjson")
        #expect(first?["line"] as? Int == 2)
        #expect(first?["offset"] as? Int == lines[0].utf8.count + 1)
        #expect(first?["reason"] as? String
            == "late event: its time 2024-03-01T10:00:00Z is before the watermark 2024-03-01T10:05:00Z (lateness 10m)")
        #expect(first?["raw"] as? String == lines[1])

        let fail = try CLI.run(["run", "p.yaml", "in.ndjson", "--on-error", "fail"], in: dir)
        #expect(fail.status == 65)
        #expect(fail.out.isEmpty)
        #expect(fail.err.hasSuffix("""
            cairn: 1 late event found (first at in.ndjson:2)
            cairn: error: stopped at the first late event (--on-error fail)

            """), "\(fail.err)")
    }

    @Test("buffered events saved by a stopped run come out first when the next run's lateness is shorter")
    func shorterLatenessOnResume() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func pipeline(_ lateness: String) -> String {
            """
            cairn: 1
            name: resume
            events: { customer: user_id, time: ts, type: event, lateness: \(lateness) }
            profile:
              n: { count: true }
            journeys:
              - name: all
                entry: type == "a"
                steps: [ { send: { channel: email, template: t } } ]
            """
        }
        try pipeline("10m").write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        var lines: [String] = []
        for i in 0...20 {
            lines.append(#"{"event":"a","ts":"2024-03-01T10:\#(i < 10 ? "0" : "")\#(i):00Z","user_id":"c-\#(i)"}"#)
        }
        lines.append("{bad")
        lines.append(#"{"event":"a","ts":"2024-03-01T10:20:00Z","user_id":"c-new"}"#)
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("in.ndjson"),
                                                         atomically: true, encoding: .utf8)
        func customers(_ out: String) -> [String] {
            out.split(separator: "\n").map { line in
                let r = line.range(of: #""customer":""#)!
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
        }
        // Stopped at the bad line: 10:00 to 10:10 applied, 10:11 to 10:20 in the checkpoint.
        let first = try CLI.run(["run", "p.yaml", "in.ndjson", "--state", "st", "--on-error", "fail"], in: dir)
        #expect(first.status == 65)
        #expect(customers(first.out) == (0...10).map { "c-\($0)" })
        try pipeline("0s").write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let second = try CLI.run(["run", "p.yaml", "in.ndjson", "--state", "st"], in: dir)
        #expect(second.status == 0, "\(second.err)")
        #expect(customers(second.out) == (11...20).map { "c-\($0)" } + ["c-new"])
    }

    @Test("with lateness 0s, an event earlier than one before it is late, even across inputs; in order, nothing is")
    func strictOrderAcrossInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try StateResumeTests.pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        try (#"{"event":"a","ts":"2024-03-01T10:00:00Z","user_id":"c-1"}"# + "\n")
            .write(to: dir.appendingPathComponent("b.ndjson"), atomically: true, encoding: .utf8)
        try (#"{"event":"a","ts":"2024-03-01T09:59:59Z","user_id":"c-1"}"# + "\n")
            .write(to: dir.appendingPathComponent("a.ndjson"), atomically: true, encoding: .utf8)
        let ordered = try CLI.run(["run", "p.yaml", "a.ndjson", "b.ndjson"], in: dir)
        #expect(ordered.err.isEmpty)
        let reversed = try CLI.run(["run", "p.yaml", "b.ndjson", "a.ndjson"], in: dir)
        #expect(reversed.err.contains(
            "cairn: warning: a.ndjson:1: late event: its time 2024-03-01T09:59:59Z is before the watermark 2024-03-01T10:00:00Z (lateness 0s)\n"),
            "\(reversed.err)")
    }
}
