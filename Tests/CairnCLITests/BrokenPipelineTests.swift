import Foundation
import Testing

/// The broken-pipeline corpus: `Broken/NN-short-name.yaml`, each small and focused on one
/// mistake (its first line says which), with `NN-short-name.stderr`, the exact output of
/// `cairn check NN-short-name.yaml` run inside `Broken/`.
///
/// Every file must fail with exit 78; its text diagnostics must match byte for byte; and
/// `--format json` must give one JSON object per diagnostic, keys in the documented order,
/// agreeing with the text form on file, line, column, severity, message and hint.
/// `CAIRN_RECORD=1 swift test --filter BrokenPipelineTests` rewrites the `.stderr` files
/// from what cairn prints now; review every changed one by hand before committing.
struct BrokenPipelineTests {
    static let directory = CLI.repoRoot.appendingPathComponent("Tests/CairnCLITests/Broken")

    static let names: [String] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(".yaml".count)) }.sorted()
    }()

    static let jsonKeys = ["file", "line", "column", "end_column", "severity", "message", "hint"]

    @Test("the corpus has at least 45 broken pipelines, each with a comment saying what it tests")
    func corpusIsComplete() throws {
        #expect(Self.names.count >= 45)
        for name in Self.names {
            let text = try String(contentsOf: Self.directory.appendingPathComponent(name + ".yaml"), encoding: .utf8)
            #expect(text.hasPrefix("# "), "\(name).yaml should start with a comment saying what it tests")
        }
    }

    @Test("cairn check reports the broken pipeline exactly as recorded, with exit 78", arguments: names)
    func text(_ name: String) throws {
        let result = try CLI.run(["check", name + ".yaml"], in: Self.directory)
        #expect(result.status == 78, "\(name): exit \(result.status)")
        #expect(result.stdout.isEmpty, "\(name): text mode wrote to stdout")
        let url = Self.directory.appendingPathComponent(name + ".stderr")
        if ProcessInfo.processInfo.environment["CAIRN_RECORD"] == "1" {
            try result.stderr.write(to: url)
            return
        }
        guard let want = try? Data(contentsOf: url) else {
            Issue.record("\(name).stderr is missing; record it with CAIRN_RECORD=1")
            return
        }
        #expect(result.stderr == want,
                "\(name).stderr differs.\n--- expected\n\(String(decoding: want, as: UTF8.self))--- got\n\(result.err)")
    }

    @Test("--format json gives one object per diagnostic of the text form, keys in order", arguments: names)
    func json(_ name: String) throws {
        let file = name + ".yaml"
        let text = try CLI.run(["check", file], in: Self.directory)
        let json = try CLI.run(["check", "--format", "json", file], in: Self.directory)
        #expect(json.status == 78)
        #expect(json.stderr.isEmpty, "\(name): json mode wrote to stderr: \(json.err)")

        // The header line of each diagnostic in the text form: `file[:line[:col]]: severity: message`.
        let headers = text.err.split(separator: "\n").map(String.init).filter {
            $0.hasPrefix(file + ":") && ($0.contains(": error: ") || $0.contains(": warning: "))
        }
        let hints = text.err.split(separator: "\n").filter { $0.hasPrefix("  help: ") }.map { String($0.dropFirst(8)) }
        let lines = json.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(json.out.hasSuffix("\n"))
        #expect(lines.count == headers.count, "\(name): \(lines.count) JSON objects for \(headers.count) diagnostics")

        var jsonHints: [String] = []
        for (index, line) in lines.enumerated() {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(name): not an object: \(line)")
            #expect(Set(object.keys) == Set(Self.jsonKeys), "\(name): keys \(object.keys.sorted())")
            let positions = Self.jsonKeys.map { line.range(of: "\"\($0)\":")?.lowerBound }
            #expect(positions.allSatisfy { $0 != nil } && positions.compactMap { $0 } == positions.compactMap { $0 }.sorted(),
                    "\(name): keys out of order in \(line)")
            guard let l = object["line"] as? Int, let c = object["column"] as? Int, let end = object["end_column"] as? Int,
                  let severity = object["severity"] as? String, let message = object["message"] as? String,
                  object["file"] as? String == file else {
                Issue.record("\(name): wrong value types in \(line)")
                continue
            }
            #expect(c == 0 ? end == 0 : end > c, "\(name): end_column \(end) for column \(c)")
            var header = file
            if l > 0 { header += ":\(l)" }
            if l > 0 && c > 0 { header += ":\(c)" }
            header += ": \(severity): \(message)"
            if index < headers.count { #expect(headers[index] == header, "\(name): JSON says \(header)") }
            if let hint = object["hint"] as? String { jsonHints.append(hint) } else { #expect(object["hint"] is NSNull) }
        }
        #expect(jsonHints == hints, "\(name): hints differ between text and JSON")
    }
}
