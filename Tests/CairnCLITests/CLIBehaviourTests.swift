import Foundation
import Testing

/// End-to-end behaviour that golden folders cannot express: pipes closed early, large and
/// generated inputs, the JSON conformance suite through the command line.
struct CLIBehaviourTests {
    static let pipeline = CLI.repoRoot.appendingPathComponent("Tests/CairnCLITests/Cases/_shared/pipeline.yaml").path
    static let goodLine = #"{"event":"purchase","ts":"2024-03-01T09:00:00Z","user_id":"c-1","props":{"total":1}}"#

    @Test("a reader that closes early (| head) ends the run quietly with exit 0")
    func brokenPipe() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 200k matching events: far more than a pipe holds, so cairn is still writing when head exits.
        var text = ""
        for i in 0..<200_000 { text += #"{"event":"purchase","ts":"2024-03-01T09:00:00Z","user_id":"c-\#(i)"}"# + "\n" }
        let input = dir.appendingPathComponent("in.ndjson")
        try Data(text.utf8).write(to: input)
        let script = "\"$0\" run \"$1\" \"$2\" | head -n 2; echo \"status=${PIPESTATUS[0]}\" >&2"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script, CLI.binary.path, Self.pipeline, input.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: outData, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"kind":"action""#) })
        #expect(String(decoding: errData, as: UTF8.self) == "status=0\n")
    }

    @Test("from a live pipe, each event's records reach stdout before the next event arrives")
    func liveStream() throws {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", Self.pipeline]
        let inPipe = Pipe(), outPipe = Pipe()
        process.standardInput = inPipe
        process.standardOutput = outPipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            try? inPipe.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        let reader = outPipe.fileHandleForReading
        for customer in ["c-1", "c-2", "c-3"] {
            let line = #"{"event":"purchase","ts":"2024-03-01T09:00:00Z","user_id":"\#(customer)"}"# + "\n"
            inPipe.fileHandleForWriting.write(Data(line.utf8))
            // stdin stays open: the record must arrive anyway. A liveness check, not a speed
            // one: 10 s is ages for one line, and a run that held its output never sends it.
            var got = Data()
            while !got.contains(UInt8(ascii: "\n")) {
                var ready = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 10_000) == 1 else {
                    Issue.record("no record for \(customer) while stdin is still open")
                    return
                }
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                got.append(chunk)
            }
            let text = String(decoding: got, as: UTF8.self)
            #expect(text.hasPrefix(#"{"kind":"action""#) && text.contains(#""customer":"\#(customer)""#), "\(text)")
        }
    }

    @Test("--progress always draws a bar on stderr, counting the inputs' file sizes; never and auto (not a terminal) draw none")
    func progress() throws {
        let plain = CLI.repoRoot.appendingPathComponent("samples/shop.ndjson").path
        let zst = CLI.repoRoot.appendingPathComponent("samples/shop.ndjson.zst").path
        let size = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        let total = try size(plain) + size(zst)
        let drawn = try CLI.run(["run", "--progress", "always", "pipelines/shop.yaml", plain, zst])
        #expect(drawn.status == 0)
        // The .zst holds the same events again, so they are late (lateness 0s): their
        // warnings and the summary are lines of their own between and after the frames.
        func reports(_ text: String) -> [Substring] {
            text.split(separator: "\n").compactMap { line in line.range(of: "cairn: ").map { line[$0.lowerBound...] } }
        }
        func bar(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { line in line.range(of: "cairn: ").map { String(line[..<$0.lowerBound]) } ?? String(line) }
                .joined()
        }
        #expect(reports(drawn.err).last?.hasPrefix("cairn: 1999 late events skipped (first at ") == true, "\(drawn.err)")
        let frames = bar(drawn.err).split(separator: "\r").map { $0.replacingOccurrences(of: "\u{1B}[K", with: "") }
        // The last report of each input, then the clearing sequence.
        let last = frames.dropLast().last ?? ""
        #expect(last.hasPrefix("[########################] 100% "), "\(last)")
        let kb = String(format: "%.1f KB", Double(total) / 1000)
        #expect(last.contains(" \(kb)/\(kb) "), "\(last)")
        #expect(last.contains("\(drawn.out.split(separator: "\n").count) records  0 bad  [2/2]"), "\(last)")
        #expect(bar(drawn.err).hasSuffix("\r\u{1B}[K"))
        let quiet = try CLI.run(["run", "--progress", "never", "pipelines/shop.yaml", plain, zst])
        let auto = try CLI.run(["run", "pipelines/shop.yaml", plain, zst])
        #expect(!quiet.err.contains("\r") && !auto.err.contains("\r"))
        #expect(quiet.err == auto.err)
        #expect(reports(quiet.err) == reports(drawn.err))
        #expect(quiet.stdout == drawn.stdout && auto.stdout == drawn.stdout)
    }

    @Test("cairn eval places an error in a multi-line expression on its own line and column")
    func evalMultilineExpression() throws {
        // Columns count Unicode scalars: the é before the error is one column.
        let result = try CLI.run(["eval", "-n", "'a' +\n  '\u{e9}' + yy"])
        #expect(result.status == 78)
        #expect(result.err.hasPrefix("""
            <expression>:2:9: error: undeclared reference to 'yy'
                  '\u{e9}' + yy
                        ^~

            """), "\(result.err)")
    }

    @Test("output is byte-identical for any read size", arguments: [1, 5, 64, 1000, 65536])
    func readSizes(_ size: Int) throws {
        let events = CLI.repoRoot.appendingPathComponent("Tests/CairnCLITests/Cases/bad-lines-skipped/events.ndjson").path
        let reference = try CLI.run(["run", Self.pipeline, events, events + "", "-"], stdin: Data(Self.goodLine.utf8))
        let result = try CLI.run(["run", "--read-size", "\(size)", Self.pipeline, events, events, "-"],
                                 stdin: Data(Self.goodLine.utf8))
        #expect(result.status == reference.status)
        #expect(result.stdout == reference.stdout)
        #expect(result.stderr == reference.stderr)
        #expect(!reference.stdout.isEmpty)
    }

    @Test("--errors FILE records every bad line as NDJSON with source, line, offset, reason and raw")
    func errorsFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let errors = dir.appendingPathComponent("bad.ndjson")
        var input = Self.goodLine + "\n"
        for i in 0..<30 { input += "{broken \(i)\n" }
        input += String(repeating: "x", count: 1000) + "\n"
        let result = try CLI.run(["run", "--errors", errors.path, Self.pipeline], stdin: Data(input.utf8))
        #expect(result.status == 0)
        let lines = try String(contentsOf: errors, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 31)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["source"] as? String == "<stdin>")
        #expect(first?["line"] as? Int == 2)
        #expect(first?["offset"] as? Int == Self.goodLine.utf8.count + 1)
        #expect(first?["raw"] as? String == "{broken 0")
        #expect((first?["reason"] as? String)?.hasPrefix("invalid JSON at column ") == true)
        let last = try JSONSerialization.jsonObject(with: Data(lines[30].utf8)) as? [String: Any]
        #expect((last?["raw"] as? String)?.count == 256)
        // stderr shows the first ten, then counts.
        #expect(result.err.components(separatedBy: "cairn: warning: <stdin>:").count - 1 == 10)
        #expect(result.err.contains("cairn: 31 bad lines skipped (first at <stdin>:2)"))
    }

    @Test("JSONTestSuite single-line documents between valid events: bad ones reported, good ones still processed")
    func jsonTestSuiteThroughCLI() throws {
        let suite = CLI.repoRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/JSONTestSuite/test_parsing")
        let names = try FileManager.default.contentsOfDirectory(atPath: suite.path).sorted()
        #expect(names.count == 318, "JSONTestSuite not found at \(suite.path)")
        var input = Data()
        var expectedBad = 0
        var good = 0
        var used = 0
        for name in names where name.hasSuffix(".json") {
            let bytes = try Data(contentsOf: suite.appendingPathComponent(name))
            // Only single-line documents: a newline inside would make it several NDJSON lines.
            guard !bytes.contains(0x0A), !bytes.contains(0x0D), !bytes.isEmpty else { continue }
            guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
            used += 1
            input.append(Data(Self.goodLine.utf8)); input.append(0x0A)
            good += 1
            input.append(bytes); input.append(0x0A)
            // No suite document is an event of this pipeline: valid ones are not objects with
            // user_id/ts/event, invalid ones are not JSON. Each is a bad line.
            expectedBad += 1
        }
        input.append(Data(Self.goodLine.utf8)); input.append(0x0A)
        good += 1
        #expect(used > 250)
        let result = try CLI.run(["run", Self.pipeline], stdin: input)
        #expect(result.status == 0)
        #expect(result.out.split(separator: "\n").count == good)
        #expect(result.err.contains("cairn: \(expectedBad) bad lines skipped"))
    }
}
