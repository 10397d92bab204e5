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
        let steps = pipeline.journeys[0].steps
        #expect(steps.map(\.name) == ["steps[0]", "follow-up", "end"])
        guard case .send(let send) = steps[0].op else { Issue.record("steps[0] is not a send"); return }
        #expect(pipeline.channels[send.channel].name == "email")
        #expect(send.template == "order-thanks")
        #expect(send.next == 1)
        guard case .send(let second) = steps[1].op else { Issue.record("steps[1] is not a send"); return }
        #expect(pipeline.channels[second.channel].name == "push")
        #expect(second.template == "say \"hi\"")
        #expect(second.next == 2)
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

    @Test("erase, like every key of the language, is accepted and compiled")
    func eraseAccepted() throws {
        let source = Self.valid.replacingOccurrences(of: "name: shop\n", with: "name: shop\nerase: type == \"x\"\n")
        #expect(errors(source).isEmpty)
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: source).get()
        #expect(pipeline.erase != nil)
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
                steps: [ { wait: soon } ]
            """
        let found = errors(source)
        let messages = found.map(\.message)
        #expect(messages.contains("unsupported pipeline format version '2'"))
        #expect(messages.contains("unknown key 'evnets' in the pipeline"))
        #expect(messages.contains("missing key 'events' in the pipeline"))
        #expect(messages.contains("missing key 'template' in 'send' of steps[0] of journey 'a'"))
        #expect(messages.contains("duplicate journey name 'a'"))
        #expect(messages.contains("expected a duration such as 30m, 1h or 7d, got 'soon'"))
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

// MARK: - The complete schema

/// Loads: the errors (and warnings) of a failed load, or the warnings of a successful one.
private func language(_ source: String) -> (spec: PipelineSpec?, errors: [Diagnostic], warnings: [Diagnostic]) {
    switch PipelineLoader.load(file: "p.yaml", source: source) {
    case .success(let spec): return (spec, [], spec.warnings)
    case .failure(let e):
        return (nil, e.diagnostics.filter { $0.severity == .error }, e.diagnostics.filter { $0.severity == .warning })
    }
}

/// The 1-based line and column (Unicode scalars) of an occurrence of `needle` in `source`.
private func position(of needle: String, in source: String, occurrence: Int = 1) -> CairnCore.SourceLocation {
    var seen = 0
    for (i, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var from = line.startIndex
        while let range = line[from...].range(of: needle) {
            seen += 1
            if seen == occurrence {
                let column = line.unicodeScalars.distance(from: line.startIndex, to: range.lowerBound) + 1
                return CairnCore.SourceLocation(line: i + 1, column: column)
            }
            from = range.upperBound
        }
    }
    Issue.record("'\(needle)' not found")
    return CairnCore.SourceLocation(line: 0, column: 0)
}

/// A small pipeline with room for extra keys at each level.
private func pipeline(
    top: String = "", events: String = "", journey: String = "",
    steps: String = "      - send: { channel: email, template: hi }"
) -> String {
    var text = "cairn: 1\nname: t\nevents:\n  customer: user_id\n  time: ts\n  type: event\n"
    if !events.isEmpty { text += events + "\n" }
    if !top.isEmpty { text += top + "\n" }
    text += "journeys:\n  - name: j\n    entry: type == \"a\"\n"
    if !journey.isEmpty { text += journey + "\n" }
    text += "    steps:\n" + steps + "\n"
    return text
}

struct PipelineSchemaTests {
    static let complete = """
        cairn: 1
        name: full
        description: every key of the language
        events:
          customer: user_id
          time: ts
          type: event
          time_format: epoch_ms
          lateness: 10m
        profile:
          carts_24h: { count: type == "add_to_cart", window: 24h }
          open_tickets: { count: type == "ticket_opened", minus: type == "ticket_resolved" }
          spend_90d: { sum: event.props.price * event.props.qty, where: type == "purchase", window: 90d }
          cheapest: { min: event.props.price, where: type == "purchase" }
          dearest: { max: event.props.price, where: type == "purchase", default: 0 }
          tz: { last: event.tz, where: has(event.tz), default: "UTC" }
          basket_30d: { avg: event.props.total, where: type == "purchase", window: 30d, bucket: 1d, default: 0 }
          first_seen: { first: time }
          skus_7d: { distinct: event.props.sku, where: has(event.props.sku), window: 7d, capacity: 64 }
          ttl: 120d
        channels:
          email: { cap: 3 per 7d, quiet: 21:00-08:00, timezone: event.tz, consent: event.subscribed == true }
          push: { cap: 1 per 1d }
          sms:
        erase: type == "erasure_request"
        journeys:
          - name: cart
            entry: type == "add_to_cart"
            key: event.props.cart_id
            reentry: { mode: after_exit, cooldown: 1d, max: 10 }
            exit: type == "purchase"
            hold: profile.open_tickets > 0
            goal: { when: type == "purchase", within: 7d }
            priority: 10
            steps:
              - wait: 1h30m
              - send: { channel: email, template: reminder, data: { sku: event.props.sku } }
              - id: checkout
                wait_for: { event: type == "checkout_started", timeout: 1d }
                then: [ { exit: checked_out } ]
                else: [ { send: { channel: push, template: nudge } } ]
              - branch:
                  - when: event.props.total > 500.0
                    steps: [ { send: { channel: email, template: vip } } ]
                  - else: [ { send: { channel: sms, template: plain } } ]
              - split:
                  salt: cart-2024-03
                  variants:
                    discount: { weight: 45, steps: [ { send: { channel: email, template: off } } ] }
                    nudge: { weight: 45, steps: [ { id: nudge-push, send: { channel: push, template: nudge } } ] }
                    control: { weight: 10, holdout: true }
              - exit: done
          - name: plain
            entry: type == "purchase"
            steps:
              - send: { channel: email, template: thanks }
        """

    @Test("a pipeline using every key of the language loads, every value read")
    func completePipeline() throws {
        let loaded = language(Self.complete)
        #expect(loaded.errors == [])
        #expect(loaded.warnings == [])
        let spec = try #require(loaded.spec)
        #expect(spec.description == "every key of the language")
        #expect(spec.events.timeFormat == .epochMilliseconds)
        #expect(spec.events.lateness?.value == PipelineDuration(seconds: 600))
        #expect(spec.profile.map(\.name.value) == ["carts_24h", "open_tickets", "spend_90d", "cheapest", "dearest", "tz",
                                                   "basket_30d", "first_seen", "skus_7d"])
        #expect(spec.profile.map(\.aggregate.keyword) == ["count", "count", "sum", "min", "max", "last", "avg", "first", "distinct"])
        #expect(spec.profile[6].bucket?.value.seconds == 86_400)
        #expect(spec.profile[8].capacity?.value == 64)
        #expect(spec.profileTTL?.value == .after(PipelineDuration(seconds: 120 * 86_400)))
        #expect(spec.profile[0].window?.value.seconds == 86_400)
        #expect(spec.profile[1].minus?.text == #"type == "ticket_resolved""#)
        #expect(spec.profile[2].filter?.text == #"type == "purchase""#)
        #expect(spec.profile[4].defaultValue?.value == .int(0))
        #expect(spec.profile[5].defaultValue?.value == .string("UTC"))
        #expect(spec.channels.map(\.name.value) == ["email", "push", "sms"])
        #expect(spec.channels[0].cap?.value == FrequencyCap(count: 3, period: .rolling(PipelineDuration(seconds: 7 * 86_400))))
        #expect(spec.channels[0].quiet?.value == QuietHours(start: 21 * 60, end: 8 * 60))
        #expect(spec.channels[0].timezone?.text == "event.tz")
        #expect(spec.channels[2].cap == nil)
        #expect(spec.erase?.text == #"type == "erasure_request""#)

        let cart = spec.journeys[0]
        #expect(cart.key?.text == "event.props.cart_id")
        #expect(cart.reentry?.mode.value == .afterExit)
        #expect(cart.reentry?.cooldown?.value.seconds == 86_400)
        #expect(cart.reentry?.max?.value == 10)
        #expect(cart.exit?.text == #"type == "purchase""#)
        #expect(cart.hold != nil)
        #expect(cart.goal?.within?.value == PipelineDuration(seconds: 604_800))
        #expect(cart.priority?.value == 10)
        #expect(cart.steps.map(\.kind.keyword) == ["wait", "send", "wait_for", "branch", "split", "exit"])
        #expect(cart.steps.map(\.name) == ["steps[0]", "steps[1]", "checkout", "steps[3]", "steps[4]", "steps[5]"])
        guard case .wait(let wait) = cart.steps[0].kind else { Issue.record("not a wait"); return }
        #expect(wait.value.seconds == 5_400)
        guard case .send(let send) = cart.steps[1].kind else { Issue.record("not a send"); return }
        #expect(send.data.map(\.name.value) == ["sku"])
        guard case .waitFor(let waitFor) = cart.steps[2].kind else { Issue.record("not a wait_for"); return }
        #expect(waitFor.timeout.value.seconds == 86_400)
        #expect(waitFor.then.map(\.path) == ["steps[2].then[0]"])
        #expect(waitFor.otherwise.map(\.path) == ["steps[2].else[0]"])
        guard case .branch(let arms) = cart.steps[3].kind else { Issue.record("not a branch"); return }
        #expect(arms.count == 2)
        #expect(arms[1].when == nil)
        #expect(arms.flatMap(\.steps).map(\.path) == ["steps[3].branch[0].steps[0]", "steps[3].branch[1].else[0]"])
        guard case .split(let split) = cart.steps[4].kind else { Issue.record("not a split"); return }
        #expect(split.salt.value == "cart-2024-03")
        #expect(split.variants.map(\.name.value) == ["discount", "nudge", "control"])
        #expect(split.variants.map(\.weight.value) == [45, 45, 10])
        #expect(split.variants.map(\.holdout) == [false, false, true])
        #expect(split.variants[0].steps.map(\.path) == ["steps[4].split.variants.discount.steps[0]"])
        #expect(split.variants[1].steps.map(\.name) == ["nudge-push"])
        guard case .exit(let reason) = cart.steps[5].kind else { Issue.record("not an exit"); return }
        #expect(reason.value == "done")
        #expect(PipelineCompiler.compile(spec).isSuccess)
    }

    @Test("a typo inside channels is reported precisely")
    func typoInsideChannels() {
        let source = pipeline(top: "channels:\n  email: { cap: 3 per 7d, qiuet: 21:00-08:00 }")
        guard case .failure(let failure) = PipelineCompiler.compile(file: "p.yaml", source: source) else {
            Issue.record("compiled")
            return
        }
        #expect(failure.diagnostics.map(\.message) == ["unknown key 'qiuet' in channel 'email'"])
        let typo = failure.diagnostics[0]
        #expect((typo.line, typo.column, typo.length) == (8, 27, 5))
        #expect(typo.hint == "did you mean 'quiet'?")
    }

    /// One validation rule: the pipeline, the text the error points at, the message and hint.
    struct Rule: CustomTestStringConvertible, Sendable {
        var source: String
        var at: String
        var occurrence = 1
        var message: String
        var hint: String? = nil
        /// Columns from the start of `at` (an empty value sits after its key).
        var shift = 0
        /// The message comes from the expression compiler: match its start only.
        var prefix = false
        var testDescription: String { message }
    }

    static let capHint = "write 'N per DURATION', at most N sends in any DURATION, e.g. 3 per 7d or 1 per 12h; "
        + "or 'N per K calendar days', counted from local midnight, e.g. 1 per calendar day"

    static let rules: [Rule] = [
        Rule(source: pipeline().replacingOccurrences(of: "cairn: 1", with: "cairn: 2"), at: "2",
             message: "unsupported pipeline format version '2'", hint: "this cairn reads format 1: write 'cairn: 1'"),
        Rule(source: pipeline(top: "descripton: x"), at: "descripton",
             message: "unknown key 'descripton' in the pipeline", hint: "did you mean 'description'?"),
        Rule(source: pipeline(events: "  lateness: soon"), at: "soon",
             message: "expected a duration such as 30m, 1h or 7d, got 'soon'",
             hint: "a whole number and a unit: s, m, h, d or w (seconds, minutes, hours, days, weeks), e.g. 90s, 10m, 7d, or 1h30m"),
        Rule(source: pipeline(top: "profile:\n  carts-24h: { count: type == \"a\" }"), at: "carts-24h",
             message: "profile name 'carts-24h' is not an identifier",
             hint: "expressions read it as profile.NAME: use letters, digits and '_', starting with a letter or '_'"),
        Rule(source: pipeline(top: "profile:\n  x: { window: 1h }"), at: "{ window",
             message: "profile 'x' has no aggregate",
             hint: "give exactly one of 'count: COND', 'sum: EXPR', 'min: EXPR', 'max: EXPR', 'avg: EXPR', "
                + "'last: EXPR', 'first: EXPR', 'distinct: EXPR'"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", sum: event.n }"), at: "sum",
             message: "profile 'x' has two aggregates, 'count' and 'sum'",
             hint: "a profile field computes one aggregate; define another field for 'sum'"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", where: type == \"b\" }"), at: "where",
             message: "'where' does not apply to 'count' in profile 'x'",
             hint: "the condition of 'count' already selects the events: combine them with '&&'"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: event.n, minus: type == \"b\" }"), at: "minus",
             message: "'minus' does not apply to 'sum' in profile 'x'",
             hint: "'minus' subtracts matching events from a 'count'"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", default: 1 }"), at: "default",
             message: "'default' does not apply to 'count' in profile 'x'", hint: "a count starts at 0"),
        Rule(source: pipeline(top: "profile:\n  x: { last: event.n, default: [1] }"), at: "[1]",
             message: "'default' of profile 'x' must be a single value (a number, a string, true, false or null), not a list"),
        Rule(source: pipeline(top: "profile:\n  x: { last: event.n, default: 1e999 }"), at: "1e999",
             message: "'default' of profile 'x' is not a number CEL can hold, got 1e999",
             hint: "integers are 64-bit and decimals must be finite; quote the value to make it a string"),
        Rule(source: pipeline(top: "profile:\n  x: { last: event.n, default: 0x1F }"), at: "0x1F",
             message: "'default' of profile 'x' is 0x1F, a number in YAML but not in JSON",
             hint: "write it as JSON writes numbers (e.g. 0.5, 10, -3, 1e3), or quote it to make it a string"),
        Rule(source: pipeline(top: "profile:\n  x: { last: event.n, default: .inf }"), at: ".inf",
             message: "'default' of profile 'x' is .inf, a number in YAML but not in JSON",
             hint: "write it as JSON writes numbers (e.g. 0.5, 10, -3, 1e3), or quote it to make it a string"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", window: 0s }"), at: "0s",
             message: "'window' of profile 'x' must be longer than 0s",
             hint: "a zero duration has no effect here; leave the key out or give a length"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: event.n, window: 1.5h }"), at: "1.5h",
             message: "expected a duration such as 30m, 1h or 7d, got '1.5h'",
             hint: "use whole numbers of a smaller unit, e.g. 1h30m rather than 1.5h"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", window: 24h, bucket: 7h }"), at: "7h",
             message: "'bucket' 7h does not divide 'window' 24h of profile 'x'",
             hint: "a window is a whole number of buckets: use a divisor such as 6h or 8h"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: event.n, window: 30d, bucket: 7d }"), at: "7d",
             message: "'bucket' 7d does not divide 'window' 30d of profile 'x'",
             hint: "a window is a whole number of buckets: use a divisor such as 6d or 10d"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: event.n, window: 1d, bucket: 2d }"), at: "2d",
             message: "'bucket' 2d does not divide 'window' 1d of profile 'x'",
             hint: "a window is a whole number of buckets: use a divisor such as 1d"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", window: 30d, bucket: 1m }"), at: "1m",
             message: "'bucket' 1m makes 43200 buckets of 'window' 30d of profile 'x', more than 256",
             hint: "each bucket keeps a partial value per customer; use a coarser bucket, such as 3h (240 buckets)"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", bucket: 1h }"), at: "bucket",
             message: "'bucket' of profile 'x' needs a 'window'",
             hint: "'bucket' divides a window into steps of time; add 'window: DURATION', or remove 'bucket' to aggregate over all time"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == \"a\", window: 1h, bucket: 0s }"), at: "0s",
             message: "'bucket' of profile 'x' must be longer than 0s"),
        Rule(source: pipeline(top: "profile:\n  x: { max: event.n, capacity: 8 }"), at: "capacity",
             message: "'capacity' does not apply to 'max' in profile 'x'",
             hint: "'capacity' says how many distinct values a 'distinct' counts exactly"),
        Rule(source: pipeline(top: "profile:\n  x: { distinct: event.sku, capacity: 2000 }"), at: "2000",
             message: "'capacity' of profile 'x' must be an integer between 2 and 1024, got 2000"),
        Rule(source: pipeline(top: "profile:\n  x: { distinct: event.sku, default: 0 }"), at: "default",
             message: "'default' does not apply to 'distinct' in profile 'x'", hint: "a distinct count starts at 0"),
        Rule(source: pipeline(top: "profile:\n  x: { avg: event.n, default: none }"), at: "none",
             message: "'default' of profile 'x' must be a number, as 'avg' is, not the string 'none'",
             hint: "the value before any event was selected, e.g. default: 0"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: event.n, default: null }"), at: "null",
             message: "'default' of profile 'x' must be a number, as 'sum' is, not null",
             hint: "the value before any event was selected, e.g. default: 0"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: int(event.n), default: 0.5 }"), at: "0.5",
             message: "'default' of profile 'x' is 0.5, but the sum of ints is an int",
             hint: "write an integer default, or sum doubles, e.g. sum: double(...)"),
        Rule(source: pipeline(top: "profile:\n  x: { first: event.n, where: profile.y > 1 }\n  y: { count: true }"),
             at: "profile.y", message: "'profile' cannot be read in profile 'x': profile fields are computed from the event",
             hint: "select what to aggregate from the event, e.g. event.props.price"),
        Rule(source: pipeline(top: "profile:\n  x: { count: type == 'a', minus: has(profile.x) }"),
             at: "profile.x", message: "'profile' cannot be read in profile 'x': profile fields are computed from the event"),
        Rule(source: pipeline(top: "profile:\n  ttl: { count: type == 'a' }"), at: "ttl",
             message: "'ttl' in 'profile' is the time an idle profile is kept, not a profile field",
             hint: "'ttl' is reserved for the idle time ('ttl: 30d' or 'ttl: never'); give the field another name"),
        Rule(source: pipeline(top: "profile:\n  x: { sum: profile.y * 2.0 }\n  y: { count: true }"),
             at: "profile.y", message: "'profile' cannot be read in profile 'x': profile fields are computed from the event"),
        Rule(source: pipeline(top: "profile:\n  ttl: [30d]"), at: "[30d]",
             message: "'ttl' of 'profile' must be a duration such as 30d, or never, not a list"),
        Rule(source: pipeline(top: "profile:\n  ttl: forever"), at: "forever",
             message: "expected a duration such as 30d, or never, got 'forever'",
             hint: "how long after a customer's latest event the profile is kept: a whole number and a unit: s, m, h, d or w (seconds, minutes, hours, days, weeks), e.g. 90s, 10m, 7d, or 1h30m, or never"),
        Rule(source: pipeline(top: "profile:\n  ttl: 0d"), at: "0d",
             message: "'ttl' of 'profile' must be longer than 0s",
             hint: "a customer idle that long is forgotten; write 'ttl: never' to keep profiles for good"),
        Rule(source: pipeline(top: "profile:\n  carts: { count: type == 'a' }").replacingOccurrences(
                of: "entry: type == \"a\"", with: "entry: profile.cart > 1"),
             at: "cart >", message: "undeclared profile field 'cart'", hint: "did you mean 'carts'?"),
        Rule(source: pipeline().replacingOccurrences(of: "entry: type == \"a\"", with: "entry: profile.carts > 1"),
             at: "carts", message: "undeclared profile field 'carts'", hint: "declare it under 'profile' in the pipeline"),
        Rule(source: pipeline(top: "profile:\n  carts: { count: type == 'a' }").replacingOccurrences(
                of: "entry: type == \"a\"", with: "entry: profile.carts + 1.0 > 2.0"),
             at: "+", message: "no matching overload for '+' applied to (int, double)"),
        Rule(source: pipeline(top: "profile:\n  x: { avg: event.n, first: event.n }"), at: "first",
             message: "profile 'x' has two aggregates, 'avg' and 'first'",
             hint: "a profile field computes one aggregate; define another field for 'first'"),
        Rule(source: pipeline(top: "profile: [1]"), at: "[1]",
             message: "'profile' must be a mapping of names to definitions, not a list"),
        Rule(source: pipeline(top: "channels:\n  email: { cap: 3 every 7d }"), at: "3 every",
             message: "expected a cap such as 3 per 7d, got '3 every 7d'",
             hint: Self.capHint),
        Rule(source: pipeline(top: "channels:\n  email: { cap: 0 per 1d }"), at: "0 per",
             message: "the count of a cap must be between 1 and 1000000, got 0",
             hint: Self.capHint),
        Rule(source: pipeline(top: "channels:\n  email: { cap: '3 per 7days' }"), at: "7days",
             message: "expected a duration such as 30m, 1h or 7d, got '7days'",
             hint: "unknown unit 'days': did you mean 'd'? units are s, m, h, d, w"),
        Rule(source: pipeline(top: "channels:\n  email: { cap: 3   per 0d }"), at: "0d",
             message: "the period of a cap must be longer than 0s",
             hint: Self.capHint),
        Rule(source: pipeline(top: "channels:\n  email: { quiet: 25:00-08:00 }"), at: "25:00",
             message: "expected quiet hours such as 21:00-08:00, got '25:00-08:00'",
             hint: "local times HH:MM-HH:MM on a 24-hour clock; the range may wrap past midnight"),
        Rule(source: pipeline(top: "channels:\n  email: { quiet: 08:00-08:00 }"), at: "08:00-",
             message: "quiet hours '08:00-08:00' start and end at the same time",
             hint: "give a range such as 21:00-08:00, or leave 'quiet' out"),
        Rule(source: pipeline(top: "channels:\n  email: { consnet: event.ok }"), at: "consnet",
             message: "unknown key 'consnet' in channel 'email'", hint: "did you mean 'consent'?"),
        Rule(source: pipeline(top: "channels:\n  emial: {}"), at: "email", occurrence: 1,
             message: "unknown channel 'email'", hint: "did you mean 'emial'?"),
        Rule(source: pipeline(top: "channels:\n  email: { consent: event.ok + 1.0 == 2.0 && 1 }"), at: "&&",
             message: "no matching overload for '&&'", prefix: true),
        Rule(source: pipeline(top: "erase: 42"), at: "42",
             message: "'erase' must be a condition, but it is of type 'int'",
             hint: "a condition is true or false, e.g. type == \"purchase\""),
        Rule(source: pipeline(top: "erase: [a]"), at: "[a]",
             message: "'erase' must be a CEL expression (a string), not a list",
             hint: "quote it if YAML reads it as a list or mapping"),
        Rule(source: pipeline(journey: "    reentry: { mode: sometimes }"), at: "sometimes",
             message: "unknown reentry mode 'sometimes'", hint: "expected one of 'never', 'after_exit', 'always'"),
        Rule(source: pipeline(journey: "    reentry: { mode: after_exit, max: 0 }"), at: "0 }",
             message: "'max' of 'reentry' of journey 'j' must be an integer between 1 and 2147483647, got 0"),
        Rule(source: pipeline(journey: "    reentry: { mode: never, cooldown: 1d }"), at: "cooldown",
             message: "'cooldown' does not apply to reentry mode 'never'",
             hint: "with 'never' a customer enters once; use 'after_exit' or 'always' to allow more entries"),
        Rule(source: pipeline(journey: "    goal: { within: 7d }"), at: "{ within",
             message: "missing key 'when' in 'goal' of journey 'j'",
             hint: "the condition of a conversion, e.g. when: type == \"purchase\""),
        Rule(source: pipeline(journey: "    goal: soon"), at: "soon",
             message: "'goal' of journey 'j' must be a mapping of keys to values, not a single value"),
        Rule(source: pipeline(journey: "    priority: high"), at: "high",
             message: "'priority' of journey 'j' must be an integer between -1000000 and 1000000, got 'high'"),
        Rule(source: pipeline(journey: "    priority: 99999999999999999999999"), at: "9999",
             message: "'priority' of journey 'j' must be an integer between -1000000 and 1000000, got 99999999999999999999999"),
        Rule(source: pipeline(steps: "      - id: x"), at: "id: x",
             message: "steps[0] of journey 'j' has no step kind",
             hint: "a step is one of 'send', 'wait', 'wait_for', 'branch', 'split', 'exit'"),
        Rule(source: pipeline(steps: "      - { wait: 1h, exit: done }"), at: "exit",
             message: "steps[0] of journey 'j' has two kinds, 'wait' and 'exit'",
             hint: "a step does one thing: write each as its own list item"),
        Rule(source: pipeline(steps: "      - { wait: 1h, then: [] }"), at: "then",
             message: "'then' in steps[0] of journey 'j' belongs beside 'wait_for'",
             hint: "'then' and 'else' are the outcomes of a 'wait_for'"),
        Rule(source: pipeline(steps: "      - wait: 90"), at: "90",
             message: "expected a duration such as 30m, 1h or 7d, got '90'",
             hint: "add a unit: s, m, h, d or w, e.g. 90s or 90m"),
        Rule(source: pipeline(steps: "      - wait: 0m"), at: "0m",
             message: "'wait' of steps[0] of journey 'j' must be longer than 0s",
             hint: "a zero duration has no effect here; leave the key out or give a length"),
        Rule(source: pipeline(steps: "      - wait: [ 1h ]"), at: "[ 1h",
             message: "'wait' of steps[0] of journey 'j' must be a duration such as 30m, 1h or 7d, not a list"),
        Rule(source: pipeline(steps: "      - wait_for: { event: type == \"b\" }"), at: "{ event",
             message: "missing key 'timeout' in 'wait_for' of steps[0]",
             hint: "how long to wait before going on with 'else', e.g. timeout: 1d"),
        Rule(source: pipeline(steps: "      - wait_for: { event: type == \"b\", timeout: 1d }\n        then: { exit: x }"),
             at: "{ exit", message: "'steps[0].then' of journey 'j' must be a list of steps, not a mapping",
             hint: "write each item on its own line starting with '- '"),
        Rule(source: pipeline(steps: "      - branch: { when: type == \"b\" }"), at: "{ when",
             message: "'branch' of steps[0] must be a list of arms ({ when: COND, steps: [...] }), not a mapping",
             hint: "write each item on its own line starting with '- '"),
        Rule(source: pipeline(steps: "      - branch:\n          - else: []\n          - when: type == \"b\"\n            steps: []"),
             at: "else", message: "'else' must be the last arm of the branch in steps[0]",
             hint: "arms after 'else' would never run"),
        Rule(source: pipeline(steps: "      - branch:\n          - { when: type == \"b\", else: [] }"), at: "when",
             message: "'when' in steps[0].branch[0] cannot sit beside 'else'",
             hint: "an arm is either { when: COND, steps: [...] } or the last { else: [...] }"),
        Rule(source: pipeline(steps: "      - branch:\n          - { steps: [] }"), at: "{ steps",
             message: "missing key 'when' in steps[0].branch[0]",
             hint: "the arm's condition, e.g. when: event.props.total > 100.0; a last arm { else: [...] } takes the rest"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 1 } } }"), at: "{ a:",
             message: "the split in steps[0] has one variant",
             hint: "a split chooses between at least two variants; add a holdout to measure a single one"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 0 }, b: { weight: 0 } } }"),
             at: "{ a:", message: "the weights of the split in steps[0] sum to 0",
             hint: "give at least one variant a positive weight"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 1 }, b: { weight: -1 } } }"),
             at: "-1", message: "'weight' of variant 'b' of steps[0] must be an integer between 0 and 1000000, got -1"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 1 }, b: { weight: 1, holdout: yes } } }"),
             at: "yes", message: "'holdout' of variant 'b' of steps[0] must be true or false, got 'yes'"),
        Rule(source: pipeline(steps: "      - split:\n          salt: s\n          variants:\n            a: { weight: 1 }\n            c: { weight: 1, holdout: true, steps: [] }"),
             at: "steps: []", message: "holdout variant 'c' has steps",
             hint: "a holdout is measured, not messaged: remove 'steps' or 'holdout: true'"),
        Rule(source: pipeline(steps: "      - split: { variants: { a: { weight: 1 }, b: { weight: 1 } } }"), at: "{ variants",
             message: "missing key 'salt' in 'split' of steps[0]",
             hint: "a fixed text mixed into the customer hash, e.g. salt: cart-2024-03; change it to reshuffle"),
        Rule(source: pipeline(steps: "      - exit: \"checked out\""), at: "\"checked",
             message: "exit reason 'checked out' is not a valid name",
             hint: "use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_'"),
        Rule(source: pipeline(steps: "      - { id: \"a b\", send: { channel: email, template: hi } }"), at: "\"a b\"",
             message: "step id 'a b' is not a valid name",
             hint: "use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_'"),
        Rule(source: pipeline(steps: "      - { id: x, wait: 1h }\n      - branch:\n          - when: type == \"b\"\n            steps: [ { id: x, exit: y } ]"),
             at: "x", occurrence: 2, message: "duplicate step id 'x' in journey 'j'",
             hint: "first used at line 11; step ids name steps in records and must be unique in a journey"),
        Rule(source: pipeline(steps: "      - branch:\n          - when: type == \"b\"\n            steps: [ { sned: { channel: email } } ]"),
             at: "sned", message: "unknown key 'sned' in steps[0].branch[0].steps[0] of journey 'j'",
             hint: "did you mean 'send'?"),
        Rule(source: pipeline(steps: "      - send: { channel: email, template: hi, data: { sku: [1] } }"), at: "[1]",
             message: "'sku' in 'data' of steps[0] of journey 'j' must be a CEL expression (a string), not a list",
             hint: "quote it if YAML reads it as a list or mapping"),
        Rule(source: pipeline(steps: "      - send: { channel: \"\", template: hi }"), at: "\"\"",
             message: "'channel' in 'send' of steps[0] of journey 'j' is empty"),
        Rule(source: pipeline(steps: "      - branch:\n          - when: evnt.total > 1.0\n            steps: []"),
             at: "evnt", message: "undeclared reference to 'evnt'", hint: "did you mean 'event'?"),
        Rule(source: pipeline(steps: "      - wait_for: { event: '\"x\" + 1', timeout: 1d }"), at: "+",
             message: "no matching overload for '+'", prefix: true),
        Rule(source: pipeline().replacingOccurrences(of: "events:\n  customer: user_id\n  time: ts\n  type: event\n", with: "events:\n"),
             at: "events", message: "'events' must be a mapping of keys to values, not an empty value", shift: 7),
        Rule(source: pipeline().replacingOccurrences(of: "name: j", with: "name: \"\""), at: "\"\"",
             message: "'name' in journeys[0] is empty"),
        Rule(source: pipeline() + "  - name: j\n    entry: type == \"b\"\n    steps: [ { exit: x } ]\n", at: "name: j", occurrence: 2,
             message: "duplicate journey name 'j'",
             hint: "first used at line 8; journey names identify records and must be unique", shift: 6),
        Rule(source: pipeline().replacingOccurrences(of: "  time: ts\n", with: ""), at: "customer",
             message: "missing key 'time' in 'events'",
             hint: "the dotted path of the event field that holds the time, e.g. time: ts"),
        Rule(source: pipeline().replacingOccurrences(of: "time: ts", with: "time: a..b"), at: "a..b",
             message: "'a..b' is not a field path",
             hint: "write the field's dotted path, e.g. 'user_id' or 'context.user.id'"),
        Rule(source: pipeline(steps: "      []").replacingOccurrences(of: "    steps:\n      []", with: "    steps: []"),
             at: "[]", message: "'steps' of journey 'j' is empty", hint: "add a 'send' step"),
        Rule(source: pipeline(top: "profile:\n  x: 3"), at: "3",
             message: "profile 'x' must be a mapping of keys to values, not a single value"),
        Rule(source: pipeline(top: "channels:\n  email: {}\n  \"e mail\": {}"), at: "\"e mail\"",
             message: "channel name 'e mail' is not a valid name",
             hint: "use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_'"),
        Rule(source: pipeline(journey: "    reentry: { mode: never, max: 2 }"), at: "max",
             message: "'max' does not apply to reentry mode 'never'",
             hint: "with 'never' a customer enters once; use 'after_exit' or 'always' to allow more entries"),
        Rule(source: pipeline(steps: "      - exit: { reason: x }"), at: "{ reason",
             message: "'exit' in steps[0] of journey 'j' must be a single value, not a mapping"),
        Rule(source: pipeline(steps: "      - send: { channel: email, template: hi, data: [sku] }"), at: "[sku]",
             message: "'data' of steps[0] of journey 'j' must be a mapping of names to definitions, not a list"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 1 }, b: { steps: [] } } }"),
             at: "{ steps", message: "missing key 'weight' in variant 'b' of steps[0]",
             hint: "the variant's share, e.g. weight: 50 (weights are relative)"),
        Rule(source: pipeline(steps: "      - split: { salt: s, variants: { a: { weight: 1 }, b c: { weight: 1 } } }"),
             at: "b c", message: "variant name 'b c' is not a valid name",
             hint: "use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_'"),
        Rule(source: pipeline(steps: "      - split: { salt: s }"), at: "{ salt",
             message: "missing key 'variants' in 'split' of steps[0]",
             hint: "e.g. variants: { a: { weight: 50, steps: [...] }, control: { weight: 50, holdout: true } }"),
        Rule(source: pipeline(steps: "      - branch: []"), at: "[]",
             message: "'branch' of steps[0] has no arms", hint: "add arms such as - when: CONDITION\n        steps: [ ... ]"),
        Rule(source: pipeline(top: "profile:\n  x: { count: event.n + 1.0 }"), at: "event.n",
             message: "'count' of profile 'x' must be a condition, but it is of type 'double'",
             hint: "a condition is true or false, e.g. type == \"purchase\""),
    ]

    @Test("each rule reports its exact message at the exact line and column", arguments: rules)
    func rule(_ rule: Rule) {
        let found = language(rule.source).errors
        let at = position(of: rule.at, in: rule.source, occurrence: rule.occurrence)
        #expect(found.count == 1, "\(found.map { "\($0.line):\($0.column): \($0.message)" })")
        let d = found.first { rule.prefix ? $0.message.hasPrefix(rule.message) : $0.message == rule.message }
        #expect(d != nil, "\(found.map(\.message))")
        #expect(d?.line == at.line)
        #expect(d?.column == at.column + rule.shift)
        if let hint = rule.hint { #expect(d?.hint == hint) }
    }

    @Test("a profile default is read as a typed YAML 1.2 scalar", arguments: [
        ("true", ScalarValue.bool(true)), ("False", .bool(false)), ("~", .null), ("null", .null),
        ("42", .int(42)), ("-7", .int(-7)), ("1.5", .double(1.5)), ("2e3", .double(2000)),
        ("'42'", .string("42")), ("UTC", .string("UTC")), ("2024-03-01", .string("2024-03-01")),
        ("1-2", .string("1-2")), ("yes", .string("yes")),
    ])
    func defaults(_ text: String, _ value: ScalarValue) throws {
        let loaded = language(pipeline(top: "profile:\n  x: { last: event.n, default: \(text) }"))
        #expect(loaded.errors == [])
        #expect(loaded.spec?.profile.first?.defaultValue?.value == value)
    }

    @Test("zero is accepted where it means something: lateness 0s is strict time order")
    func zeroLateness() {
        #expect(language(pipeline(events: "  lateness: 0s")).errors == [])
    }

    @Test("lateness compiles to nanoseconds, 0 when absent")
    func latenessCompiles() throws {
        let late = try PipelineCompiler.compile(file: "p.yaml", source: pipeline(events: "  lateness: 1h30m")).get()
        #expect(late.lateness == 5_400_000_000_000)
        let strict = try PipelineCompiler.compile(file: "p.yaml", source: pipeline()).get()
        #expect(strict.lateness == 0)
    }

    @Test("a send may name any channel when 'channels' declares none")
    func channelsUndeclared() {
        #expect(language(pipeline(steps: "      - send: { channel: pigeon, template: hi }")).errors == [])
        let declared = language(pipeline(top: "channels:\n  email: {}",
                                         steps: "      - send: { channel: pigeon, template: hi }")).errors
        #expect(declared.map(\.message) == ["unknown channel 'pigeon'"])
        #expect(declared.first?.hint == "declare it under 'channels' (declared: 'email')")
    }

    @Test("a pipeline with many errors reports all of them, in file order")
    func manyErrorsSorted() {
        let source = pipeline(
            top: "profile:\n  x: { count: type == \"a\", windw: 1h }\nchannels:\n  email: { cap: lots }",
            journey: "    priority: high\n    goal: { when: type == \"p\", within: soon }",
            steps: "      - wait: later\n      - split: { salt: s, variants: { a: { weight: 0 }, b: { weight: 0 } } }")
        let found = language(source).errors
        #expect(found.count == 6)
        let lines = found.map(\.line)
        #expect(lines == lines.sorted())
        #expect(found.map(\.message) == [
            "unknown key 'windw' in profile 'x'",
            "expected a cap such as 3 per 7d, got 'lots'",
            "'priority' of journey 'j' must be an integer between -1000000 and 1000000, got 'high'",
            "expected a duration such as 30m, 1h or 7d, got 'soon'",
            "expected a duration such as 30m, 1h or 7d, got 'later'",
            "the weights of the split in steps[1] sum to 0",
        ])
    }

    // MARK: Warnings

    @Test("a step after an 'exit' in the same list is unreachable: a warning at the step")
    func unreachableStep() throws {
        let source = pipeline(steps: """
                  - branch:
                      - when: type == "b"
                        steps:
                          - exit: early
                          - send: { channel: email, template: never }
                          - send: { channel: email, template: never-either }
                  - exit: done
                  - wait: 1h
            """)
        let loaded = language(source)
        #expect(loaded.errors == [])
        #expect(loaded.warnings.map(\.message) == [
            "steps[0].branch[0].steps[1] of journey 'j' is unreachable",
            "steps[2] of journey 'j' is unreachable",
        ])
        let at = position(of: "- send: { channel: email, template: never }", in: source)
        #expect(loaded.warnings.first?.line == at.line)
        #expect(loaded.warnings.first?.column == at.column + 2)
        #expect(loaded.warnings.first?.severity == .warning)
        #expect(loaded.warnings.first?.hint == "steps[0].branch[0].steps[0] before it is an 'exit' step, which ends the journey")
    }

    @Test("a branch condition that repeats an earlier arm's, spacing aside, is a warning")
    func duplicateBranchCondition() {
        let source = pipeline(steps: """
                  - branch:
                      - when: type == "b" && event.n > 1.0
                        steps: []
                      - when: type=="b"   &&   event.n>1.0
                        steps: []
            """)
        let loaded = language(source)
        #expect(loaded.errors == [])
        #expect(loaded.warnings.count == 1)
        let w = loaded.warnings.first
        #expect(w?.message == "'when' of steps[0].branch[1] repeats the condition of steps[0].branch[0]")
        let at = position(of: "type==", in: source)
        #expect(w?.line == at.line)
        #expect(w?.column == at.column)
    }

    @Test("an exit that every goal event precedes is a warning, unless the goal continues or has a window")
    func goalHidesExit() {
        let exit = "    exit: type == \"buy\" && event.cart == journey.key"
        let hidden = language(pipeline(journey: exit + "\n    goal: { when: type==\"buy\" }"))
        #expect(hidden.errors == [])
        #expect(hidden.warnings.map(\.message) == ["'exit' of journey 'j' can never fire: its goal ends the instance first"])
        #expect(hidden.warnings.first?.line == 10 && hidden.warnings.first?.column == 11)
        for goal in ["goal: { when: type == \"buy\", continue: true }", "goal: { when: type == \"buy\", within: 7d }",
                     "goal: { when: type == \"buy\" && event.total > 9.0 }", "goal: { when: type == \"other\" }"] {
            #expect(language(pipeline(journey: exit + "\n    " + goal)).warnings == [], "\(goal)")
        }
        #expect(PipelineLoader.implies("a && (b || c) && d", "d && a"))
        #expect(!PipelineLoader.implies("a || b", "a"))
        #expect(!PipelineLoader.implies("a &&", "a"))
    }

    @Test("a constant entry is a warning that still lets the pipeline run")
    func constantEntry() throws {
        let source = pipeline().replacingOccurrences(of: "entry: type == \"a\"", with: "entry: 1 + 1 == 2")
        let compiled = try PipelineCompiler.compile(file: "p.yaml", source: source).get()
        #expect(compiled.warnings.count == 1)
        let w = compiled.warnings.first
        #expect(w?.severity == .warning)
        #expect(w?.message == "'entry' of journey 'j' is constant: it reads no variable")
        #expect((w?.line, w?.column, w?.length) == (9, 12, 10))
        #expect(w?.rendered(source: source).hasPrefix("p.yaml:9:12: warning: 'entry' of journey 'j' is constant") == true)
    }

    @Test("warnings are reported beside the errors of a file that fails")
    func warningsWithErrors() {
        let source = pipeline(journey: "    priority: high").replacingOccurrences(of: "entry: type == \"a\"", with: "entry: 'true'")
        let loaded = language(source)
        #expect(loaded.errors.count == 1)
        #expect(loaded.warnings.map(\.message) == ["'entry' of journey 'j' is constant: it reads no variable"])
    }

    @Test("constant conditions are found in exit, hold, goal, branch, wait_for and erase too")
    func constantConditionsEverywhere() {
        let source = pipeline(
            top: "erase: \"false\"",
            journey: "    exit: 'true'\n    hold: 1 > 2\n    goal: { when: 'true' }",
            steps: "      - wait_for: { event: 'true', timeout: 1h }\n      - branch: [ { when: 'false', steps: [] } ]")
        let loaded = language(source)
        #expect(loaded.errors == [])
        #expect(loaded.warnings.map(\.message) == [
            "'erase' is constant: it reads no variable",
            "'exit' of journey 'j' is constant: it reads no variable",
            "'hold' of journey 'j' is constant: it reads no variable",
            "'when' of 'goal' of journey 'j' is constant: it reads no variable",
            "'event' of 'wait_for' of steps[0] is constant: it reads no variable",
            "'when' of steps[1].branch[0] is constant: it reads no variable",
        ])
    }

    @Test("a constant is a condition that reads no variable outside a macro's own", arguments: [
        ("true", true), ("1 + 2 > 3", true), ("[1, 2].all(x, x > 0)", true), ("'a' in ['a']", true),
        ("type == 'a'", false), ("has(event.x)", false), ("[1].all(x, y > 0)", false),
        ("event.items.exists(i, i > 1)", false), ("x.all(x, x > 0)", false), ("customer != ''", false),
    ])
    func constantDetection(_ text: String, _ constant: Bool) throws {
        let tree = try ExprParser.parse(text).get()
        #expect(PipelineLoader.readsNoVariable(tree) == constant)
    }

    // MARK: Durations

    @Test("durations: one or more units, largest first, whole numbers", arguments: [
        ("90s", 90), ("10m", 600), ("1h", 3_600), ("7d", 604_800), ("2w", 1_209_600), ("1h30m", 5_400),
        ("1d12h", 129_600), ("1w2d3h4m5s", 788_645), ("0s", 0), ("007m", 420), ("5217w", 3_155_241_600),
    ] as [(String, Int64)])
    func durations(_ text: String, _ seconds: Int64) {
        #expect(PipelineDuration.parse(text) == .success(PipelineDuration(seconds: seconds)))
    }

    @Test("durations that are refused, and why", arguments: [
        ("", .notADuration), ("soon", .notADuration), ("h", .notADuration), ("1h 30m", .notADuration),
        ("90", .missingUnit), ("1h30", .notADuration), ("1.5h", .fraction), ("-1h", .signed), ("+5m", .signed),
        ("3y", .unknownUnit("y")), ("10min", .unknownUnit("min")), ("1H", .unknownUnit("H")),
        ("30m1h", .unitOrder), ("1h1h", .unitOrder), ("5219w", .tooLong), ("99999999999999999999s", .tooLong),
    ] as [(String, PipelineDuration.ParseError)])
    func badDurations(_ text: String, _ why: PipelineDuration.ParseError) {
        #expect(PipelineDuration.parse(text) == .failure(why))
    }

    @Test("a duration prints in its canonical form")
    func durationText() {
        #expect(PipelineDuration(seconds: 5_400).description == "1h30m")
        #expect(PipelineDuration(seconds: 0).description == "0s")
        #expect(PipelineDuration(seconds: 694_861).description == "1w1d1h1m1s")
    }

    // MARK: Odd YAML

    @Test("anchors and aliases are read like the nodes they name")
    func aliases() throws {
        let source = pipeline(steps: "      - &hi { send: { channel: email, template: hi } }\n      - *hi")
        let compiled = try PipelineCompiler.compile(file: "p.yaml", source: source).get()
        #expect(compiled.journeys[0].steps.map(\.name) == ["steps[0]", "steps[1]", "end"])
    }

    @Test("tags do not change how values are read")
    func tags() throws {
        let source = pipeline().replacingOccurrences(of: "name: t", with: "name: !!str t")
            .replacingOccurrences(of: "template: hi", with: "template: !custom hi")
        let compiled = try PipelineCompiler.compile(file: "p.yaml", source: source).get()
        #expect(compiled.name == "t")
        guard case .send(let send) = compiled.journeys[0].steps[0].op else { Issue.record("not a send"); return }
        #expect(send.template == "hi")
    }

    @Test("odd files are errors, never crashes", arguments: [
        ("", "pipeline file is empty"),
        ("# only a comment\n", "pipeline file is empty"),
        ("just a scalar", "the pipeline must be a mapping of keys to values, not a single value"),
        ("- a\n- b\n", "the pipeline must be a mapping of keys to values, not a list"),
        ("name: a\n---\nname: b\n", "a pipeline file holds one YAML document, but another starts here"),
        ("? [a, b]\n: 1\n", "keys in the pipeline must be plain names, not a list"),
        ("name: *nowhere\n", nil),
        ("name: \"a\"\n\"name\": b\n", nil),
        ("\tname: a\n", nil),
        ("name: &a [*a]\n", nil),
        ("name: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), nil),
    ] as [(String, String?)])
    func oddFiles(_ source: String, _ message: String?) {
        let found = language(source).errors
        #expect(!found.isEmpty)
        if let message { #expect(found.contains { $0.message == message }, "\(found.map(\.message))") }
        #expect(found.allSatisfy { $0.line >= 1 && $0.column >= 1 })
    }

    @Test("a YAML error at the end of a file without a final newline points at the end of the last line")
    func yamlErrorAtEnd() {
        let found = language("name: t\nevents: { customer: u")
        #expect(found.errors.count == 1)
        #expect((found.errors.first?.line, found.errors.first?.column) == (2, 22))
        #expect(found.errors.first?.rendered(source: "name: t\nevents: { customer: u").contains("events: { customer: u\n") == true)
    }

    @Test("huge numbers are range errors, not traps")
    func hugeNumbers() {
        let source = pipeline(
            journey: "    priority: -99999999999999999999999999",
            steps: "      - split: { salt: s, variants: { a: { weight: 1e400 }, b: { weight: 18446744073709551616 } } }")
        let found = language(source).errors.map(\.message)
        #expect(found == [
            "'priority' of journey 'j' must be an integer between -1000000 and 1000000, got -99999999999999999999999999",
            "'weight' of variant 'a' of steps[0] must be an integer between 0 and 1000000, got '1e400'",
            "'weight' of variant 'b' of steps[0] must be an integer between 0 and 1000000, got 18446744073709551616",
        ])
    }

    @Test("step lists nested too deeply are an error, not a stack overflow")
    func deepNesting() {
        var steps = "[ { send: { channel: email, template: hi } } ]"
        for _ in 0..<40 { steps = "[ { branch: [ { when: type == \"b\", steps: \(steps) } ] } ]" }
        let found = language(pipeline(steps: "      - branch: [ { when: type == \"c\", steps: \(steps) } ]")).errors
        #expect(found.map(\.message) == ["steps nest too deeply in journey 'j'"])
    }

    @Test("exactly 10000 steps are allowed, one more is an error")
    func stepLimit() {
        let send = "{ send: { channel: e, template: t } }"
        let exact = pipeline(steps: "      - branch: [ { when: type == \"b\", steps: [ "
            + Array(repeating: send, count: 9_999).joined(separator: ", ") + " ] } ]")
        #expect(language(exact).errors == [])
        let over = exact.replacingOccurrences(of: "steps: [ {", with: "steps: [ \(send), {")
        #expect(language(over).errors.map(\.message) == ["the pipeline has more than 10000 steps"])
    }

    @Test("mutations of the complete pipeline never crash the loader, and every diagnostic is in the file")
    func mutations() {
        var rng = SplitMix(seed: 0x5EED_CA1)
        let lines = Self.complete.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let fragments = ["", " ", "-", ":", "[", "]", "{", "}", "'", "\"", "&a", "*a", "!!int", "#", "0s", "\t", "é", "? x", "\r", "|", ">", "\\"]
        for _ in 0..<300 {
            var mutated = lines
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let i = Int.random(in: 0..<mutated.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: mutated.remove(at: i)
                case 1: mutated.insert(mutated[Int.random(in: 0..<mutated.count, using: &rng)], at: i)
                default:
                    var chars = Array(mutated[i])
                    let at = chars.isEmpty ? 0 : Int.random(in: 0..<chars.count, using: &rng)
                    if !chars.isEmpty, Bool.random(using: &rng) { chars.remove(at: at) }
                    chars.insert(contentsOf: fragments.randomElement(using: &rng)!, at: min(at, chars.count))
                    mutated[i] = String(chars)
                }
            }
            let source = mutated.joined(separator: "\n")
            do {
                let diagnostics: [Diagnostic]
                switch PipelineLoader.load(file: "p.yaml", source: source) {
                case .success(let spec):
                    diagnostics = spec.warnings
                    _ = PipelineCompiler.compile(spec)
                case .failure(let errors): diagnostics = errors.diagnostics
                }
                let sourceLines = SourceLines.split(source)
                for d in diagnostics {
                    #expect(d.line >= 1 && d.line <= sourceLines.count && d.column >= 1,
                            "\(d.line):\(d.column) \(d.message) in\n\(source)")
                    if d.line >= 1 && d.line <= sourceLines.count {
                        #expect(d.column <= sourceLines[d.line - 1].unicodeScalars.count + 1,
                                "\(d.line):\(d.column) \(d.message) in\n\(source)")
                    }
                    _ = d.rendered(source: source)
                }
            }
        }
    }

    @Test("aliases that multiply steps stop at the step limit")
    func aliasBomb() {
        var text = "cairn: 1\nname: t\nevents: { customer: u, time: ts, type: event }\njourneys:\n"
        text += "  - name: j0\n    entry: type == \"a\"\n    steps: &l0 [ { send: { channel: e, template: t } } ]\n"
        for k in 1...6 {
            let arms = Array(repeating: "{ when: type == \"a\", steps: *l\(k - 1) }", count: 10).joined(separator: ", ")
            text += "  - name: j\(k)\n    entry: type == \"a\"\n    steps: &l\(k) [ { branch: [ \(arms) ] } ]\n"
        }
        let found = language(text).errors
        #expect(found.map(\.message) == ["the pipeline has more than 10000 steps"])
    }
}

/// Positions in files with CR or CRLF line breaks, and at the end of block scalars (found by
/// the pipeline fuzzer and the broken-pipeline corpus of the check command).
struct PipelinePositionTests {
    static let head = "name: t\nevents: { customer: user_id, time: ts, type: event }\njourneys:\n  - name: j\n"
    static let send = "    steps:\n      - send: { channel: email, template: t }\n"

    func diagnostics(_ source: String) -> [Diagnostic] {
        if case .failure(let errors) = PipelineCompiler.compile(file: "p.yaml", source: source) {
            return errors.diagnostics
        }
        return []
    }

    @Test("lines end at LF, CRLF or a lone CR", arguments: [
        ("a\nb", ["a", "b"]), ("a\r\nb\r\n", ["a", "b", ""]), ("a\rb", ["a", "b"]), ("a\r\r\nb", ["a", "", "b"]),
        ("", [""]), ("é\r\n😀", ["é", "😀"]),
    ])
    func lines(_ text: String, _ expected: [String]) {
        #expect(SourceLines.split(text).map(String.init) == expected)
    }

    @Test("CRLF: an expression error is placed at its token, and its line is quoted")
    func crlfExpressionColumn() throws {
        let source = (Self.head + "    entry: type == \"purchase\" && custmer == \"c-1\"\n" + Self.send)
            .replacingOccurrences(of: "\n", with: "\r\n")
        let d = try #require(diagnostics(source).first)
        #expect((d.line, d.column) == (5, 34))
        #expect(d.rendered(source: source).contains("    entry: type == \"purchase\" && custmer == \"c-1\"\n"))
    }

    @Test("a lone CR inside a quoted expression is a line break, as YAML reads it")
    func carriageReturnInsideExpression() throws {
        let d = try #require(diagnostics(Self.head + "    entry: \"type ==\r  st&\"\n" + Self.send).first)
        #expect((d.line, d.column) == (6, 5))
    }

    @Test("the end of a literal (|) expression is placed on its last line, not the next key's")
    func literalBlockEnd() throws {
        let source = Self.head + "    entry: |\n      type == \"a\" &&\n      event.sku in [\"A-1\"\n" + Self.send
        let d = try #require(diagnostics(source).first)
        #expect((d.line, d.column) == (7, 26))
    }

    @Test("fuzz: a YAML error at the end of a file without a final newline lies inside the file")
    func endOfFileWithoutNewline() throws {
        // fuzz/crashes/pipeline-eof-error-past-last-line*.yaml
        let d = try #require(diagnostics("name: t\nevents: [a").first)
        #expect(d.line == 2)
    }

    @Test("fuzz: a NEL (U+0085) inside a line does not push positions past the end of the file")
    func nextLineCharacter() throws {
        // fuzz/crashes/pipeline-nel-line-break.yaml, reduced
        let d = try #require(diagnostics("name: t\u{85}events: [a\n").first)
        #expect(d.line <= 2)
    }

    @Test("fuzz: the end of an expression that ends the file is placed inside the file")
    func expressionAtEndOfFile() throws {
        // fuzz/crashes/pipeline-expression-end-past-last-line.yaml, reduced
        let source = Self.head + Self.send + "    entry: \"type ==\r\""
        let d = try #require(diagnostics(source).first)
        #expect(d.line <= SourceLines.split(source).count)
    }

    @Test("fuzz: the empty document of a file holding only '---' is placed inside the file")
    func emptyDocumentWithoutNewline() throws {
        // fuzz/crashes/pipeline-eof-node-past-last-line.yaml
        let d = try #require(diagnostics("---").first)
        #expect((d.line, d.column) == (1, 4))
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { true } else { false } }
}
