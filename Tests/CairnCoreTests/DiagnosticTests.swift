import Testing
@testable import CairnCore

@Suite("diagnostic rendering")
struct DiagnosticTests {
    @Test("the quoted line is found whether lines end in LF, CRLF or a lone CR", arguments: [
        ("a\nb\nc", 2, "b"), ("a\r\nb\r\nc", 2, "b"), ("a\rb\rc", 3, "c"), ("a\r\n\rb", 3, "b"),
        ("a\n", 2, ""), ("a", 1, "a"), ("", 1, ""),
    ])
    func lineEndings(_ source: String, _ number: Int, _ expected: String) {
        #expect(Diagnostic.line(number, of: source) == expected)
    }

    @Test("a line past the end of the source is not found")
    func pastTheEnd() {
        #expect(Diagnostic.line(3, of: "a\nb") == nil)
        #expect(Diagnostic.line(3, of: "a\r\nb") == nil)
        #expect(Diagnostic.line(0, of: "a") == nil)
    }

    @Test("a CRLF file quotes its line and marks the token (regression: CRLF read as one line)")
    func crlfQuotesTheLine() {
        let source = "name: t\r\nevents: { typ: e }\r\n"
        let d = Diagnostic(.error, file: "p.yaml", line: 2, column: 11, length: 3, message: "unknown key 'typ'")
        #expect(d.rendered(source: source) == """
            p.yaml:2:11: error: unknown key 'typ'
                events: { typ: e }
                          ^~~

            """)
    }

    @Test("fuzz: a lone CR is a YAML line break, so the YAML parser's line numbers quote the right line")
    func loneCarriageReturn() {
        // fuzz/crashes/pipeline-lone-cr-line-numbers.yaml, reduced: libyaml counts the CR.
        let source = "# a\rb: c\nname: t\nevents: { customer[ user_id }\n"
        guard case .failure(let errors) = PipelineLoader.load(file: "p.yaml", source: source) else {
            Issue.record("the pipeline should not load")
            return
        }
        let d = errors.diagnostics[0]
        #expect(d.line == 4)
        #expect(Diagnostic.line(d.line, of: source) == "events: { customer[ user_id }")
        #expect(d.rendered(source: source).contains("\n    events: { customer[ user_id }\n"))
    }
}
