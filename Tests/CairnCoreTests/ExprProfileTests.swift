import Testing
@testable import CairnCore

/// `profile.NAME` in expressions: static types, errors, and evaluation against a hand-built
/// `Activation.profileValues`.
@Suite("profile fields in expressions")
struct ExprProfileTests {
    static let fields: [ExprProfile.Field] = [
        .init(name: "carts", type: .int),
        .init(name: "spend", type: .double),
        .init(name: "tz", type: .dyn),
        .init(name: "tags", type: .dyn),
        .init(name: "email_ok", type: .dyn),
        .init(name: "visits", type: .int),
        .init(name: "props", type: .dyn),
    ]

    /// The text the string, list and map values point into, as the runner's buffer of stored
    /// values would be.
    static let text = #""UTC""Caf\u00e9"["a","b"]{"k":1,"s":"x"}"#

    /// One value per field: 3, 612.5, "UTC", ["a","b"], null, 0, {"k":1,"s":"x"}; `tzEscaped`
    /// swaps in the escaped "Café".
    static func values(tzEscaped: Bool = false) -> [Value] {
        let tz = tzEscaped ? StringSpan(origin: .variables, escaped: true, start: 6, count: 9)
            : StringSpan(origin: .variables, escaped: false, start: 1, count: 3)
        return [.int(3), .double(612.5), .string(tz), .list(ValueRef(origin: .variables, start: 16, count: 9)),
                .null, .int(0), .map(ValueRef(origin: .variables, start: 25, count: 15))]
    }

    static func environment(_ profile: ExprProfile = .fields(fields)) -> ExprEnvironment {
        BoundExpressions.environment(profile: profile)
    }

    /// The value as JSON text, "error: ..." or "compile: ...".
    static func run(_ source: String, tzEscaped: Bool = false, withProfile: Bool = true) -> String {
        BoundExpressions.run(source, in: environment(), text: Self.text,
                             profileValues: withProfile ? Self.values(tzEscaped: tzEscaped) : nil)
    }

    static func diagnostics(_ source: String, _ profile: ExprProfile = .fields(fields)) -> [ExprDiagnostic] {
        BoundExpressions.diagnostics(source, in: environment(profile))
    }

    @Test("profile.NAME reads the field's value for this event", arguments: [
        ("profile.carts > 2", "true"), ("profile.carts", "3"), ("profile.carts + 1", "4"),
        ("profile.spend + 1.0", "613.5"), ("profile.spend > 500.0", "true"),
        ("profile.tz == \"UTC\"", "true"), ("profile.tz", #""UTC""#), ("size(profile.tz)", "3"),
        ("profile.tz.startsWith('U')", "true"), ("profile.tags", #"["a","b"]"#),
        ("'b' in profile.tags", "true"), ("profile.tags[1] == 'b'", "true"),
        ("profile.tags.exists(t, t == 'a')", "true"), ("profile.email_ok == null", "true"),
        ("profile.email_ok", "null"), ("profile.visits == 0", "true"),
        ("type == 'view' && profile.carts >= 3", "true"),
        ("[1].all(profile, profile > 0)", "true"),
        ("profile.props", #"{"k":1.0,"s":"x"}"#), ("profile.props.k == 1.0", "true"), ("'s' in profile.props", "true"),
        ("profile.props.s + profile.tz", #""xUTC""#), ("size(profile.props)", "2"),
    ])
    func values(_ source: String, _ expected: String) {
        #expect(Self.run(source) == expected, "\(source)")
    }

    @Test("an escaped profile string is compared and rendered decoded")
    func escapedString() {
        #expect(Self.run("profile.tz == 'Café'", tzEscaped: true) == "true")
        #expect(Self.run("profile.tz", tzEscaped: true) == #""Café""#)
        #expect(Self.run("size(profile.tz)", tzEscaped: true) == "4")
    }

    @Test("without profile values, profile.NAME is an error that conditions absorb")
    func noValues() {
        #expect(Self.run("profile.carts", withProfile: false) == "error: unsupported type")
        #expect(Self.run("profile.carts > 2 || true", withProfile: false) == "true")
    }

    @Test("profile.NAME has the field's static type", arguments: [
        ("profile.carts", ExprType.int), ("profile.spend", .double), ("profile.tz", .dyn),
    ])
    func staticTypes(_ source: String, _ type: ExprType) throws {
        var env = Self.environment()
        let program = try ExprCompiler.compile(source, in: &env).get()
        #expect(program.resultType == type)
        #expect(!program.isConstant)
    }

    @Test("profile used other than as profile.NAME is an error at the use", arguments: [
        ("profile.spned > 1.0", "undeclared profile field 'spned'", 8, 13, "did you mean 'spend'?"),
        ("profile.cart > 1", "undeclared profile field 'cart'", 8, 12, "did you mean 'carts'?"),
        ("profile.zzzzzzzz > 1", "undeclared profile field 'zzzzzzzz'", 8, 16,
         "declare it under 'profile', or use one of 'carts', 'spend', 'tz', 'tags', 'email_ok', 'visits', 'props'"),
        ("profile == null", "'profile' is not a value: read one of its fields as profile.NAME", 0, 7,
         "the profile fields are profile.carts, profile.spend, profile.tz, profile.tags, profile.email_ok, ..."),
        ("profile['carts'] > 1", "profile fields are read as profile.NAME, not by index", 0, 16, "write profile.carts"),
        ("profile[type] > 1", "profile fields are read as profile.NAME, not by index", 0, 13,
         "read a profile field as profile.NAME"),
        ("has(profile.carts)", "has() does not apply to profile fields", 4, 17,
         "a profile field always has a value (its default, or null, before any event): read profile.carts"),
        ("profile.carts + 1.0", "no matching overload for '+' applied to (int, double)", 14, 15, nil),
        ("profile.carts.x", "type 'int' does not support field selection", 14, 15, nil),
    ])
    func misuse(_ source: String, _ message: String, _ start: Int, _ end: Int, _ hint: String?) {
        let items = Self.diagnostics(source)
        #expect(items.count == 1, "\(source): \(items)")
        #expect(items.first?.message == message, "\(source)")
        #expect(items.first?.range == SourceRange(start: start, end: end), "\(source)")
        #expect(items.first?.hint == hint, "\(source)")
    }

    @Test("where the profile is unavailable, every use of it reports why, at the 'profile' token", arguments: [
        "profile.carts > 1", "profile == null", "profile['carts'] > 1", "has(profile.carts)", "profile.nope > 1",
    ])
    func unavailable(_ source: String) {
        let why = ExprProfile.unavailable(message: "'profile' is not available here", hint: "because")
        let items = Self.diagnostics(source, why)
        #expect(items.count == 1, "\(source): \(items)")
        #expect(items.first?.message == "'profile' is not available here")
        #expect(items.first?.hint == "because")
        let start = source.hasPrefix("has(") ? 4 : 0
        #expect(items.first?.range == SourceRange(start: start, end: start + 7), "\(source)")
    }
}
