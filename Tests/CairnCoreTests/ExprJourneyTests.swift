import Testing
@testable import CairnCore

/// `journey.NAME` in expressions: static types, errors, where it is unavailable, and
/// evaluation against a hand-built `Activation.journeyValues`.
@Suite("journey fields in expressions")
struct ExprJourneyTests {
    /// The text the string values point into, as the runtime's buffer would be.
    static let text = #""cart-7""discount""steps[2]""#

    /// key "cart-7", entered_at 2024-03-01T11:32:00Z, variant "discount" (or null), step
    /// "steps[2]", entries 2.
    static func values(variant: Bool = true) -> [Value] {
        [.string(StringSpan(origin: .variables, escaped: false, start: 1, count: 6)),
         .timestamp(1_709_292_720_000_000_000),
         variant ? .string(StringSpan(origin: .variables, escaped: false, start: 9, count: 8)) : .null,
         .string(StringSpan(origin: .variables, escaped: false, start: 19, count: 8)),
         .int(2)]
    }

    static func environment(_ journey: ExprJourney = .available) -> ExprEnvironment {
        BoundExpressions.environment(journey: journey)
    }

    /// The value as JSON text, "error: ..." or "compile: ...".
    static func run(_ source: String, withJourney: Bool = true, variant: Bool = true) -> String {
        BoundExpressions.run(source, in: environment(), text: Self.text, eventTime: 1_709_296_320_000_000_000,
                             journeyValues: withJourney ? Self.values(variant: variant) : nil)
    }

    static func diagnostics(_ source: String, _ journey: ExprJourney = .available) -> [ExprDiagnostic] {
        BoundExpressions.diagnostics(source, in: environment(journey))
    }

    @Test("the fields are in the order of Activation.journeyValues")
    func order() {
        #expect(ExprJourney.fields.map(\.name) == ["key", "entered_at", "variant", "step", "entries"])
        #expect(ExprJourney.fields.map(\.rawValue) == [0, 1, 2, 3, 4])
    }

    @Test("journey.NAME reads the instance's value", arguments: [
        ("journey.key", #""cart-7""#), ("journey.key == 'cart-7'", "true"),
        ("journey.entered_at", #""2024-03-01T11:32:00Z""#), ("now - journey.entered_at", #""3600s""#),
        ("journey.entered_at < now", "true"),
        ("journey.variant", #""discount""#), ("journey.variant == 'discount'", "true"),
        ("journey.step", #""steps[2]""#), ("journey.step.startsWith('steps')", "true"),
        ("journey.entries", "2"), ("journey.entries + 1", "3"), ("journey.entries > 1 && type == 'view'", "true"),
        ("[1].all(journey, journey > 0)", "true"),
    ])
    func values(_ source: String, _ expected: String) {
        #expect(Self.run(source) == expected, "\(source)")
    }

    @Test("a journey without a variant reads null")
    func nullVariant() {
        #expect(Self.run("journey.variant", variant: false) == "null")
        #expect(Self.run("journey.variant == null", variant: false) == "true")
    }

    @Test("without journey values, journey.NAME is an error that conditions absorb")
    func noValues() {
        #expect(Self.run("journey.entries", withJourney: false) == "error: unsupported type")
        #expect(Self.run("journey.entries > 2 || true", withJourney: false) == "true")
    }

    @Test("journey.NAME has the field's static type", arguments: [
        ("journey.key", ExprType.dyn), ("journey.entered_at", .timestamp), ("journey.variant", .dyn),
        ("journey.step", .string), ("journey.entries", .int),
    ])
    func staticTypes(_ source: String, _ type: ExprType) throws {
        var env = Self.environment()
        let program = try ExprCompiler.compile(source, in: &env).get()
        #expect(program.resultType == type)
        #expect(!program.isConstant)
        #expect(program.readsJourney)
        #expect(program.journeyFieldsRead.count == 1)
    }

    @Test("a program reports the event fields it reads, sorted, and whether it reads journey")
    func accessors() throws {
        var env = Self.environment()
        let program = try ExprCompiler.compile(
            "type == 'x' && has(event.a.b) && event.c > 1.0 && customer != journey.key", in: &env).get()
        let a = try #require(env.fields.id(of: ["a"])), ab = try #require(env.fields.id(of: ["a", "b"]))
        let c = try #require(env.fields.id(of: ["c"]))
        #expect(program.fieldsRead == [env.typeField, env.customerField, a, ab, c].sorted())
        #expect(program.readsJourney)
        #expect(program.journeyFieldsRead == [0])
        let plain = try ExprCompiler.compile("now > timestamp('2024-01-01T00:00:00Z')", in: &env).get()
        #expect(plain.fieldsRead == [])
        #expect(!plain.readsJourney)
    }

    @Test("journey used other than as journey.NAME is an error at the use", arguments: [
        ("journey.kee == 'x'", "'journey' has no field 'kee'", 8, 11, "did you mean 'key'?"),
        ("journey.zzzzzzzz == 1", "'journey' has no field 'zzzzzzzz'", 8, 16,
         "the journey fields are journey.key, journey.entered_at, journey.variant, journey.step, journey.entries"),
        ("journey == null", "'journey' is not a value: read one of its fields as journey.NAME", 0, 7,
         "the journey fields are journey.key, journey.entered_at, journey.variant, journey.step, journey.entries"),
        ("journey['key'] == 'x'", "journey fields are read as journey.NAME, not by index", 0, 14, "write journey.key"),
        ("journey[type] == 'x'", "journey fields are read as journey.NAME, not by index", 0, 13,
         "read a journey field as journey.NAME"),
        ("has(journey.key)", "has() does not apply to journey fields", 4, 15,
         "a journey field always has a value (null for 'key' and 'variant' when there is none): read journey.key"),
        ("journey.step + 1", "no matching overload for '+' applied to (string, int)", 13, 14, nil),
        ("journy.key == 'x'", "undeclared reference to 'journy'", 0, 6, "did you mean 'journey'?"),
    ])
    func misuse(_ source: String, _ message: String, _ start: Int, _ end: Int, _ hint: String?) {
        let items = Self.diagnostics(source)
        #expect(items.count == 1, "\(source): \(items)")
        #expect(items.first?.message == message, "\(source)")
        #expect(items.first?.range == SourceRange(start: start, end: end), "\(source)")
        #expect(items.first?.hint == hint, "\(source)")
    }

    @Test("where journey is unavailable, every use of it reports why, at the 'journey' token", arguments: [
        "journey.key == 'x'", "journey == null", "journey['key'] == 'x'", "has(journey.key)", "journey.nope == 1",
    ])
    func unavailable(_ source: String) {
        let why = ExprJourney.unavailable(message: "'journey' is not available here", hint: "because")
        let items = Self.diagnostics(source, why)
        #expect(items.count == 1, "\(source): \(items)")
        #expect(items.first?.message == "'journey' is not available here")
        #expect(items.first?.hint == "because")
        let start = source.hasPrefix("has(") ? 4 : 0
        #expect(items.first?.range == SourceRange(start: start, end: start + 7), "\(source)")
    }

    @Test("by default an environment is outside any journey")
    func defaultUnavailable() {
        var paths = FieldPaths()
        let type = paths.intern(["event"])
        var env = ExprEnvironment(fields: paths, typeField: type, customerField: type)
        guard case .failure(let d) = ExprCompiler.compile("journey.step == 'x'", in: &env) else {
            Issue.record("compiled")
            return
        }
        #expect(d.items.map(\.message) == ["'journey' is only available inside a journey"])
        #expect(d.items.first?.hint == ExprJourney.whereAvailable)
    }
}
