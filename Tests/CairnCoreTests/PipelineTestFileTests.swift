import Testing
@testable import CairnCore

/// The pieces of `cairn test` that need no run: the test-file loader, the record matchers
/// and their alignment, and the editor behind `--update`.
struct PipelineTestFileTests {
    func load(_ source: String) -> Result<PipelineTestFile, PipelineErrors> {
        PipelineTestFile.load(file: "a.test.yaml", source: source)
    }

    func errors(_ source: String) -> [String] {
        guard case .failure(let e) = load(source) else { return [] }
        return e.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }
    }

    func loaded(_ source: String) throws -> PipelineTestFile {
        switch load(source) {
        case .success(let file): return file
        case .failure(let e): throw e.diagnostics.first ?? Diagnostic(.error, file: "", line: 0, column: 0, message: "?")
        }
    }

    // MARK: - Loader

    @Test("inline events become JSON lines with YAML's plain scalars typed and quoted ones strings")
    func eventsAsJSON() throws {
        let file = try loaded("""
            tests:
              - name: one
                events:
                  - { event: purchase, ts: 2024-03-04T10:00:00Z, user_id: c-1, n: 3, x: 1.50, ok: true, z: null, q: "7" }
                  - event: page_view
                    props: { tags: [a, 2] }
            """)
        guard case .events(let lines) = file.tests[0].input else { Issue.record("not inline"); return }
        #expect(lines.map(\.value) == [
            #"{"event":"purchase","ts":"2024-03-04T10:00:00Z","user_id":"c-1","n":3,"x":1.50,"ok":true,"z":null,"q":"7"}"#,
            #"{"event":"page_view","props":{"tags":["a",2]}}"#,
        ])
        #expect(lines.map(\.location.line) == [4, 5])
        #expect(file.pipeline == nil)
        #expect(PipelineTestFile.defaultPipeline(of: "pipelines/cart.test.yaml") == "cart.yaml")
        #expect(PipelineTestFile.defaultPipeline(of: "x.test.yml") == "x.yml")
        #expect(PipelineTestFile.defaultPipeline(of: "x.yaml") == nil)
    }

    @Test("merge keys merge in place; keys written in the mapping win")
    func mergeKeys() throws {
        let source = """
            tests:
              - name: one
                events:
                  - &base { event: a, user_id: c-1, ts: 2024-03-04T10:00:00Z }
                  - { <<: *base, event: b }
                  - { event: c, <<: *base }
            """
        guard case .events(let lines) = try loaded(source).tests[0].input else { Issue.record("not inline"); return }
        #expect(lines.map(\.value) == [
            #"{"event":"a","user_id":"c-1","ts":"2024-03-04T10:00:00Z"}"#,
            #"{"event":"b","user_id":"c-1","ts":"2024-03-04T10:00:00Z"}"#,
            #"{"event":"c","user_id":"c-1","ts":"2024-03-04T10:00:00Z"}"#,
        ])
    }

    @Test("a block of NDJSON keeps each line's own line number; blank lines are left out")
    func eventsBlock() throws {
        let file = try loaded("""
            tests:
              - name: one
                events: |
                  {"event":"a"}

                  {"event":"b"}
            """)
        guard case .events(let lines) = file.tests[0].input else { Issue.record("not inline"); return }
        #expect(lines.map(\.value) == [#"{"event":"a"}"#, #"{"event":"b"}"#])
        #expect(lines.map(\.location.line) == [4, 6])
    }

    @Test("until is a time or a duration after the latest event; emit defaults to the decisions")
    func clockAndKinds() throws {
        let file = try loaded("""
            tests:
              - { name: a, events: [], until: 30d, start: 2024-03-01T00:00:00Z }
              - { name: b, input: e.ndjson, until: 2024-03-09T00:00:00Z, emit: all }
              - { name: c, events: [], emit: [exit, goal] }
            """)
        #expect(file.tests[0].until == .after(30 * 86_400 * 1_000_000_000))
        #expect(file.tests[0].start == Int64(1_709_251_200) * 1_000_000_000)
        #expect(file.tests[1].until == .time(1_709_942_400 * 1_000_000_000))
        #expect(file.tests[0].emit == [.action, .skip])
        #expect(file.tests[1].emit == .all)
        #expect(file.tests[2].emit == [.exit, .goal])
        guard case .file(let path) = file.tests[1].input else { Issue.record("not a file"); return }
        #expect(path.value == "e.ndjson")
    }

    @Test("expectations: records, includes, excludes, profiles (null: nothing kept), late and bad")
    func expectations() throws {
        let file = try loaded("""
            tests:
              - name: one
                events: []
                expect:
                  records:
                    - { kind: action, data: { sku: S-1 } }
                  includes: [ { kind: exit } ]
                  excludes: [ { kind: skip } ]
                  profiles:
                    c-1: { carts: 1 }
                    c-2: null
                  late: 2
                  bad: 1
            """)
        let expect = file.tests[0].expect
        #expect(expect.records?.map(\.fields.text) == [#"{"kind":"action","data":{"sku":"S-1"}}"#])
        #expect(expect.records?.first?.location == SourceLocation(line: 6, column: 11))
        #expect(expect.recordsLocation == SourceLocation(line: 5, column: 7))
        #expect(expect.includes.count == 1 && expect.excludes.count == 1)
        #expect(expect.profiles.map(\.customer) == ["c-1", "c-2"])
        #expect(expect.profiles[0].fields?.text == #"{"carts":1}"#)
        #expect(expect.profiles[1].fields == nil)
        #expect(expect.profilesLocation == SourceLocation(line: 9, column: 7))
        #expect(expect.late?.value == 2 && expect.bad?.value == 1)
        #expect(expect.isBlock)
    }

    @Test("problems are reported at their line and column, all of them")
    func diagnostics() {
        #expect(errors("tests: []\nextra: 1\n") == ["2:1: unknown key 'extra' in the test file"])
        #expect(errors("pipeline: p.yaml\n") == ["1:1: missing key 'tests' in the test file"])
        #expect(errors("") == ["1:1: test file is empty"])
        #expect(errors("tests:\n  - { name: a }\n") == ["2:5: test 'a' has no 'events'"])
        #expect(errors("tests:\n  - { name: a, events: [], input: f }\n") == ["2:28: test 'a' has both 'events' and 'input'"])
        #expect(errors("tests:\n  - { name: a, events: [], until: soon }\n") ==
                ["2:35: 'until' in test 'a' must be an RFC 3339 time or a duration, got 'soon'"])
        #expect(errors("tests:\n  - { name: a, events: [], emit: [actoin] }\n") ==
                ["2:35: unknown record kind 'actoin' in 'emit' in test 'a'"])
        #expect(errors("tests:\n  - { name: a, events: [ { x: .5 } ] }\n") ==
                ["2:31: '.5' is a number in YAML but not in JSON"])
        for number in ["+1", ".5", "1.", "007", "-0x1", "0x1F", "0o17", ".inf", "-.Inf", ".NaN", "1e5", "-2.5E-3", "0"] {
            #expect(PipelineLoader.isYAMLNumber(number) == (number != "-0x1"), "\(number)")
        }
        for text in ["5.1.0", "1_000", "0x", "0o8", "e5", ".", "-", "1e", "1.2.3", "inf", "1-2"] {
            #expect(!PipelineLoader.isYAMLNumber(text), "\(text)")
        }
        #expect(errors("tests:\n  - { name: a, events: [ 3 ] }\n") ==
                ["2:26: an event must be a mapping of fields, not a single value"])
        #expect(errors("tests:\n  - { name: a, events: [] }\n  - { name: a, events: [] }\n") ==
                ["3:13: a second test named 'a'"])
        #expect(errors("tests:\n  - { name: a, events: [], expect: { records: [ 1 ], late: x } }\n") == [
            "2:49: a record matcher must be a mapping of record fields to values, not a single value",
            "2:60: 'late' in test 'a' must be an integer 0 or more, got 'x'",
        ])
        #expect(errors("tests:\n  - { name: a, events: [], expect: { profiles: { c-1: 3 } } }\n") ==
                ["2:55: the profile of 'c-1' must be a mapping of fields to values, or null, not a single value"])
        #expect(errors("tests: [\n") .first?.hasPrefix("2:1: invalid YAML") == true)
        #expect(errors("name: p\njourneys: []\n") == ["1:1: this is a pipeline, not a test file"])
        guard case .failure(let e) = PipelineLoader.load(file: "a.test.yaml", source: "pipeline: a.yaml\ntests: []\n") else {
            Issue.record("a test file loads as a pipeline")
            return
        }
        #expect(e.diagnostics.map(\.message) == ["this is a test file, not a pipeline"])
        #expect(e.diagnostics.first?.hint == "run its tests with: cairn test a.test.yaml")
    }

    // MARK: - Matching

    func tree(_ json: String) -> JSONTree { JSONTree.parse(Array(json.utf8))! }

    @Test("a matcher checks the fields it names: subset objects, numbers by value, times as instants")
    func matching() {
        let record = tree(#"{"kind":"action","time":"2024-03-04T11:00:00.000Z","n":1,"data":{"sku":"S-1","q":2},"tags":["a",{"x":1,"y":2}]}"#)
        #expect(RecordMatch.matches(tree(#"{"kind":"action"}"#), record))
        #expect(RecordMatch.matches(tree(#"{"time":"2024-03-04T11:00:00Z"}"#), record))
        #expect(RecordMatch.matches(tree(#"{"time":"2024-03-04T12:00:00+01:00"}"#), record))
        #expect(!RecordMatch.matches(tree(#"{"time":"2024-03-04T11:00:00.001Z"}"#), record))
        #expect(RecordMatch.matches(tree(#"{"n":1.0}"#), record))
        #expect(!RecordMatch.matches(tree(#"{"n":"1"}"#), record))
        #expect(RecordMatch.matches(tree(#"{"data":{"sku":"S-1"}}"#), record))
        #expect(!RecordMatch.matches(tree(#"{"data":{"sku":"S-2"}}"#), record))
        #expect(RecordMatch.matches(tree(#"{"tags":["a",{"y":2}]}"#), record))
        #expect(!RecordMatch.matches(tree(#"{"tags":["a"]}"#), record))
        #expect(!RecordMatch.matches(tree(#"{"reason":null}"#), record))
        #expect(RecordMatch.matches(tree(#"{}"#), record))
        #expect(RecordMatch.differences(tree(#"{"kind":"skip","reason":"x","data":{"sku":"S-2"}}"#), record) == [
            #"kind: expected "skip", got "action""#, "no field 'reason'", #"data.sku: expected "S-2", got "S-1""#,
        ])
        #expect(RecordMatch.differences(tree(#"{"kind":"action"}"#), record).isEmpty)
    }

    @Test("the expected list is aligned with the records by the longest common subsequence")
    func alignment() {
        let e = ["a", "b", "c"].map { tree(#"{"k":"\#($0)"}"#) }
        let r = ["a", "x", "c", "d"].map { tree(#"{"k":"\#($0)","id":1}"#) }
        #expect(RecordMatch.align(e, r) == [.match(0, 0), .extra(1), .missing(1), .match(2, 2), .extra(3)])
        #expect(RecordMatch.align([], r) == [.extra(0), .extra(1), .extra(2), .extra(3)])
        #expect(RecordMatch.align(e, []) == [.missing(0), .missing(1), .missing(2)])
        #expect(RecordMatch.align(e, e) == [.match(0, 0), .match(1, 1), .match(2, 2)])
        // Order matters: the same records in another order do not all match.
        let swapped = RecordMatch.align(e, [e[1], e[0], e[2]])
        #expect(swapped.count { if case .match = $0 { true } else { false } } == 2)
    }

    @Test("values written as YAML flow read back as the same JSON")
    func yamlRoundTrip() throws {
        let strings = ["action", "c-000042", "2024-03-04T11:00:00.000Z", "steps[1]", "a b", "yes", "No", "null", "~",
                       "1", "1e3", "0x1F", "-x", ":x", "x:", "a: b", "#c", "é", "", "a,b", "{x}", "say \"hi\"", "tab\tx",
                       "1_000", "5.1.0", "true", "e", "E5", "k-1", "a/b.c", "+1", "_x"]
        let value = JSONTree.object(strings.enumerated().map { ("k\($0.offset)", .string($0.element)) }
            + [("n", .number("1.50")), ("b", .bool(false)), ("z", .null), ("a", .array([.number("1"), .string("x")]))])
        let flow = RecordMatch.yamlFlow(value)
        let file = try loaded("tests:\n  - name: t\n    events:\n      - \(flow)\n")
        guard case .events(let lines) = file.tests[0].input else { Issue.record("not inline"); return }
        #expect(lines.first?.value == value.text)
        #expect(RecordMatch.yamlFlow(tree(#"{"kind":"action","time":"2024-03-04T11:00:00Z","id":"0123"}"#))
                == #"{ kind: action, time: 2024-03-04T11:00:00Z, id: "0123" }"#)
        #expect(RecordMatch.project(tree(#"{"a":1,"b":2,"c":3}"#), onto: ["c", "x", "a"]).text == #"{"c":3,"a":1}"#)
        #expect(RecordMatch.project(tree(#"{"a":1}"#), onto: []).text == #"{"a":1}"#)
    }

    // MARK: - Editor

    @Test("--update replaces a block value and keeps every other line, comments included")
    func editorReplace() {
        let source = """
            tests:
              - name: a   # first
                events: []
                expect:
                  records:
                    - { kind: old }
                    # a comment inside
                    - kind: older
                      template: x
                  # kept: the comment after the list
                  late: 0
              - name: b
                events: []
                expect:
                  profiles:
                    c-1: { n: 1 }

            # the end
            """
        var editor = TestFileEditor(source: source + "\n")
        editor.replaceValue(ofKeyAt: SourceLocation(line: 5, column: 7), name: "records", with: ["{ kind: new }", "{ kind: newer }"])
        editor.replaceValue(ofKeyAt: SourceLocation(line: 15, column: 7), name: "profiles", with: ["c-1: { n: 2 }"], mapping: true)
        #expect(editor.text() == """
            tests:
              - name: a   # first
                events: []
                expect:
                  records:
                    - { kind: new }
                    - { kind: newer }
                  # kept: the comment after the list
                  late: 0
              - name: b
                events: []
                expect:
                  profiles:
                    c-1: { n: 2 }

            # the end

            """)
        var empty = TestFileEditor(source: "expect:\n  records:\n  - { a: 1 }\n  late: 0\n")
        empty.replaceValue(ofKeyAt: SourceLocation(line: 2, column: 3), name: "records", with: [])
        #expect(empty.text() == "expect:\n  records: []\n  late: 0\n")
    }

    @Test("--update inserts records into an expect, or an expect at the end of a test; CRLF stays CRLF")
    func editorInsert() {
        let source = "tests:\r\n  - name: a\r\n    events: []\r\n    # trailing comment\r\n\r\n  - name: b\r\n    events: []\r\n    expect:\r\n      late: 1\r\n"
        var editor = TestFileEditor(source: source)
        editor.appendExpect(toMappingAt: SourceLocation(line: 2, column: 5), records: ["{ kind: action }"])
        editor.insert(before: 9, column: 7, name: "records", items: ["{ kind: exit }"])
        #expect(editor.text() == "tests:\r\n  - name: a\r\n    events: []\r\n    expect:\r\n      records:\r\n        - { kind: action }\r\n    # trailing comment\r\n\r\n  - name: b\r\n    events: []\r\n    expect:\r\n      records:\r\n        - { kind: exit }\r\n      late: 1\r\n")
        let flow = TestFileEditor(source: "records:\n  - { kind: action, data: { a: \"}\" } }   # note\n  - kind: x\n")
        #expect(flow.flowMapping(at: SourceLocation(line: 2, column: 5)) == #"{ kind: action, data: { a: "}" } }"#)
        #expect(flow.flowMapping(at: SourceLocation(line: 3, column: 5)) == nil)
    }
}
