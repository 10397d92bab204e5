import Foundation
@testable import CairnCore

// Runs generated journey pipelines through `Runner` in process and compares the records with
// `JourneyModel`, customer by customer.

enum JourneyHarness {
    /// Runs `pipeline` over `events` with `--emit all` and `--until until` (seconds) if given;
    /// returns the output lines.
    static func run(_ pipeline: CompiledPipeline, events: [JMEvent], until: Int64?) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-journey-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputURL = dir.appendingPathComponent("in.ndjson")
        try Data(events.map { $0.line + "\n" }.joined().utf8).write(to: inputURL)
        let outputURL = dir.appendingPathComponent("out.ndjson")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputURL)
        let sink = OutputSink(fd: handle.fileDescriptor, flushEachRecord: false, capacity: 4096)
        var options = RunOptions()
        options.emit = .all
        options.until = until.map { $0 * 1_000_000_000 }
        let state = try RunState(directory: nil, pipeline: pipeline, fingerprint: 0)
        let collector = RunnerTests.Collector()
        let runner = Runner(pipeline: pipeline, options: options, output: sink, observer: collector, state: state)
        let end = runner.run(inputs: [inputURL.path])
        try handle.close()
        guard end == .finished, collector.bad.isEmpty, collector.late.isEmpty else {
            throw HarnessError.run("run ended \(end); bad \(collector.bad.map(\.reason)); late \(collector.late.count)")
        }
        let text = String(decoding: try Data(contentsOf: outputURL), as: UTF8.self)
        return text.split(separator: "\n").map(String.init)
    }

    enum HarnessError: Error { case run(String) }

    /// The pipeline's text compiled as `cairn run` compiles it.
    static func compile(_ pipeline: JMPipeline) -> Result<CompiledPipeline, PipelineErrors> {
        PipelineCompiler.compile(file: "journey-model.yaml", source: pipeline.yaml)
    }

    /// The members of a record line, in order, values as JSON text. Records hold strings
    /// without escapes, null and integers only.
    static func members(_ line: String) -> [(String, String)]? {
        var out: [(String, String)] = []
        let s = Array(line.utf8)
        guard s.first == UInt8(ascii: "{"), s.last == UInt8(ascii: "}") else { return nil }
        var i = 1
        func string() -> String? {
            guard i < s.count, s[i] == UInt8(ascii: "\"") else { return nil }
            let start = i
            i += 1
            while i < s.count, s[i] != UInt8(ascii: "\"") {
                if s[i] == UInt8(ascii: "\\") { return nil }
                i += 1
            }
            guard i < s.count else { return nil }
            i += 1
            return String(decoding: s[start..<i], as: UTF8.self)
        }
        while i < s.count - 1 {
            guard let key = string(), i < s.count, s[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            let value: String
            if let v = string() {
                value = v
            } else {
                let start = i
                while i < s.count - 1, s[i] != UInt8(ascii: ",") { i += 1 }
                value = String(decoding: s[start..<i], as: UTF8.self)
            }
            out.append((String(key.dropFirst().dropLast()), value))
            if i < s.count - 1 {
                guard s[i] == UInt8(ascii: ",") else { return nil }
                i += 1
            }
        }
        return out
    }

    enum EntryNumbers { case modelled, written }

    /// What a comparison found beyond pass or fail, for the report.
    struct Observations {
        /// The `step` of `completed` exits, as written.
        var completedSteps: Set<String> = []
    }

    /// Compares the lines of one customer with the model's records. Returns nil when they
    /// agree, else the first difference.
    ///
    /// With `entryNumbers: .written`, each instance's entry number is taken from cairn's
    /// `enter` record instead of the model (and ids are checked with it): everything else is
    /// still compared.
    static func compare(_ lines: [String], _ model: JourneyModel, entryNumbers: EntryNumbers = .modelled,
                        observations: inout Observations) -> (record: Int, text: String)? {
        let expected = model.records
        /// Per instance (journey, key, entry time and the model's entry number): cairn's.
        var written: [String: Int] = [:]
        for (n, line) in lines.enumerated() {
            guard n < expected.count else {
                return (n, "record \(n): expected no more records, got\n  \(line)")
            }
            var e = expected[n]
            guard let got = members(line) else { return (n, "record \(n): cannot read\n  \(line)") }
            if entryNumbers == .written {
                let instance = "\(e.journey)|\(e.instance ?? "\u{0}")|\(e.enteredAt)|\(e.entryNumber)"
                if e.kind == "enter", let value = got.first(where: { $0.0 == "entry" }), let number = Int(value.1) {
                    written[instance] = number
                }
                if let number = written[instance] {
                    e.entryNumber = number
                    if e.kind == "enter" { e.entry = number }
                }
            }
            let want = e.members
            let mismatch = (n, "record \(n): expected\n  \(e.description)\n  got\n  \(line)")
            guard got.map(\.0) == want.map(\.0) else { return mismatch }
            for ((key, value), (_, w)) in zip(got, want) {
                if let w {
                    if value != w { return mismatch }
                } else if key == "step" {
                    // A completed exit: any step name.
                } else if key == "reason" {
                    guard e.reasons.map({ "\"\($0)\"" }).contains(value) else { return mismatch }
                }
            }
            if e.kind == "exit", e.step == nil, let step = got.first(where: { $0.0 == "step" }) {
                observations.completedSteps.insert(step.1)
            }
        }
        if lines.count < expected.count {
            return (lines.count, "record \(lines.count): expected\n  \(expected[lines.count].description)\n  got no more records")
        }
        return nil
    }
}
