import Yams

/// A pipeline test file (`*.test.yaml`, docs/testing.md): the pipeline it tests and its tests.
public struct PipelineTestFile: Sendable {
    public var file: String
    public var source: String
    /// The pipeline's path as written (relative to the test file's directory), and where.
    public var pipeline: Located<String>?
    public var tests: [PipelineTest]

    /// Parses and checks a test file; every problem is reported compiler-style.
    public static func load(file: String, source: String) -> Result<PipelineTestFile, PipelineErrors> {
        var loader = PipelineLoader(file: file, source: source)
        let spec = loader.testFile()
        if let spec, loader.diagnostics.isEmpty { return .success(spec) }
        return .failure(PipelineErrors(diagnostics: loader.diagnostics, source: source))
    }

    /// The default pipeline of a test file: its name without `.test` (`a.test.yaml` → `a.yaml`).
    public static func defaultPipeline(of file: String) -> String? {
        let name = file.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? file
        for suffix in [".test.yaml", ".test.yml"] where name.hasSuffix(suffix) && name.count > suffix.count {
            return String(name.dropLast(suffix.count)) + String(suffix.dropFirst(5))
        }
        return nil
    }
}

/// One test: input events, the clock, the kinds of records, and what is expected.
public struct PipelineTest: Sendable {
    public enum Input: Sendable {
        /// Inline events, each one JSON line, with where it was written.
        case events([Located<String>])
        /// A file of events, relative to the test file's directory.
        case file(Located<String>)
    }

    public enum Until: Sendable, Equatable {
        case time(Int64)
        /// Nanoseconds after the latest event time.
        case after(Int64)
    }

    public var name: String
    public var nameLocation: SourceLocation
    /// Where the test's mapping starts.
    public var location: SourceLocation
    public var input: Input
    public var start: Int64?
    public var until: Until?
    public var emit: RecordKinds
    public var expect: Expectations
    /// Whether the test is a block mapping (`--update` can add to it).
    public var isBlock: Bool
}

/// What a test expects of its run.
public struct Expectations: Sendable {
    /// `records`: the whole list, in order; nil when the test does not say.
    public var records: [Matcher]?
    /// Where the `records` key is (for records the list lacks).
    public var recordsLocation: SourceLocation?
    public var includes: [Matcher] = []
    public var excludes: [Matcher] = []
    /// Customers and the profile values expected of them; nil values: the state keeps nothing.
    public var profiles: [ProfileExpectation] = []
    /// Where the `profiles` key is.
    public var profilesLocation: SourceLocation?
    public var late: Located<Int>?
    public var bad: Located<Int>?
    /// Where `expect` is, and whether it is a block mapping (`--update` can rewrite it).
    public var location: SourceLocation?
    public var isBlock = false

    public init() {}
}

/// A record matcher: a JSON object whose fields a record must have with equal values.
public struct Matcher: Sendable {
    public var fields: JSONTree
    public var location: SourceLocation
}

/// `profiles: { c-1: { carts_24h: 1 } }`.
public struct ProfileExpectation: Sendable {
    public var customer: String
    /// Nil: the state must keep nothing of the customer.
    public var fields: JSONTree?
    public var location: SourceLocation
}

extension PipelineLoader {
    static let testFileKeys = ["pipeline", "tests"]
    static let testKeys = ["name", "events", "input", "start", "until", "emit", "expect"]
    static let expectKeys = ["records", "includes", "excludes", "profiles", "late", "bad"]

    mutating func testFile() -> PipelineTestFile? {
        guard let root = composeDocument(empty: "test file is empty",
                                         hint: "a test file needs 'tests', a list of tests (docs/testing.md)"),
              !isPipeline(root),
              let top = mapping(root, "the test file", allowed: Self.testFileKeys) else { return nil }
        var pipeline: Located<String>?
        if let node = top["pipeline"] {
            pipeline = string(node, "pipeline", in: "the test file")
        } else if PipelineTestFile.defaultPipeline(of: file) == nil {
            error(at: location(root), "missing key 'pipeline' in the test file",
                  hint: "name the pipeline it tests, or name the file after it (cart.test.yaml tests cart.yaml)")
        }
        guard let testsNode = top["tests"] else {
            error(at: location(root), "missing key 'tests' in the test file",
                  hint: "add a list of tests, each with 'name', 'events' and 'expect'")
            return nil
        }
        var tests: [PipelineTest] = []
        var names: [String: SourceLocation] = [:]
        for node in list(testsNode, "'tests'", of: "tests") ?? [] {
            guard let test = test(node) else { continue }
            if let first = names[test.name] {
                error(at: test.nameLocation, "a second test named '\(test.name)'", length: width(test.name),
                      hint: "the first is at line \(first.line); give each test its own name")
            }
            names[test.name] = test.nameLocation
            tests.append(test)
        }
        return PipelineTestFile(file: file, source: source, pipeline: pipeline, tests: tests)
    }

    /// Whether `root` is a pipeline rather than a test file (reported).
    mutating func isPipeline(_ root: Node) -> Bool {
        guard case .mapping(let map) = root, map.value(forKey: "journeys") != nil, map.value(forKey: "tests") == nil else {
            return false
        }
        error(at: location(root), "this is a pipeline, not a test file",
              hint: "its tests go in a file of their own beside it, NAME.test.yaml (docs/testing.md)")
        return true
    }

    /// The file's one YAML document, or nil with the problem reported.
    mutating func composeDocument(empty: String, hint: String) -> Node? {
        do {
            // Tags are never resolved: cairn reads scalars by their text and style, and merges
            // `<<` itself. Yams' default resolver and constructor would compile a dozen ICU
            // regular expressions and build their tables at every start (~2 ms of a run).
            guard let node = try Yams.compose(yaml: source, .basic, Constructor([:], [:], [:]), .utf8) else {
                error(at: SourceLocation(line: 1, column: 1), empty, hint: hint)
                return nil
            }
            return node
        } catch let yaml as YamlError {
            report(yaml)
        } catch {
            self.error(at: SourceLocation(line: 1, column: 1), "cannot parse YAML: \(error)")
        }
        return nil
    }

    mutating func test(_ node: Node) -> PipelineTest? {
        guard let map = mapping(node, "a test", allowed: Self.testKeys) else { return nil }
        let name = requiredString(map, "name", in: "a test", hint: "say what the test pins, e.g. name: a purchase ends the journey")
        let what = name.map { "test '\($0.value)'" } ?? "a test"
        var input: PipelineTest.Input?
        switch (map["events"], map["input"]) {
        case (let events?, nil):
            input = self.events(events, in: what).map { .events($0) }
        case (nil, let path?):
            input = string(path, "input", in: what).map { .file($0) }
        case (_?, let path?):
            error(at: location(map.keyNode("input") ?? path), "\(what) has both 'events' and 'input'",
                  length: 5, hint: "give its events inline or in a file, not both")
        case (nil, nil) where map.rejectedKeys == 0:  // else a misspelt key was reported
            error(at: map.location, "\(what) has no 'events'",
                  hint: "give its input: events: [ { ... } ] inline, or input: FILE")
        case (nil, nil): break
        }
        var start: Int64?
        if let node = map["start"] { start = time(node, "'start' in \(what)") }
        var until: PipelineTest.Until?
        if let node = map["until"] {
            if case .scalar(let s) = node, case .success(let d) = PipelineDuration.parse(s.string) {
                until = .after(d.seconds * 1_000_000_000)
            } else if let t = time(node, "'until' in \(what)", orDuration: true) {
                until = .time(t)
            }
        }
        var emit: RecordKinds = [.action, .skip]
        if let node = map["emit"] { emit = kinds(node, "'emit' in \(what)") ?? emit }
        var expect = Expectations()
        if let node = map["expect"] { expect = expectations(node, in: what) }
        guard let name, let input else { return nil }
        let isBlock = !isFlow(node)
        return PipelineTest(name: name.value, nameLocation: name.location, location: map.location, input: input, start: start,
                            until: until, emit: emit, expect: expect, isBlock: isBlock)
    }

    /// Whether a collection is written in flow style (`{ ... }`, `[ ... ]`): its first
    /// character in the file is the bracket. (Composed nodes do not keep their style.)
    func isFlow(_ node: Node) -> Bool {
        let at = location(node)
        guard at.line >= 1, at.line <= lines.count else { return false }
        return lines[at.line - 1].unicodeScalars.dropFirst(at.column - 1).first.map { $0 == "{" || $0 == "[" } ?? false
    }

    /// Inline events: a list of mappings (each becomes one JSON line) or a block of NDJSON.
    mutating func events(_ node: Node, in what: String) -> [Located<String>]? {
        if case .scalar(let s) = node, s.style == .literal || s.style == .folded || s.style == .plain && s.string.isEmpty {
            // Line i of the block is on file line (mark + 1 + i).
            let first = location(node).line + 1
            return SourceLines.split(s.string).enumerated().compactMap { i, line in
                line.allSatisfy({ $0 == " " || $0 == "\t" }) ? nil
                    : Located(String(line), SourceLocation(line: first + i, column: 1))
            }
        }
        guard let items = list(node, "'events' in \(what)", of: "events (mappings, or a block of NDJSON lines after 'events: |')") else {
            return nil
        }
        var lines: [Located<String>] = []
        for item in items {
            guard case .mapping = item else {
                error(at: location(item), "an event must be a mapping of fields, not \(kindName(item))",
                      hint: "write it as { event: purchase, ts: 2024-03-04T10:00:00Z, user_id: c-1 }")
                continue
            }
            if let json = json(item) { lines.append(Located(json.text, location(item))) }
        }
        return lines
    }

    mutating func expectations(_ node: Node, in what: String) -> Expectations {
        var expect = Expectations()
        guard let map = mapping(node, "'expect' in \(what)", allowed: Self.expectKeys) else { return expect }
        expect.location = map.location
        expect.isBlock = !isFlow(node)
        if let node = map["records"] {
            expect.records = matchers(node, "'records' in \(what)")
            expect.recordsLocation = location(map.keyNode("records") ?? node)
        }
        if let node = map["includes"] { expect.includes = matchers(node, "'includes' in \(what)") ?? [] }
        if let node = map["excludes"] { expect.excludes = matchers(node, "'excludes' in \(what)") ?? [] }
        if let key = map.keyNode("profiles") { expect.profilesLocation = location(key) }
        if let node = map["profiles"], let customers = namedMapping(node, "'profiles' in \(what)") {
            for customer in customers.order {
                guard let entry = customers.entries[customer] else { continue }
                if case .scalar(let s) = entry.value, s.style == .plain, ["null", "~"].contains(s.string) {
                    expect.profiles.append(ProfileExpectation(customer: customer, fields: nil, location: location(entry.key)))
                } else if case .mapping = entry.value, let fields = json(entry.value) {
                    expect.profiles.append(ProfileExpectation(customer: customer, fields: fields, location: location(entry.key)))
                } else if case .mapping = entry.value {
                    continue
                } else {
                    error(at: location(entry.value), "the profile of '\(customer)' must be a mapping of fields to values, or null, not \(kindName(entry.value))",
                          hint: "e.g. \(customer): { carts_24h: 1 }; null means the state keeps nothing of them")
                }
            }
        }
        if let node = map["late"], let n = integer(node, "'late' in \(what)", in: 0...Int.max) { expect.late = n }
        if let node = map["bad"], let n = integer(node, "'bad' in \(what)", in: 0...Int.max) { expect.bad = n }
        return expect
    }

    mutating func matchers(_ node: Node, _ what: String) -> [Matcher]? {
        guard let items = list(node, what, of: "record matchers") else { return nil }
        var out: [Matcher] = []
        for item in items {
            guard case .mapping = item else {
                error(at: location(item), "a record matcher must be a mapping of record fields to values, not \(kindName(item))",
                      hint: "e.g. { kind: action, template: cart-reminder }")
                continue
            }
            guard let fields = json(item) else { continue }
            out.append(Matcher(fields: fields, location: location(item)))
        }
        return out
    }

    /// An RFC 3339 time.
    mutating func time(_ node: Node, _ what: String, orDuration: Bool = false) -> Int64? {
        guard let text = scalar(node, what) else { return nil }
        if let t = Array(text.utf8).withUnsafeBytes({ EventTime.parseRFC3339($0) }) { return t }
        error(at: location(node), "\(what) must be an RFC 3339 time\(orDuration ? " or a duration" : ""), got '\(text)'",
              length: width(text),
              hint: orDuration ? "e.g. 2024-03-09T00:00:00Z, or 30d for 30 days after the latest event"
                  : "e.g. 2024-03-01T00:00:00Z")
        return nil
    }

    /// `emit`: a list of record kinds, one kind, or `all`.
    mutating func kinds(_ node: Node, _ what: String) -> RecordKinds? {
        let items: [Node]
        if case .sequence(let seq) = node { items = Array(seq) } else { items = [node] }
        var kinds: RecordKinds = []
        for item in items {
            guard let name = scalar(item, what) else { return nil }
            if name == "all" {
                kinds = .all
            } else if let kind = RecordKinds.names.first(where: { $0.0 == name }) {
                kinds.insert(kind.1)
            } else {
                error(at: location(item), "unknown record kind '\(name)' in \(what)", length: width(name),
                      hint: Suggestion.hint(for: name, among: RecordKinds.names.map(\.0) + ["all"]))
                return nil
            }
        }
        if kinds.isEmpty { error(at: location(node), "\(what) names no record kinds", hint: "e.g. emit: [action, skip, exit]") }
        return kinds.isEmpty ? nil : kinds
    }

    /// A YAML value as JSON: plain scalars that read as numbers, `true`, `false` or `null` are
    /// those values, every other scalar a string; merge keys (`<<`) are merged in place.
    mutating func json(_ node: Node) -> JSONTree? {
        switch node {
        case .scalar(let s):
            let text = s.string
            guard s.style == .plain else { return .string(text) }
            switch text {
            case "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default: break
            }
            if case .number? = JSONTree.parse(Array(text.utf8)) { return .number(text) }
            if Self.isYAMLNumber(text) {
                error(at: location(node), "'\(text)' is a number in YAML but not in JSON", length: width(text),
                      hint: "write it as JSON writes numbers (e.g. 0.5, 10, -3, 1e3), or quote it to make it a string")
                return nil
            }
            return .string(text)
        case .sequence(let seq):
            var items: [JSONTree] = []
            for item in seq { guard let value = json(item) else { return nil }; items.append(value) }
            return .array(items)
        case .mapping(let map):
            var members: [(String, JSONTree)] = []
            var ok = true
            func add(_ key: String, _ value: JSONTree, override: Bool) {
                if let i = members.firstIndex(where: { $0.0 == key }) {
                    if override { members[i].1 = value }
                } else {
                    members.append((key, value))
                }
            }
            for (keyNode, valueNode) in map {
                guard case .scalar(let k) = keyNode else {
                    error(at: location(keyNode), "a key must be a single value, not \(kindName(keyNode))")
                    ok = false
                    continue
                }
                if k.string == "<<" && k.style == .plain {
                    let sources: [Node]
                    if case .sequence(let seq) = valueNode { sources = Array(seq) } else { sources = [valueNode] }
                    for source in sources {
                        guard case .mapping = source, case .object(let merged)? = json(source) else {
                            error(at: location(source), "a merge key ('<<') takes a mapping or a list of mappings, not \(kindName(source))")
                            ok = false
                            continue
                        }
                        for (key, value) in merged { add(key, value, override: false) }
                    }
                    continue
                }
                guard let value = json(valueNode) else { ok = false; continue }
                add(k.string, value, override: true)
            }
            return ok ? .object(members) : nil
        case .alias:
            return nil
        }
    }
}
