import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// `cairn test [PATH ...]`: runs pipeline test files (docs/testing.md).
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the tests of pipelines: events in, expected records and profiles out.",
        discussion: """
            A test file (NAME.test.yaml beside NAME.yaml) holds tests; each runs the pipeline \
            over its events with fresh state, exactly as 'cairn run' would, and compares the \
            records written and the profiles kept with what it expects. Waits run on event \
            time, so a 30-day journey is tested in milliseconds. The format is in \
            docs/testing.md.

            A directory stands for the test files directly inside it (*.test.yaml, \
            *.test.yml), in byte order of their names; with no PATH, 'pipelines'. A failure \
            prints where the expectation is (file:line:col), what differs, and the record \
            expected and got. Problems in a test file or its pipeline are reported \
            compiler-style on standard error and the other files still run.

            --update rewrites the 'records' and 'profiles' of failing tests to what the run \
            gave (keeping the fields each test's matchers name); review it with git diff. \
            --format json prints one JSON object for CI tools instead of the text report.

            Examples:
              cairn test
              cairn test pipelines/cart-recovery.test.yaml --filter reminder
              cairn test pipelines/ --update && git diff pipelines/
              cairn test --format json | jq '.results[] | select(.status == "failed")'

            \(ExitStatus.helpText([
                (.ok, "every test passed"),
                (.failure, "a test failed"),
                (.usage, "usage error: unknown option"),
                (.noInput, """
                    a test file, its pipeline or an input file cannot be read, or a
                    directory holds no test file (wins over 78 and 1)
                    """),
                (.software, "internal error (a bug: please report it)"),
                (.ioError, "writing standard output or an updated test file failed"),
                (.config, "a test file or its pipeline has errors (wins over 1)"),
            ]))
            """)

    @Argument(help: ArgumentHelp("Test files or directories of them (default: pipelines).", valueName: "PATH"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("Run only the tests whose name contains TEXT.", valueName: "TEXT"))
    var filter: String?

    @Flag(help: "Rewrite the 'records' and 'profiles' of failing tests from what the runs gave.")
    var update = false

    @Option(help: ArgumentHelp("'text': a report for people; 'json': one JSON object.", valueName: "text|json"))
    var format: CheckFormat = .text

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var suite = TestSuite(filter: filter, update: update)
        for argument in paths.isEmpty ? ["pipelines"] : paths {
            switch CheckCommand.expand(argument, kind: .tests) {
            case .failure(let error):
                StandardError.emit("cairn: error: \(error.message)\n")
                suite.status.note(.unreadable)
            case .success(let files):
                for file in files { suite.runFile(file) }
            }
        }
        let out = OutputSink(fd: 1, flushEachRecord: false)
        let text = format == .json ? suite.json() : suite.report()
        do {
            try out.append(Array(text.utf8))
            try out.flush()
        } catch .brokenPipe {
        } catch .writeFailed(let why) {
            StandardError.emit("cairn: error: writing standard output failed: \(why)\n")
            throw ExitStatus.ioError.code
        }
        if suite.writeFailed { throw ExitStatus.ioError.code }
        if suite.status.exitStatus != .ok { throw suite.status.exitStatus.code }
        if suite.failed > 0 { throw ExitStatus.failure.code }
    }
}

/// What a test found wrong, at the line of the expectation.
struct TestFailure {
    enum Part { case records, profiles, other }
    var part: Part
    var location: SourceLocation
    var message: String
    /// Lines under the message in the text report.
    var details: [String] = []
    /// What was expected and what the run gave, for --format json.
    var expected: JSONTree?
    var got: JSONTree?
}

/// One test's result.
struct TestResult {
    enum Status: String { case passed, failed, updated }
    var file: String
    var name: String
    var location: SourceLocation
    var status: Status
    var failures: [TestFailure]
}

/// Runs test files and keeps their results for the report.
struct TestSuite {
    let filter: String?
    let update: Bool
    var results: [TestResult] = []
    /// Files run: path and result indices.
    var files: [(path: String, results: Range<Int>)] = []
    var status = CheckStatus.valid
    var writeFailed = false
    /// Diagnostics of test files and pipelines, with their sources, for --format json.
    var diagnostics: [(Diagnostic, String)] = []
    var pipelines: [String: PipelineFile?] = [:]

    init(filter: String?, update: Bool) {
        self.filter = filter
        self.update = update
    }

    var failed: Int { results.count { $0.status == .failed } }

    mutating func runFile(_ path: String) {
        let source: String
        switch readTextFile(path) {
        case .failure(let why):
            StandardError.emit("cairn: error: cannot read test file '\(path)': \(why.reason)\n")
            status.note(.unreadable)
            return
        case .success(let text): source = text
        }
        let spec: PipelineTestFile
        switch PipelineTestFile.load(file: path, source: source) {
        case .failure(let errors):
            report(errors.diagnostics, source: source)
            StandardError.emit("cairn: \(errors.diagnostics.count) error\(errors.diagnostics.count == 1 ? "" : "s") in '\(path)'\n")
            status.note(.invalid)
            return
        case .success(let loaded): spec = loaded
        }
        guard let pipeline = loadPipeline(of: spec) else { return }
        let first = results.count
        var editor = TestFileEditor(source: source)
        var edited = false
        for test in spec.tests where filter.map({ test.name.contains($0) }) ?? true {
            var run = TestRun(test: test, file: path, pipeline: pipeline)
            run.execute()
            if run.unreadable { status.note(.unreadable) }
            var failures = run.failures
            var testStatus: TestResult.Status = failures.isEmpty ? .passed : .failed
            if update, run.needsUpdate {
                if run.rewrite(into: &editor) {
                    edited = true
                    failures.removeAll { $0.part != .other }
                    testStatus = failures.isEmpty ? .updated : .failed
                } else {
                    failures.append(TestFailure(part: .other, location: test.location,
                                                message: "cannot update this test: write it and its 'expect' as block mappings, not in braces"))
                    testStatus = .failed
                }
            }
            results.append(TestResult(file: path, name: test.name, location: test.location, status: testStatus, failures: failures))
        }
        files.append((path, first..<results.count))
        if edited {
            switch writeTextFile(path, editor.text()) {
            case .success: break
            case .failure(let why):
                StandardError.emit("cairn: error: cannot update '\(path)': \(why.reason)\n")
                writeFailed = true
            }
        }
    }

    /// The compiled pipeline a test file names, loaded once per path; nil after reporting why.
    mutating func loadPipeline(of spec: PipelineTestFile) -> (path: String, compiled: CompiledPipeline, fingerprint: UInt64)? {
        let name = spec.pipeline?.value ?? PipelineTestFile.defaultPipeline(of: spec.file) ?? ""
        let path = name.hasPrefix("/") ? name : directory(of: spec.file) + name
        // Without 'pipeline:' the finding is about the file as a whole (line 0).
        let at = spec.pipeline?.location ?? SourceLocation(line: 0, column: 0)
        let file: PipelineFile?
        if let cached = pipelines[path] {
            file = cached
        } else {
            switch PipelineFile.load(path) {
            case .failure(let why):
                let diagnostic = Diagnostic(.error, file: spec.file, line: at.line, column: at.column,
                                            length: max(1, name.unicodeScalars.count),
                                            message: "cannot read pipeline '\(path)': \(why.reason)",
                                            hint: spec.pipeline == nil ? "name it with 'pipeline:' (relative to the test file)" : nil)
                report([diagnostic], source: spec.source)
                file = nil
            case .success(let loaded):
                report(loaded.diagnostics, source: loaded.source)
                if loaded.compiled == nil { StandardError.emit(loaded.summary()) }
                file = loaded
            }
            pipelines[path] = .some(file)
        }
        guard let file else {
            status.note(.unreadable)
            return nil
        }
        guard let compiled = file.compiled else {
            status.note(.invalid)
            return nil
        }
        return (path, compiled, PipelineFile.fingerprint(of: file.source))
    }

    mutating func report(_ found: [Diagnostic], source: String) {
        StandardError.emit(found.map { $0.rendered(source: source) }.joined())
        diagnostics += found.map { ($0, source) }
    }

    // MARK: - Output

    func report() -> String {
        var out = ""
        for (path, range) in files {
            let ran = results[range]
            for result in ran where result.status == .failed {
                out += "\(path):\(result.location.line):\(result.location.column): FAIL \(result.name)\n"
                for failure in result.failures {
                    out += "\(path):\(failure.location.line):\(failure.location.column): error: \(failure.message)\n"
                    for detail in failure.details { out += "    \(detail)\n" }
                }
            }
            let failed = ran.count { $0.status == .failed }
            let updated = ran.count { $0.status == .updated }
            let also = updated > 0 ? ", \(updated) updated" : ""
            out += failed > 0 ? "FAIL  \(path)  (\(failed) of \(count(ran.count, "test")) failed\(also))\n"
                : "ok    \(path)  (\(count(ran.count, "test"))\(also))\n"
        }
        let passed = results.count { $0.status == .passed }
        let updated = results.count { $0.status == .updated }
        out += "cairn test: \(count(results.count, "test")) in \(count(files.count, "file")): \(passed) passed, \(failed) failed"
        if updated > 0 { out += ", \(updated) updated" }
        switch status.exitStatus {
        case .noInput: out += "; some files could not be read"
        case .config: out += "; some files have errors"
        default: break
        }
        return out + "\n"
    }

    func json() -> String {
        func location(_ at: SourceLocation) -> [(String, JSONTree)] {
            [("line", .number(String(at.line))), ("column", .number(String(at.column)))]
        }
        let tests: [JSONTree] = results.map { r in
            .object([("file", .string(r.file))] + location(r.location) + [
                ("name", .string(r.name)), ("status", .string(r.status.rawValue)),
                ("failures", .array(r.failures.map { f in
                    .object(location(f.location) + [("message", .string(f.message)),
                                                     ("expected", f.expected ?? .null), ("got", f.got ?? .null)])
                })),
            ])
        }
        let errors: [JSONTree] = diagnostics.compactMap { d, source in
            var line = d.jsonLine(source: source)
            line.removeLast()  // the newline
            return JSONTree.parse(line)
        }
        let passed = results.count { $0.status == .passed }
        let updated = results.count { $0.status == .updated }
        return JSONTree.object([
            ("files", .number(String(files.count))), ("tests", .number(String(results.count))),
            ("passed", .number(String(passed))), ("failed", .number(String(failed))),
            ("updated", .number(String(updated))), ("results", .array(tests)), ("errors", .array(errors)),
        ]).text + "\n"
    }

    func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

/// The directory part of a path, with its slash (`a/b.yaml` → `a/`), or "" for a bare name.
func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[...slash])
}
