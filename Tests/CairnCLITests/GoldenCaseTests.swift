import Foundation
import Testing

/// Golden cases: one folder per case under `Cases/`, holding
///
///     args             the command line after `cairn`, one argument per line
///     stdin            (optional) standard input
///     stdout, stderr   what cairn must print
///     status           the exit status
///     ...              any pipeline and input files the arguments name (relative paths;
///                      `_shared/` holds the ones several cases use)
///
/// cairn runs inside the case folder. `CAIRN_RECORD=1 swift test` rewrites the expected files
/// from what cairn does now; review the diff before committing it.
struct GoldenCaseTests {
    static let casesDirectory = CLI.repoRoot.appendingPathComponent("Tests/CairnCLITests/Cases")

    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }.sorted()
    }()

    @Test("there are golden cases to run")
    func casesExist() {
        #expect(Self.caseNames.count >= 10, "expected golden cases in \(Self.casesDirectory.path)")
    }

    @Test("golden case", arguments: caseNames)
    func golden(_ name: String) throws {
        let dir = Self.casesDirectory.appendingPathComponent(name)
        let args = try String(contentsOf: dir.appendingPathComponent("args"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let stdin = try? Data(contentsOf: dir.appendingPathComponent("stdin"))
        let result = try CLI.run(args, in: dir, stdin: stdin ?? Data())
        let record = ProcessInfo.processInfo.environment["CAIRN_RECORD"] == "1"
        let expected: [(String, Data)] = [
            ("stdout", result.stdout), ("stderr", result.stderr), ("status", Data("\(result.status)\n".utf8)),
        ]
        for (file, got) in expected {
            let url = dir.appendingPathComponent(file)
            if record {
                try got.write(to: url)
                continue
            }
            guard let want = try? Data(contentsOf: url) else {
                Issue.record("\(name)/\(file) is missing; record it with CAIRN_RECORD=1")
                continue
            }
            #expect(
                got == want,
                "\(name)/\(file) differs.\n--- expected\n\(String(decoding: want, as: UTF8.self))--- got\n\(String(decoding: got, as: UTF8.self))")
        }
    }
}
