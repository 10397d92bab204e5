import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// One test of a test file: its run in a fresh state directory, and the comparison of what
/// the run gave with what the test expects.
struct TestRun {
    let test: PipelineTest
    /// The test file, as named on the command line.
    let file: String
    let pipeline: (path: String, compiled: CompiledPipeline, fingerprint: UInt64)

    /// The run's records, parsed.
    var records: [JSONTree] = []
    /// The profile of each customer the test names (nil: the state keeps nothing of them).
    var profiles: [String: JSONTree?] = [:]
    var failures: [TestFailure] = []
    /// Whether an input file could not be read.
    var unreadable = false
    /// Whether the run finished (and its records can be compared and recorded).
    var completed = false

    init(test: PipelineTest, file: String, pipeline: (path: String, compiled: CompiledPipeline, fingerprint: UInt64)) {
        self.test = test
        self.file = file
        self.pipeline = pipeline
    }

    mutating func execute() {
        var template = Array("/tmp/cairn-test-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            fail(at: test.location, "cannot make a temporary directory: \(systemMessage(errno))")
            return
        }
        let scratch = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { removeScratch(scratch) }
        let state = scratch + "/state"
        guard let input = prepareInput(scratch) else { return }
        var run = PipelineRun()
        var options = RunOptions()
        options.emit = test.emit
        do {
            if let start = test.start {
                var first = options
                first.until = start
                try run.run(pipeline.compiled, fingerprint: pipeline.fingerprint, inputs: [], options: first, directory: state)
            }
            var main = options
            if case .time(let t) = test.until { main.until = t }
            try run.run(pipeline.compiled, fingerprint: pipeline.fingerprint, inputs: [input], options: main, directory: state)
            if case .after(let duration) = test.until {
                let checkpoint = try StateInspector(directory: state, access: .read).checkpoint
                guard let latest = checkpoint.seen ?? checkpoint.clock else {
                    fail(at: test.location, "'until' counts from the latest event, and the run applied none")
                    return
                }
                var last = options
                last.until = latest + duration
                try run.run(pipeline.compiled, fingerprint: pipeline.fingerprint, inputs: [], options: last, directory: state)
            }
            let inspector = try StateInspector(directory: state, access: .read)
            for expected in test.expect.profiles {
                profiles[expected.customer] = inspector.show(expected.customer)
                    .flatMap { JSONTree.parse($0) }.map { $0["profile"] ?? .null }
            }
        } catch let failure as PipelineRun.Failure {
            fail(at: test.location, failure.message)
            return
        } catch {
            fail(at: test.location, "the state cannot be read back: \(error)")
            return
        }
        records = run.records.map { JSONTree.parse(Array($0.utf8)) ?? .string($0) }
        completed = true
        compare(run)
    }

    /// The input file: the test's own, or its inline events written to `scratch`.
    mutating func prepareInput(_ scratch: String) -> String? {
        switch test.input {
        case .file(let name):
            let path = name.value.hasPrefix("/") ? name.value : directory(of: file) + name.value
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR, access(path, R_OK) == 0 else {
                let why = (st.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : systemMessage(errno)
                fail(at: name.location, "cannot open input '\(path)': \(why)")
                unreadable = true
                return nil
            }
            return path
        case .events(let lines):
            let path = scratch + "/events.ndjson"
            let text = lines.map { $0.value + "\n" }.joined()
            if case .failure(let why) = writeTextFile(path, text) {
                fail(at: test.location, "cannot write the events to '\(path)': \(why.reason)")
                return nil
            }
            return path
        }
    }

    // MARK: - Comparison

    mutating func compare(_ run: PipelineRun) {
        let expect = test.expect
        if let matchers = expect.records { compareRecords(matchers, at: expect.recordsLocation ?? test.location) }
        for matcher in expect.includes where !records.contains(where: { RecordMatch.matches(matcher.fields, $0) }) {
            var details = ["expected \(RecordMatch.yamlFlow(matcher.fields))"]
            if let (closest, why) = closest(to: matcher.fields) {
                details.append("closest  \(closest.text)")
                details.append("         differs: \(why.joined(separator: "; "))")
            }
            fail(at: matcher.location, "no record matches", details: details, expected: matcher.fields,
                 got: closest(to: matcher.fields)?.0)
        }
        for matcher in expect.excludes {
            for (i, record) in records.enumerated() where RecordMatch.matches(matcher.fields, record) {
                fail(at: matcher.location, "record \(i + 1) matches what must not happen",
                     details: ["excluded \(RecordMatch.yamlFlow(matcher.fields))", "got      \(record.text)"],
                     expected: matcher.fields, got: record)
            }
        }
        for expected in expect.profiles {
            let got = profiles[expected.customer] ?? nil
            switch (expected.fields, got) {
            case (nil, nil): break
            case (nil, let profile?):
                fail(.profiles, at: expected.location, "the state keeps '\(expected.customer)', expected nothing",
                     details: ["got      \(profile.text)"], expected: .null, got: profile)
            case (_?, nil):
                fail(.profiles, at: expected.location, "the state keeps nothing of '\(expected.customer)'",
                     expected: expected.fields, got: .null)
            case (let fields?, let profile?):
                let why = RecordMatch.differences(fields, profile)
                if !why.isEmpty {
                    fail(.profiles, at: expected.location, "profile of '\(expected.customer)': \(why.joined(separator: "; "))",
                         details: ["got      \(profile.text)"], expected: fields, got: profile)
                }
            }
        }
        checkCount(run.late, expected: expect.late, noun: "late event")
        checkCount(run.bad, expected: expect.bad, noun: "unusable line")
    }

    mutating func compareRecords(_ matchers: [Matcher], at key: SourceLocation) {
        let steps = RecordMatch.align(matchers.map(\.fields), records)
        var missing: [Int] = [], extra: [Int] = []
        func flush(_ run: inout TestRun) {
            for (e, r) in zip(missing, extra) {
                let why = RecordMatch.differences(matchers[e].fields, run.records[r])
                run.fail(.records, at: matchers[e].location, "record \(r + 1) differs: \(why.joined(separator: "; "))",
                         details: ["expected \(RecordMatch.yamlFlow(matchers[e].fields))", "got      \(run.records[r].text)"],
                         expected: matchers[e].fields, got: run.records[r])
            }
            for e in missing.dropFirst(extra.count) {
                run.fail(.records, at: matchers[e].location, "expected record \(e + 1) was not written",
                         details: ["- expected \(RecordMatch.yamlFlow(matchers[e].fields))"], expected: matchers[e].fields)
            }
            for r in extra.dropFirst(missing.count) {
                run.fail(.records, at: key, "record \(r + 1) was not expected", details: ["+ got \(run.records[r].text)"],
                         got: run.records[r])
            }
            missing = []
            extra = []
        }
        for step in steps {
            switch step {
            case .match: flush(&self)
            case .missing(let e): missing.append(e)
            case .extra(let r): extra.append(r)
            }
        }
        flush(&self)
    }

    /// The record with the fewest differing fields from `matcher`, and the differences.
    func closest(to matcher: JSONTree) -> (JSONTree, [String])? {
        records.map { ($0, RecordMatch.differences(matcher, $0)) }.min { $0.1.count < $1.1.count }
    }

    mutating func checkCount(_ found: [BadLine], expected: Located<Int>?, noun: String) {
        let want = expected?.value ?? 0
        guard found.count != want else { return }
        var details = found.prefix(5).map { bad -> String in
            if case .events(let lines) = test.input, bad.line >= 1, bad.line <= lines.count {
                let at = lines[bad.line - 1].location
                return "\(file):\(at.line):\(at.column): \(bad.reason)"
            }
            return "\(bad.source):\(bad.line): \(bad.reason)"
        }
        if found.count > 5 { details.append("and \(found.count - 5) more") }
        let plural = found.count == 1 ? noun : noun + "s"
        let hint = expected == nil ? " (say how many with 'expect: { \(noun == "late event" ? "late" : "bad"): N }')" : ""
        fail(at: expected?.location ?? test.location, "\(found.count) \(plural), expected \(want)\(hint)", details: details)
    }

    mutating func fail(_ part: TestFailure.Part = .other, at location: SourceLocation, _ message: String,
                       details: [String] = [], expected: JSONTree? = nil, got: JSONTree? = nil) {
        failures.append(TestFailure(part: part, location: location, message: message, details: details,
                                    expected: expected, got: got))
    }

    // MARK: - Update

    /// Whether `--update` has something to rewrite: a failing `records` or `profiles`, or a
    /// test without `expect` (its records are recorded), of a run that finished.
    var needsUpdate: Bool {
        completed && (test.expect.location == nil || failures.contains { $0.part != .other })
    }

    /// Rewrites the test's `records` and `profiles` in `editor` from what the run gave;
    /// false when the test cannot be edited (flow style).
    func rewrite(into editor: inout TestFileEditor) -> Bool {
        let expect = test.expect
        let parts = Set(failures.map(\.part))
        if parts.contains(.records) || expect.location == nil {
            // The fields the matchers named, in first-named order; all fields when none.
            var fields: [String] = []
            for matcher in expect.records ?? [] {
                if case .object(let members) = matcher.fields {
                    for (key, _) in members where !fields.contains(key) { fields.append(key) }
                }
            }
            // A record an expectation already matches keeps the expectation's own text when
            // it is one flow mapping on one line; the others are written from the record.
            var kept: [Int: String] = [:]
            let matchers = expect.records ?? []
            for case .match(let e, let r) in RecordMatch.align(matchers.map(\.fields), records) {
                if let text = editor.flowMapping(at: matchers[e].location) { kept[r] = text }
            }
            let items = records.indices.map { kept[$0] ?? RecordMatch.yamlFlow(RecordMatch.project(records[$0], onto: fields)) }
            if let key = expect.recordsLocation {
                guard expect.isBlock else { return false }
                editor.replaceValue(ofKeyAt: key, name: "records", with: items)
            } else if let at = expect.location {
                guard expect.isBlock else { return false }
                editor.insert(before: at.line, column: at.column, name: "records", items: items)
            } else {
                guard test.isBlock else { return false }
                editor.appendExpect(toMappingAt: test.location, records: items)
            }
        }
        if parts.contains(.profiles), let key = expect.profilesLocation {
            guard expect.isBlock else { return false }
            let items = expect.profiles.map { expected -> String in
                guard let profile = profiles[expected.customer] ?? nil else {
                    return "\(RecordMatch.yamlFlow(.string(expected.customer))): null"
                }
                var fields: [String] = []
                if case .object(let members)? = expected.fields { fields = members.map(\.0) }
                return "\(RecordMatch.yamlFlow(.string(expected.customer))): \(RecordMatch.yamlFlow(RecordMatch.project(profile, onto: fields)))"
            }
            editor.replaceValue(ofKeyAt: key, name: "profiles", with: items, mapping: true)
        }
        return true
    }
}

/// Removes a test's scratch directory: its state directory's files, the events, itself.
func removeScratch(_ path: String) {
    func removeFiles(in directory: String) {
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name != ".", name != ".." else { continue }
            let full = directory + "/" + name
            if unlink(full) != 0 { removeFiles(in: full); rmdir(full) }
        }
    }
    removeFiles(in: path)
    rmdir(path)
}
