import Testing
@testable import CairnCore

/// A hand-made event: a literal line and, for each path, the kind and the exact JSON text of
/// its value in the line (found by search), standing in for the JSON scanner.
private struct Event {
    static let line = #"{"event":"purchase","user_id":"c-1","a":"x","props":{"price":19.5,"qty":2,"sku":"A-1","note":"caf\u00e9","note2":"caf\u00E9","cafe":"café","quote":"say \"hi\"","flag":true,"none":null,"tags":["t"],"big":9223372036854775807,"neg":-0.5,"huge":1e300}}"#

    static let values: [[String]: (JSONKind, String)] = [
        ["event"]: (.string, #""purchase""#),
        ["user_id"]: (.string, #""c-1""#),
        ["a"]: (.string, #""x""#),
        ["props"]: (.object, String(line.dropFirst(#"{"event":"purchase","user_id":"c-1","a":"x","props":"#.count).dropLast())),
        ["props", "price"]: (.number, "19.5"),
        ["props", "qty"]: (.number, "2"),
        ["props", "sku"]: (.string, #""A-1""#),
        ["props", "note"]: (.string, #""caf\u00e9""#),
        ["props", "note2"]: (.string, #""caf\u00E9""#),
        ["props", "cafe"]: (.string, #""café""#),
        ["props", "quote"]: (.string, #""say \"hi\"""#),
        ["props", "flag"]: (.true, "true"),
        ["props", "none"]: (.null, "null"),
        ["props", "tags"]: (.array, #"["t"]"#),
        ["props", "big"]: (.number, "9223372036854775807"),
        ["props", "neg"]: (.number, "-0.5"),
        ["props", "huge"]: (.number, "1e300"),
    ]

    /// The scanned value of `path` in `line`.
    static func scanned(_ path: [String]) -> ScannedValue {
        if path.isEmpty { return ScannedValue(kind: .object, start: 0, end: Int32(line.utf8.count)) }
        guard let (kind, text) = values[path] else { return .absent }
        let key = "\"\(path.last!)\":"
        let bytes = Array(line.utf8), needle = Array((key + text).utf8)
        let at = (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }!
        var start = at + key.utf8.count, end = start + text.utf8.count
        var flags: UInt8 = 0
        if kind == .string {
            start += 1
            end -= 1
            if text.contains("\\") { flags |= ScannedValue.flagEscapes }
        }
        if kind == .number && !text.contains(".") && !text.contains("e") { flags |= ScannedValue.flagInteger }
        return ScannedValue(kind: kind, flags: flags, start: Int32(start), end: Int32(end))
    }
}

private func environment() -> ExprEnvironment {
    var fields = FieldPaths()
    let type = fields.intern(["event"])
    let customer = fields.intern(["user_id"])
    return ExprEnvironment(fields: fields, typeField: type, customerField: customer)
}

/// Compiles and evaluates `source` against `Event`; the value as JSON text, "error: ..." for a
/// runtime error, "compile: ..." for diagnostics.
private func run(_ source: String) -> String {
    var env = environment()
    switch ExprCompiler.compile(source, in: &env) {
    case .failure(let diagnostics):
        return "compile: " + diagnostics.items.map(\.message).joined(separator: "; ")
    case .success(let program):
        let table = env.fields.paths.map(Event.scanned)
        var line = Array(Event.line.utf8)
        return line.withUnsafeMutableBytes { raw in
            table.withUnsafeBufferPointer { fields in
                let activation = Activation(line: UnsafeRawBufferPointer(raw), fields: fields.baseAddress!)
                let scratch = EvalScratch()
                let value = program.evaluate(activation, scratch: scratch)
                if case .error(let e) = value { return "error: " + program.message(for: e) }
                return program.jsonText(of: value, activation: activation, scratch: scratch)!
            }
        }
    }
}

private func diagnostics(_ source: String) -> [ExprDiagnostic] {
    var env = environment()
    if case .failure(let d) = ExprCompiler.compile(source, in: &env) { return d.items }
    return []
}

@Suite("expression evaluation")
struct ExprEvalTests {
    @Test("literals, variables and event fields evaluate to CEL values", arguments: [
        ("1", "1"), ("-9223372036854775808", "-9223372036854775808"), ("2u", "2"), ("1.5", "1.5"),
        ("'x'", #""x""#), ("true", "true"), ("null", "null"),
        ("type", #""purchase""#), ("customer", #""c-1""#),
        ("event.props.price", "19.5"), ("event.props.qty", "2.0"), ("event.props.sku", #""A-1""#),
        ("event.props.note", #""café""#), ("event.props.quote", #""say \"hi\"""#),
        ("event.props.flag", "true"), ("event.props.none", "null"),
        ("event[\"props\"][\"price\"]", "19.5"), ("event.props[\"sku\"]", #""A-1""#),
        ("event.props.missing", "error: no such key: 'props.missing'"),
        ("event.nope.deeper", "error: no such key: 'nope.deeper'"),
        ("event.props.tags", #"["t"]"#),
        ("(((type)))", #""purchase""#),
    ])
    func values(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("equality and ordering follow CEL, including across numeric types", arguments: [
        ("type == 'purchase'", "true"), ("'purchase' == type", "true"), ("type != 'purchase'", "false"),
        ("type == 'Purchase'", "false"), ("type == 1", "false"), ("customer == 'c-1'", "true"),
        ("event.props.sku == 'A-1'", "true"), ("event.props.sku != 'A-2'", "true"),
        ("event.props.note == 'café'", "true"), ("event.props.note == event.props.cafe", "true"),
        ("event.props.note == event.props.note2", "true"), ("event.props.cafe == event.props.note2", "true"),
        ("event.props.quote == 'say \"hi\"'", "true"), ("event.props.note > 'cafz'", "true"),
        ("event.props.note > event.props.cafe", "false"), ("event.props.sku < event.props.note", "true"),
        ("event.props.missing == 'x'", "error: no such key: 'props.missing'"),
        ("event.props.missing != 'x'", "error: no such key: 'props.missing'"),
        ("event.props.price == 'x'", "false"), ("event.props.price != 'x'", "true"),
        ("event.props.none == null", "true"), ("event.props.flag == true", "true"), ("event.props.flag == 1", "false"),
        ("event.props.tags == null", "false"),
        ("1 == 1.0", "true"), ("1 == 1u", "true"), ("1u == 1.0", "true"), ("-1 == 18446744073709551615u", "false"),
        ("1 != 1.5", "true"), ("event.props.qty == 2", "true"), ("event.props.qty == 2u", "true"),
        ("event.props.price > 10", "true"), ("event.props.price > 10.0", "true"), ("event.props.price <= 19.5", "true"),
        ("event.props.price < 19", "false"), ("event.props.neg < 0", "true"), ("event.props.neg > -1", "true"),
        ("9223372036854775807 == 9223372036854775807.0", "false"),
        ("9223372036854775807 < 9223372036854775807.0", "true"),
        ("9223372036854775807 < 9.223372036854775807e18", "true"),
        ("-9223372036854775808 == -9223372036854775808.0", "true"),
        ("-9223372036854775808 > -9223372036854777856.0", "true"),
        ("event.props.big > 9223372036854775807", "true"),
        ("event.props.big == 9223372036854775807", "false"),
        ("18446744073709551615u < 18446744073709551616.0", "true"),
        ("18446744073709551615u > 1.8446744073709550e19", "true"),
        ("0u > -0.5", "true"), ("0u == -0.0", "true"), ("2 > 1.5", "true"), ("2 < 2.5", "true"), ("-2 < -1.5", "true"),
        ("-1 < 0u", "true"), ("3u > 2", "true"), ("9223372036854775807 < 9223372036854775808u", "true"),
        ("0.0/0.0 == 0.0/0.0", "false"), ("0.0/0.0 != 0.0/0.0", "true"), ("0.0/0.0 < 1", "false"),
        ("0.0/0.0 >= 1u", "false"), ("1 > 0.0/0.0", "false"), ("0.0/0.0 == 1", "false"),
        ("'a' < 'b'", "true"), ("'b' <= 'a'", "false"), ("'ab' > 'a'", "true"), ("'' < 'a'", "true"),
        ("'é' > 'z'", "true"), ("'\\U0001F600' > '\\uFFFF'", "true"),
        ("false < true", "true"), ("true >= true", "true"),
        ("null == null", "true"), ("null != 0", "true"), ("'1' == 1", "false"),
        ("event.props.sku < 1", "error: no such overload"), ("event.props.none < 1", "error: no such overload"),
        ("event.props.flag < true", "false"),
    ])
    func comparisons(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("arithmetic is exact for ints, IEEE for doubles, and errors on overflow", arguments: [
        ("1 + 2 * 3", "7"), ("(1 + 2) * 3", "9"), ("7 / 2", "3"), ("-7 / 2", "-3"), ("7 % 3", "1"), ("-7 % 3", "-1"),
        ("7u / 2u", "3"), ("7u % 4u", "3"), ("2u * 3u", "6"), ("1.5 * 2.0", "3.0"), ("1.0 / 4.0", "0.25"),
        ("9223372036854775807 + 1", "error: integer overflow"), ("-9223372036854775808 - 1", "error: integer overflow"),
        ("4611686018427387904 * 2", "error: integer overflow"), ("-9223372036854775808 / -1", "error: integer overflow"),
        ("-9223372036854775808 % -1", "error: integer overflow"), ("-(-9223372036854775808)", "error: integer overflow"),
        ("--9223372036854775807", "9223372036854775807"),
        ("1 / 0", "error: division by zero"), ("1 % 0", "error: division by zero"),
        ("1u / 0u", "error: division by zero"), ("1u % 0u", "error: division by zero"),
        ("0u - 1u", "error: unsigned integer overflow"), ("18446744073709551615u + 1u", "error: unsigned integer overflow"),
        ("9223372036854775808u * 2u", "error: unsigned integer overflow"),
        ("1.0 / 0.0", #""Infinity""#), ("-1.0 / 0.0", #""-Infinity""#), ("0.0 / 0.0", #""NaN""#),
        ("event.props.price * 2.0", "39.0"), ("event.props.price + event.props.qty", "21.5"),
        ("event.props.price - 0.5", "19.0"), ("event.props.qty / 4.0", "0.5"), ("-event.props.price", "-19.5"),
        ("event.props.huge * event.props.huge", #""Infinity""#),
        ("event.props.missing * 2.0", "error: no such key: 'props.missing'"),
        ("event.props.sku * 2.0", "error: no such overload"),
        ("event.props.sku + event.props.sku", #""A-1A-1""#),
        ("event.props.price % event.props.qty", "error: no such overload"),
        ("event.props.flag + event.props.flag", "error: no such overload"),
        ("-event.props.sku", "error: no such overload"),
        ("1 / 0 == 1 / 0", "error: division by zero"),
    ])
    func arithmetic(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    // Truth table of CEL's commutative && and || with error absorption; `e` is an error.
    @Test("&& and || absorb errors from either side", arguments: [
        ("false && e", "false"), ("e && false", "false"), ("true && e", "error"), ("e && true", "error"),
        ("e && e", "error"), ("true && true", "true"), ("true && false", "false"), ("false && true", "false"),
        ("true || e", "true"), ("e || true", "true"), ("false || e", "error"), ("e || false", "error"),
        ("e || e", "error"), ("false || false", "false"), ("false || true", "true"), ("true || false", "true"),
        ("d && false", "false"), ("d && true", "error: no such overload"), ("d || true", "true"),
        ("d || false", "error: no such overload"),
    ])
    func logic(_ table: String, _ expected: String) {
        let source = table.split(separator: " ").map { word in
            word == "e" ? "event.props.missing" : word == "d" ? "event.props.sku" : String(word)
        }.joined(separator: " ")
        let result = run(source)
        if expected == "error" {
            #expect(result == "error: no such key: 'props.missing'", "\(source)")
        } else {
            #expect(result == expected, "\(source)")
        }
    }

    @Test("!, ?: and in follow CEL", arguments: [
        ("!true", "false"), ("!!false", "false"), ("!event.props.flag", "false"),
        ("!event.props.sku", "error: no such overload"), ("!event.props.missing", "error: no such key: 'props.missing'"),
        ("true ? 1 : 2", "1"), ("false ? 1 : 2", "2"), ("event.props.flag ? 'y' : 'n'", #""y""#),
        ("event.props.sku ? 1 : 2", "error: no such overload"),
        ("event.props.missing ? 1 : 2", "error: no such key: 'props.missing'"),
        ("true ? 1 : 1 / 0", "1"), ("type == 'purchase' ? event.props.price : 0.0", "19.5"),
        ("type in ['view', 'purchase']", "true"), ("type in ['view']", "false"), ("type in []", "false"),
        ("event.props.qty in [1, 2]", "true"), ("event.props.qty in [2u]", "true"), ("2 in [1.0, 2.0]", "true"),
        ("event.props.sku in [1, 'A-1']", "true"), ("event.props.none in [null]", "true"),
        ("event.props.missing in [1]", "error: no such key: 'props.missing'"),
        ("1 in [1, 1 / 0]", "error: division by zero"), ("0.0/0.0 in [0.0/0.0]", "false"),
        ("event.props.note in ['café']", "true"),
    ])
    func operators(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("has() tests presence, including null values, and needs an object parent", arguments: [
        ("has(event.props)", "true"), ("has(event.props.price)", "true"), ("has(event.props.none)", "true"),
        ("has(event.props.tags)", "true"), ("has(event.props.missing)", "false"), ("has(event.nope)", "false"),
        ("!has(event.props.missing)", "true"),
        ("has(event.nope.deeper)", "error: no such key: 'nope'"),
        ("has(event.a.b)", "error: value at 'a' is not an object and does not support field selection"),
        ("has(event.props.price) && event.props.price > 1.0", "true"),
        ("has(event.props.missing) && event.props.missing > 1.0", "false"),
    ])
    func presence(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("compile errors name the problem at its exact range, with a hint", arguments: [
        ("evnt.props.price > 1.0", "undeclared reference to 'evnt'", 0, 4, "did you mean 'event'?"),
        ("typ == 'x'", "undeclared reference to 'typ'", 0, 3, "did you mean 'type'?"),
        ("customr == 'x'", "undeclared reference to 'customr'", 0, 7, "did you mean 'customer'?"),
        ("price > 1.0", "undeclared reference to 'price'", 0, 5,
         "event fields are selected from 'event', e.g. 'event.price'; the variables are 'event', 'type', 'customer', 'time' and 'now'"),
        ("event.props.qty + 1", "no matching overload for '+' applied to (dyn, int)", 18, 19,
         "JSON numbers are doubles in CEL; write 1.0"),
        ("2u * event.props.qty", "no matching overload for '*' applied to (uint, dyn)", 0, 2,
         "JSON numbers are doubles in CEL; write 2.0"),
        ("event.x - (1 + 2)", "no matching overload for '-' applied to (dyn, int)", 11, 16,
         "JSON numbers are doubles in CEL; write double literals such as 1.0"),
        ("'a' < 1", "no matching overload for '<' applied to (string, int)", 4, 5, nil),
        ("type < 1", "no matching overload for '<' applied to (string, int)", 5, 6, nil),
        ("!1", "no matching overload for '!' applied to (int)", 0, 1, nil),
        ("-1u", "no matching overload for '-' applied to (uint)", 0, 1, nil),
        ("-'a'", "no matching overload for '-' applied to (string)", 0, 1, nil),
        ("1 + 'a'", "no matching overload for '+' applied to (int, string)", 2, 3, nil),
        ("1 + 1.0", "no matching overload for '+' applied to (int, double)", 2, 3, nil),
        ("1 + 1u", "no matching overload for '+' applied to (int, uint)", 2, 3, nil),
        ("1.0 % 2.0", "no matching overload for '%' applied to (double, double)", 4, 5, nil),
        ("1 && true", "no matching overload for '&&' applied to (int, bool)", 2, 4, nil),
        ("null < 1", "no matching overload for '<' applied to (null_type, int)", 5, 6, nil),
        ("event.a < null", "no matching overload for '<' applied to (dyn, null_type)", 8, 9, nil),
        ("1 ? 2 : 3", "no matching overload for '?:' applied to (int, int, int)", 0, 1,
         "the condition of '?:' must be a bool"),
        ("true ? 1 : 'a'", "no matching overload for '?:' applied to (bool, int, string)", 7, 14,
         "both branches of '?:' must have the same type"),
        ("type + 1", "no matching overload for '+' applied to (string, int)", 5, 6, nil),
        ("size(type, 1) > 1", "no matching overload for 'size' applied to (string, int)", 0, 4, nil),
        ("type.startsWit('a')", "undeclared reference to 'startsWit'", 5, 14, "did you mean 'startsWith'?"),
        ("type.startsWith(1)", "no matching overload for 'string.startsWith' applied to (int)", 5, 15, nil),
        ("event.items.all(x)", "'all' takes 2 arguments, got 1", 12, 15, "write list.all(x, x > 1.0)"),
        ("event.items.all(x.y, true)", "the first argument of 'all' must be a variable name", 16, 19,
         "write e.g. list.all(x, ...)"),
        ("now > 1", "no matching overload for '>' applied to (google.protobuf.Timestamp, int)", 4, 5, nil),
        ("profile.carts > 1.0", "undeclared profile field 'carts'", 8, 13, "declare it under 'profile' in the pipeline"),
        ("journey.key == 'x'", "'journey' is only available inside a journey", 0, 7, ExprJourney.whereAvailable),
        ("{'a': 1}.a + 1", "no matching overload for '+' applied to (dyn, int)", 13, 14,
         "JSON numbers are doubles in CEL; write 1.0"),
        ("{1.5: 1} == null", "unsupported map key type 'double'", 1, 4, "map keys are int, uint, bool or string"),
        ("T{a: 1} == null", "message literals are not supported", 0, 7, nil),
        ("event.tags[0] + 1", "no matching overload for '+' applied to (dyn, int)", 16, 17,
         "JSON numbers are doubles in CEL; write 1.0"),
        ("type in 'abc'", "no matching overload for 'in' applied to (string, string)", 5, 7, nil),
        ("type[0] == 'a'", "no matching overload for '[]' applied to (string, int)", 5, 6, nil),
        ("type.matches('[')", "invalid regular expression '['", 13, 16, "patterns use RE2 syntax, e.g. '^[a-z]+-[0-9]+$'"),
        ("time.getHours('Mars/Base')", "unknown time zone 'Mars/Base'", 14, 25,
         "write 'UTC', a fixed offset such as '+05:30', or an IANA name such as 'Europe/Paris'"),
        ("timestamp('2024-13-01T00:00:00Z') < now", "invalid timestamp '2024-13-01T00:00:00Z'", 10, 32,
         "write RFC 3339 text such as '2024-03-01T12:00:00Z'"),
        ("duration('1x').getHours() == 1", "invalid duration '1x'", 9, 13,
         "write a duration such as '1h30m', '90s' or '1.5s' (units h, m, s, ms, us, ns)"),
        ("now - time > duration('45d')", "invalid duration '45d'", 22, 27,
         "CEL durations have no days: write '1080h' for 45d"),
        ("now - time > duration('2w')", "invalid duration '2w'", 22, 26,
         "CEL durations have no weeks: write '336h' for 2w"),
        ("[1, 2].exists(x, 1)", "the predicate of 'exists' must be a bool, not 'int'", 17, 18, nil),
        ("[1, 2].map(x, 1, x)", "the predicate of 'map' must be a bool, not 'int'", 14, 15, nil),
        ("type.matches('(a)\\\\1')", "invalid regular expression '(a)\\1'", 13, 21,
         "backreferences are not supported (RE2 syntax)"),
        ("lowerAscii(type)", "undeclared reference to 'lowerAscii'", 0, 10, nil),
        ("type.size == 1", "type 'string' does not support field selection", 5, 9, nil),
        ("has(event)", "invalid argument to has() macro", 4, 9, "has() takes a field selection such as has(event.a.b)"),
        ("has(event['a'])", "invalid argument to has() macro", 4, 14, "has() takes a field selection such as has(event.a.b)"),
        ("has(type.x)", "type 'string' does not support field selection", 4, 10, nil),
        ("(1 + 2).c == 1", "type 'int' does not support field selection", 8, 9, nil),
    ])
    func compileErrors(_ source: String, _ message: String, _ start: Int, _ end: Int, _ hint: String?) {
        let items = diagnostics(source)
        #expect(items.count == 1, "\(source): \(items)")
        #expect(items.first?.message == message, "\(source)")
        #expect(items.first?.range == SourceRange(start: start, end: end), "\(source)")
        #expect(items.first?.hint == hint, "\(source)")
        #expect(items.first?.severity == .error)
    }

    @Test("all type errors of an expression are reported, in source order, one per mistake")
    func collectsErrors() {
        let items = diagnostics("evnt.a > 1.0 && 'a' < 1 || size(x) || typ == 'a'")
        #expect(items.map(\.message) == [
            "undeclared reference to 'evnt'",
            "no matching overload for '<' applied to (string, int)",
            "undeclared reference to 'x'",
            "undeclared reference to 'typ'",
        ])
        // A failed operand does not cascade into its parent's checks.
        #expect(diagnostics("-(evnt + 1) < 'a'").map(\.message) == ["undeclared reference to 'evnt'"])
    }

    @Test("a syntax error is reported alone")
    func syntaxErrorStops() {
        let items = diagnostics("evnt + ")
        #expect(items.map(\.message) == ["unexpected end of expression"])
    }

    @Test("the compiler interns exactly the event paths it reads, and only on success")
    func interning() throws {
        var env = environment()
        let program = try ExprCompiler.compile(
            "type == 'x' && event.props.price > 1.0 && has(event.a.b) && event['c']['d.e'] == 1", in: &env).get()
        #expect(env.fields.paths == [["event"], ["user_id"], ["props", "price"], ["a", "b"], ["a"], ["c", "d.e"]])
        #expect(program.resultType == .bool)
        var failing = environment()
        _ = ExprCompiler.compile("event.q > 1.0 && evnt.z", in: &failing)
        #expect(failing.fields.paths == [["event"], ["user_id"]])
        #expect(try ExprCompiler.compile("event.props.price", in: &env).get().resultType == .dyn)
        #expect(try ExprCompiler.compile("1 + 2", in: &env).get().resultType == .int)
        #expect(try ExprCompiler.compile("type", in: &env).get().resultType == .string)
    }

    @Test("the specialised field == string node agrees with the general equality")
    func specialisation() {
        for (field, literal) in [("type", "'purchase'"), ("event.props.note", "'café'"), ("event.props.price", "'x'"),
                                 ("event.props.none", "'null'"), ("event.props.missing", "'x'"),
                                 ("event.props.tags", "'t'"), ("event.props.sku", "'A-1'")] {
            for op in ["==", "!="] {
                let special = run("\(field) \(op) \(literal)")
                let general = run("(true ? \(field) : \(field)) \(op) \(literal)")
                #expect(special == general, "\(field) \(op) \(literal)")
            }
        }
    }

    @Test("matches() is true only for bool(true)", arguments: [
        ("type == 'purchase'", true), ("type == 'view'", false), ("1", false), ("'true'", false),
        ("event.props.missing", false), ("event.props.flag", true),
        ("type == 'purchase' && event.props.price > 10.0", true),
        // A conjunction decided by its first literal test, or evaluated in full.
        ("type == 'view' && 1 / 0 == 1", false), ("type == 'purchase' && 1 / 0 == 1", false),
        ("type == 'purchase' && event.props.price > 1000.0", false),
        ("(type == 'purchase' && event.props.flag) && event.props.price > 10.0", true),
        ("(type == 'view' && event.props.flag) && event.props.price > 10.0", false),
        ("type == 'view' || event.props.flag", true),
    ])
    func matches(_ source: String, _ expected: Bool) throws {
        var env = environment()
        let program = try ExprCompiler.compile(source, in: &env).get()
        let table = env.fields.paths.map(Event.scanned)
        let line = Array(Event.line.utf8)
        let result = line.withUnsafeBytes { raw in
            table.withUnsafeBufferPointer { program.matches(Activation(line: raw, fields: $0.baseAddress!), scratch: EvalScratch()) }
        }
        #expect(result == expected)
    }

    @Test("evaluating a program 100k times gives the same result and keeps the program unchanged")
    func repeatedEvaluation() throws {
        var env = environment()
        let program = try ExprCompiler.compile(
            "type in ['view', 'purchase'] && event.props.price > 10.0 && event.props.note == 'café' && has(event.props.qty)",
            in: &env).get()
        let nodes = program.nodes, constants = program.constants, bytes = program.bytes
        let table = env.fields.paths.map(Event.scanned)
        let line = Array(Event.line.utf8)
        let count = line.withUnsafeBytes { raw in
            table.withUnsafeBufferPointer { fields in
                var matched = 0
                let scratch = EvalScratch()
                for _ in 0..<100_000 where program.matches(Activation(line: raw, fields: fields.baseAddress!), scratch: scratch) {
                    matched += 1
                }
                return matched
            }
        }
        #expect(count == 100_000)
        #expect(program.nodes == nodes && program.constants == constants && program.bytes == bytes)
    }
}
