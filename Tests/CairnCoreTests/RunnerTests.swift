import Foundation
import Testing
@testable import CairnCore

/// The engine end to end, in process: pipeline text and input bytes in, record bytes out.
struct RunnerTests {
    static let pipeline = """
        cairn: 1
        name: shop
        events: { customer: user_id, time: ts, type: event }
        journeys:
          - name: thanks
            entry: type == "purchase" && event.props.total > 100.0
            steps:
              - send: { channel: email, template: order-thanks }
        """

    final class Collector: RunObserver {
        var bad: [BadLine] = []
        var late: [BadLine] = []
        func badLine(_ bad: BadLine) { self.bad.append(bad) }
        func lateEvent(_ late: BadLine) { self.late.append(late) }
        func progress(_ progress: RunProgress) {}
    }

    /// Runs `pipeline` over `input` (written to a temporary file) and returns stdout's bytes.
    static func run(
        _ input: [UInt8], pipeline: String = pipeline, options: RunOptions = RunOptions(), inMemoryState: Bool = false
    ) throws -> (output: [UInt8], end: RunEnd, bad: [BadLine], late: [BadLine], stats: RunStats) {
        let compiled = try PipelineCompiler.compile(file: "p.yaml", source: pipeline).get()
        let state = inMemoryState ? try RunState(directory: nil, pipeline: compiled, fingerprint: 1) : nil
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputURL = dir.appendingPathComponent("in.ndjson")
        try Data(input).write(to: inputURL)
        let outputURL = dir.appendingPathComponent("out.ndjson")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputURL)
        let sink = OutputSink(fd: handle.fileDescriptor, flushEachRecord: false, capacity: 4096)
        let collector = Collector()
        let runner = Runner(pipeline: compiled, options: options, output: sink, observer: collector, state: state)
        let end = runner.run(inputs: [inputURL.path])
        try handle.close()
        return (Array(try Data(contentsOf: outputURL)), end, collector.bad, collector.late, runner.stats)
    }

    @Test("a matching event becomes one action record with a reproducible id")
    func actionRecord() throws {
        let line = #"{"event":"purchase","ts":"2024-03-01T11:32:00Z","user_id":"c-1","props":{"total":120.5}}"#
        let result = try Self.run(Array((line + "\n").utf8))
        // The id was computed independently with Python's xxhash over the 40 bytes
        // struct.pack('<IIQQqQ', h32("thanks"), h32("steps[0]"), h64("c-1"), 0, t_ns, 1 | 2 << 32)
        // (docs/records.md).
        #expect(String(decoding: result.output, as: UTF8.self) == """
            {"kind":"action","id":"b26344645bd56365","time":"2024-03-01T11:32:00Z","customer":"c-1","journey":"thanks","instance":null,"step":"steps[0]","channel":"email","template":"order-thanks","variant":null}

            """)
        #expect(result.end == .finished)
        #expect(result.stats.events == 1 && result.stats.records == 1)
    }

    @Test("entry conditions see the event time as 'time' and iterate event arrays")
    func timeAndMacros() throws {
        let pipeline = """
            cairn: 1
            name: shop
            events: { customer: user_id, time: ts, type: event }
            journeys:
              - name: evening
                entry: time.getHours('+02:00') >= 18 && event.items.exists(i, i.sku.startsWith('A-'))
                steps:
                  - send: { channel: email, template: evening }
            """
        let lines = [
            #"{"event":"purchase","ts":"2024-03-01T16:05:00Z","user_id":"c-1","items":[{"sku":"B-1"},{"sku":"A-2"}]}"#,
            #"{"event":"purchase","ts":"2024-03-01T15:59:59Z","user_id":"c-2","items":[{"sku":"A-1"}]}"#,
            #"{"event":"purchase","ts":"2024-03-01T17:00:00Z","user_id":"c-3","items":[{"sku":"B-1"}]}"#,
            #"{"event":"purchase","ts":"2024-03-01T17:00:00Z","user_id":"c-4"}"#,
        ]
        let result = try Self.run(Array(lines.map { $0 + "\n" }.joined().utf8), pipeline: pipeline)
        let text = String(decoding: result.output, as: UTF8.self)
        #expect(result.stats.records == 1)
        #expect(text.contains(#""customer":"c-1""#))
    }

    @Test("events that do not match produce nothing; bad lines are reported and skipped")
    func badLinesBetweenGood() throws {
        let input = """
            {"event":"purchase","ts":"2024-03-01T11:32:00Z","user_id":"c-1","props":{"total":50}}
            {"event":"purchase","ts":"2024-03-01T11:32:00Z","user_id":"c-1","props":{"total":150}
            [1,2]
            {"event":"purchase","ts":"2024-03-01T11:33:00Z","props":{"total":150}}
            {"event":"purchase","ts":"yesterday","user_id":"c-2","props":{"total":150}}
            {"event":"","ts":"2024-03-01T11:33:00Z","user_id":"c-2"}
            {"event":"purchase","ts":"2024-03-01T12:34:00+01:00","user_id":"c-3","props":{"total":150}}

            """
        let result = try Self.run(Array(input.utf8))
        let out = String(decoding: result.output, as: UTF8.self)
        #expect(out.split(separator: "\n").count == 1)
        #expect(out.contains(#""time":"2024-03-01T11:34:00Z","customer":"c-3""#))
        #expect(result.bad.map(\.line) == [2, 3, 4, 5, 6])
        #expect(result.bad.map(\.reason) == [
            "invalid JSON at column 86: unexpected end of line",
            "not an event: the line is a JSON array, not an object",
            "no customer field 'user_id'",
            "invalid time 'ts': not an RFC 3339 timestamp such as 2024-03-01T11:32:00Z",
            "invalid type 'event': expected a non-empty string, got an empty string",
        ])
        #expect(result.stats.badLines == 5)
        #expect(result.end == .finished)
    }

    @Test("a lateness of 100 years behind a time near 1677 does not wrap the watermark: nothing is late")
    func watermarkSaturates() throws {
        let pipeline = Self.pipeline.replacingOccurrences(of: "type: event }", with: "type: event, lateness: 5217w }")
        let input = """
            {"event":"purchase","ts":"1677-09-22T00:00:00Z","user_id":"c-1","props":{"total":150}}
            {"event":"purchase","ts":"1677-09-21T12:00:00Z","user_id":"c-2","props":{"total":150}}

            """
        let result = try Self.run(Array(input.utf8), pipeline: pipeline)
        #expect(result.late.isEmpty)
        let out = String(decoding: result.output, as: UTF8.self).split(separator: "\n")
        #expect(out.count == 2)
        #expect(out.first?.contains(#""customer":"c-2""#) == true)
    }

    @Test(
        "--on-error fail stops at the first bad line after writing what came before, with batches read ahead or not",
        arguments: [(4096, 2), (1, 1), (1, 4)])
    func failFast(_ lines: Int, _ ahead: Int) throws {
        let input = """
            {"event":"purchase","ts":"2024-03-01T11:32:00Z","user_id":"c-1","props":{"total":150}}
            not json
            {"event":"purchase","ts":"2024-03-01T11:33:00Z","user_id":"c-2","props":{"total":150}}
            {"event":"purchase","ts":"2024-03-01T11:34:00Z","user_id":"c-3","props":{"total":150}}
            {"event":"purchase","ts":"2024-03-01T11:35:00Z","user_id":"c-4","props":{"total":150}}

            """
        var options = RunOptions()
        options.onError = .fail
        options.batchLines = lines
        options.batchesAhead = ahead
        let result = try Self.run(Array(input.utf8), options: options)
        guard case .stoppedAtBadLine(let bad) = result.end else {
            Issue.record("expected a stop, got \(result.end)")
            return
        }
        #expect(bad.line == 2)
        #expect(String(decoding: result.output, as: UTF8.self).split(separator: "\n").count == 1)
    }

    @Test("output is byte-identical whatever the read size", arguments: [1, 2, 3, 7, 64, 333, 4096, 1 << 20])
    func readSizeDoesNotMatter(_ size: Int) throws {
        var options = RunOptions()
        options.chunkSize = size
        try expectSameAsReference(options)
    }

    @Test(
        "output is byte-identical whatever the batch size and batches read ahead, with or without the scanning helper",
        arguments: [(1, 1, true, 1), (1, 1, false, 3), (1, 1, true, 4), (100, 3, true, 2), (100, 3, true, 7),
                    (4096, 16, true, 2), (4096, 17, false, 2), (1 << 16, 4096, true, 3), (1 << 20, 100_000, true, 2)])
    func batchingDoesNotMatter(_ bytes: Int, _ lines: Int, _ parallel: Bool, _ ahead: Int) throws {
        var options = RunOptions()
        options.chunkSize = 4096
        options.batchBytes = bytes
        options.batchLines = lines
        options.batchesAhead = ahead
        options.parallelScan = parallel
        try expectSameAsReference(options)
    }

    @Test(
        "with lateness, output and late events are the same whatever the batch size, batches ahead, read size or scanning helper",
        arguments: [(1, 1, true, 1, 1), (1, 1, false, 7, 2), (100, 3, true, 4096, 5), (4096, 17, false, 64, 2),
                    (1 << 20, 100_000, true, 1 << 20, 2)])
    func batchingDoesNotMatterWithLateness(_ bytes: Int, _ lines: Int, _ parallel: Bool, _ read: Int, _ ahead: Int) throws {
        var options = RunOptions()
        options.chunkSize = read
        options.batchBytes = bytes
        options.batchLines = lines
        options.batchesAhead = ahead
        options.parallelScan = parallel
        try expectSameAsReference(options, lateness: true)
    }

    @Test(
        "a customer key with escapes is the same customer as its plain form, on either path",
        arguments: [true, false])
    func escapedCustomerIsTheSameCustomer(_ parallel: Bool) throws {
        // Two purchases over 100 by c-7 and one by c-8: the journey enters once per customer
        // (re-entry never), whatever the spelling of the key.
        func input(_ seven: String) -> [UInt8] {
            Array("""
                {"event":"purchase","ts":"2024-03-01T11:00:00Z","user_id":"c-7","props":{"total":150}}
                {"event":"purchase","ts":"2024-03-01T11:00:01Z","user_id":"\(seven)","props":{"total":150}}
                {"event":"purchase","ts":"2024-03-01T11:00:02Z","user_id":"c-8","props":{"total":150}}

                """.utf8)
        }
        let pipeline = Self.pipeline.replacingOccurrences(
            of: "    entry: type", with: "    reentry: { mode: never }\n    entry: type")
        var options = RunOptions()
        options.parallelScan = parallel
        options.batchLines = 1
        let plain = try Self.run(input("c-7"), pipeline: pipeline, options: options, inMemoryState: true)
        let escaped = try Self.run(input(#"\u0063-\u0037"#), pipeline: pipeline, options: options, inMemoryState: true)
        #expect(String(decoding: escaped.output, as: UTF8.self) == String(decoding: plain.output, as: UTF8.self))
        #expect(escaped.stats.records == 2)
    }

    @Test(
        "keys up to 16 bytes (read from the crew's copy) and longer ones (from the line) name their customers exactly",
        arguments: [true, false])
    func shortAndLongCustomerKeys(_ parallel: Bool) throws {
        // Each customer buys twice (re-entry never: one record each); the 16-byte key also
        // spelt with escapes, and keys that share their first 16 bytes stay apart.
        let keys = ["k", "k-345678901234", "k-3456789012345", "k-34567890123456", "k-34567890123456x", "k-34567890123456y"]
        var lines: [String] = []
        for (second, key) in (keys + keys + [#"\u006b-34567890123456"#]).enumerated() {
            lines.append(#"{"event":"purchase","ts":"2024-03-01T11:00:\#(second < 10 ? "0" : "")\#(second)Z","user_id":"\#(key)","props":{"total":150}}"#)
        }
        let pipeline = Self.pipeline.replacingOccurrences(
            of: "    entry: type", with: "    reentry: { mode: never }\n    entry: type")
        var options = RunOptions()
        options.parallelScan = parallel
        options.batchLines = 4
        let run = try Self.run(Array((lines.joined(separator: "\n") + "\n").utf8), pipeline: pipeline, options: options,
                               inMemoryState: true)
        let customers = String(decoding: run.output, as: UTF8.self).split(separator: "\n").map { line in
            line.split(separator: ",").first { $0.hasPrefix("\"customer\":") }.map { String($0.dropFirst(11)) } ?? ""
        }
        #expect(customers == keys.map { "\"\($0)\"" })
    }

    /// 400 events a second apart (and bad lines); with `lateness`, each event's time is moved
    /// up to 250 s later (so none is more than that behind another: within the pipeline's
    /// 5m) and every 61st an hour back (late).
    private func expectSameAsReference(_ options: RunOptions, lateness: Bool = false) throws {
        var generator = SplitMix(seed: 7)
        var input = ""
        var late = 0
        for i in 0..<400 {
            let type = ["purchase", "page_view", "add_to_cart"][Int(generator.next() % 3)]
            let total = generator.next() % 300
            var second = (lateness ? 7200 : 600) + i
            if lateness {
                second += Int(generator.next() % 250)
                if i % 61 == 60 {
                    second -= 3600
                    late += 1
                }
            }
            let hour = 11 + second / 3600
            let minute = (second % 3600) / 60
            let ts = "2024-03-01T\(hour):\(minute < 10 ? "0" : "")\(minute):\(second % 60 < 10 ? "0" : "")\(second % 60).\(i % 10)Z"
            input += #"{"event":"\#(type)","ts":"\#(ts)","user_id":"c-\#(generator.next() % 50)","props":{"total":\#(total)}}"#
            input += i % 7 == 0 ? "\r\n" : "\n"
            if i % 53 == 0 { input += "{broken\n\n" }
        }
        var plain = RunOptions()
        plain.parallelScan = false
        let pipeline = lateness
            ? Self.pipeline.replacingOccurrences(of: "type: event }", with: "type: event, lateness: 5m }")
            : Self.pipeline
        let reference = try Self.run(Array(input.utf8), pipeline: pipeline, options: plain)
        let result = try Self.run(Array(input.utf8), pipeline: pipeline, options: options)
        #expect(result.output == reference.output)
        #expect(reference.stats.lateEvents == late)
        #expect(result.stats.lateEvents == late)
        #expect(result.late.map(\.line) == reference.late.map(\.line))
        #expect(result.late.map(\.reason) == reference.late.map(\.reason))
        // Each run writes its own temporary file, so compare everything but the path.
        func located(_ bad: [BadLine]) -> [String] {
            bad.map { "\($0.line) \($0.offset) \($0.reason) \($0.raw) \($0.rawTruncated)" }
        }
        #expect(located(result.bad) == located(reference.bad))
        #expect(reference.bad.count == 8)
        #expect(reference.stats.records > 50)
    }
}
