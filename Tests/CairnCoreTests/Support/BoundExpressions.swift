@testable import CairnCore

/// Evaluates an expression over one fixed event, `{"event":"view","user_id":"c-1"}` (`type`
/// is `event`, `customer` is `user_id`), with profile or journey values bound: what the tests
/// of `profile.NAME` and `journey.NAME` share.
enum BoundExpressions {
    /// The environment of that event, reading the profile and journey as given.
    static func environment(profile: ExprProfile = .fields([]), journey: ExprJourney = .outsideJourney)
        -> ExprEnvironment {
        var paths = FieldPaths()
        let type = paths.intern(["event"])
        let customer = paths.intern(["user_id"])
        return ExprEnvironment(fields: paths, typeField: type, customerField: customer, profile: profile, journey: journey)
    }

    /// The value as JSON text, "error: ..." or "compile: ...".
    static func run(_ source: String, in env: ExprEnvironment, text: String, eventTime: Int64 = 0,
                    profileValues: [Value]? = nil, journeyValues: [Value]? = nil) -> String {
        var env = env
        let program: Program
        switch ExprCompiler.compile(source, in: &env) {
        case .failure(let d): return "compile: " + d.items.map(\.message).joined(separator: "; ")
        case .success(let p): program = p
        }
        let line = Array(#"{"event":"view","user_id":"c-1"}"#.utf8)
        var table = [ScannedValue](repeating: .absent, count: env.fields.count)
        table[0] = ScannedValue(kind: .string, start: 10, end: 14)
        table[1] = ScannedValue(kind: .string, start: 27, end: 30)
        let text = Array(text.utf8)
        let profile = profileValues ?? [], journey = journeyValues ?? []
        return line.withUnsafeBytes { raw in
            table.withUnsafeBufferPointer { fields in
                profile.withUnsafeBufferPointer { profile in
                    journey.withUnsafeBufferPointer { journey in
                        text.withUnsafeBytes { variableText in
                            let activation = Activation(
                                line: raw, fields: fields.baseAddress!, eventTime: eventTime, variableText: variableText,
                                profileValues: profileValues == nil ? nil : profile.baseAddress!,
                                journeyValues: journeyValues == nil ? nil : journey.baseAddress!)
                            let scratch = EvalScratch()
                            let value = program.evaluate(activation, scratch: scratch)
                            if case .error(let e) = value { return "error: " + program.message(for: e) }
                            return program.jsonText(of: value, activation: activation, scratch: scratch)!
                        }
                    }
                }
            }
        }
    }

    /// The compile diagnostics of an expression (empty when it compiles).
    static func diagnostics(_ source: String, in env: ExprEnvironment) -> [ExprDiagnostic] {
        var env = env
        if case .failure(let d) = ExprCompiler.compile(source, in: &env) { return d.items }
        return []
    }
}
