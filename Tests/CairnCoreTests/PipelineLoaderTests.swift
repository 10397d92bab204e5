import Foundation
import Testing
@testable import CairnCore

struct PipelineLoaderTests {
    static let valid = """
        cairn: 1
        name: shop
        events:
          customer: user_id
          time: ts
          type: event
        journeys:
          - name: thanks
            entry: type == "purchase" && event.props.total > 100.0
            steps:
              - send: { channel: email, template: order-thanks }
              - id: follow-up
                send: { channel: push, template: "say \\"hi\\"" }
        """

    func errors(_ source: String) -> [Diagnostic] {
        switch PipelineCompiler.compile(file: "p.yaml", source: source) {
        case .success: return []
        case .failure(let e): return e.diagnostics
        }
    }

    @Test("a valid pipeline compiles with its fields interned and records pre-encoded")
    func validPipeline() throws {
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: Self.valid).get()
        #expect(pipeline.name == "shop")
        #expect(pipeline.fields.paths[pipeline.customerField] == ["user_id"])
        #expect(pipeline.fields.paths[pipeline.timeField] == ["ts"])
        #expect(pipeline.fields.paths[pipeline.typeField] == ["event"])
        #expect(pipeline.fields.id(of: ["props", "total"]) != nil)
        #expect(pipeline.timeFormat == .rfc3339)
        #expect(pipeline.journeys.count == 1)
        let sends = pipeline.journeys[0].sends
        #expect(sends.map(\.step) == ["steps[0]", "follow-up"])
        #expect(String(decoding: sends[0].recordTail, as: UTF8.self)
            == #","journey":"thanks","step":"steps[0]","channel":"email","template":"order-thanks"}"# + "\n")
        #expect(String(decoding: sends[1].recordTail, as: UTF8.self)
            == #","journey":"thanks","step":"follow-up","channel":"push","template":"say \"hi\""}"# + "\n")
        #expect(sends[0].idSeed != sends[1].idSeed)
    }

    @Test("events paths may be written with an 'event.' prefix and a time format")
    func eventsMapping() throws {
        let source = Self.valid
            .replacingOccurrences(of: "customer: user_id", with: "customer: event.ctx.user")
            .replacingOccurrences(of: "type: event\n", with: "type: event\n  time_format: epoch_ms\n")
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: source).get()
        #expect(pipeline.fields.paths[pipeline.customerField] == ["ctx", "user"])
        #expect(pipeline.timeFormat == .epochMilliseconds)
    }

    @Test("an unknown key is an error at its line and column with a did-you-mean hint")
    func unknownKey() {
        let found = errors(Self.valid.replacingOccurrences(of: "    steps:", with: "    stpes:"))
        let typo = found.first { $0.message.contains("'stpes'") }
        #expect(typo?.line == 10)
        #expect(typo?.column == 5)
        #expect(typo?.length == 5)
        #expect(typo?.message == "unknown key 'stpes' in journey 'thanks'")
        #expect(typo?.hint == "did you mean 'steps'?")
        // The missing 'steps' is reported too, in the same run.
        #expect(found.contains { $0.message == "missing key 'steps' in journey 'thanks'" })
    }

    @Test("a key of the language that is not built yet is rejected by name")
    func notYetSupported() {
        let found = errors(Self.valid.replacingOccurrences(of: "name: shop\n", with: "name: shop\nprofile:\n  x: { count: true }\n"))
        #expect(found.count == 1)
        #expect(found.first?.message == "'profile' in the pipeline is not supported yet")
        #expect(found.first?.line == 3)
        #expect(found.first?.column == 1)
    }

    @Test("every error of the file is reported in one run")
    func allErrors() {
        let source = """
            cairn: 2
            name: shop
            evnets: {}
            journeys:
              - name: a
                entry: type = "x"
                steps: [ { send: { channel: email } } ]
              - name: a
                entry: 'type == "y"'
                steps: [ { wait: 1h } ]
            """
        let found = errors(source)
        let messages = found.map(\.message)
        #expect(messages.contains("unsupported pipeline format version '2'"))
        #expect(messages.contains("unknown key 'evnets' in the pipeline"))
        #expect(messages.contains("missing key 'events' in the pipeline"))
        #expect(messages.contains("missing key 'template' in 'send' of steps[0]"))
        #expect(messages.contains("duplicate journey name 'a'"))
        #expect(messages.contains("'wait' in steps[0] of journey 'a' is not supported yet"))
        #expect(found.count >= 6)
    }

    @Test("an expression error points at the token inside a quoted scalar")
    func expressionErrorInQuotedScalar() {
        let source = Self.valid.replacingOccurrences(
            of: #"entry: type == "purchase" && event.props.total > 100.0"#,
            with: #"entry: "type == 'purchase' && custmer == 'c'""#)
        let found = errors(source)
        #expect(found.count == 1)
        let d = found.first
        #expect(d?.line == 9)
        // `    entry: "` is 12 columns; `type == 'purchase' && ` is 22 more.
        #expect(d?.column == 35)
        #expect(d?.hint == "did you mean 'customer'?")
    }

    @Test("an expression error points at the right line of a folded block scalar")
    func expressionErrorInFoldedScalar() {
        let source = Self.valid.replacingOccurrences(
            of: #"entry: type == "purchase" && event.props.total > 100.0"#,
            with: "entry: >\n      type == \"purchase\"\n      && evnt.props.total > 100.0")
        let found = errors(source)
        #expect(found.count == 1)
        #expect(found.first?.line == 11)
        #expect(found.first?.column == 10)
    }

    @Test("YAML syntax errors have a line and column")
    func yamlSyntax() {
        let found = errors("name: [unclosed\nevents: x\n")
        #expect(found.count == 1)
        #expect(found.first?.message.hasPrefix("invalid YAML: ") == true)
        #expect((found.first?.line ?? 0) >= 1)
    }

    @Test("an unknown time format names the valid ones")
    func timeFormat() {
        let found = errors(Self.valid.replacingOccurrences(of: "type: event\n", with: "type: event\n  time_format: epoch_sec\n"))
        #expect(found.first?.message == "unknown time format 'epoch_sec'")
        #expect(found.first?.hint == "did you mean 'epoch_s'?")
    }

    @Test("a diagnostic renders like a compiler's: location, source line, caret, help")
    func rendering() {
        let d = Diagnostic(.error, file: "p.yaml", line: 2, column: 3, length: 5,
                           message: "unknown key 'stpes' in journey 'a'", hint: "did you mean 'steps'?")
        #expect(d.rendered(source: "a:\n  stpes: 1\n") == """
            p.yaml:2:3: error: unknown key 'stpes' in journey 'a'
                  stpes: 1
                  ^~~~~
              help: did you mean 'steps'?

            """)
    }
}
