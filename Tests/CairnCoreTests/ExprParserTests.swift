import Testing
@testable import CairnCore

/// Parses `source` and returns the S-expression, or the diagnostic as "error@start..<end: message".
private func sexpr(_ source: String) -> String {
    switch ExprParser.parse(source) {
    case .success(let node): return node.description
    case .failure(let d): return "error@\(d.range): \(d.message)"
    }
}

private func literal(_ source: String) -> ExprNode.Literal? {
    guard case .success(let node) = ExprParser.parse(source), case .literal(let value) = node.kind else { return nil }
    return value
}

private func parseError(_ source: String) -> ExprDiagnostic? {
    if case .failure(let d) = ExprParser.parse(source) { return d }
    return nil
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("expression parser")
struct ExprParserTests {
    @Test("operators bind by CEL precedence and associate as the grammar says", arguments: [
        ("a + b * c", "(+ a (* b c))"),
        ("a * b + c", "(+ (* a b) c)"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b % c", "(% (/ a b) c)"),
        ("a || b && c", "(|| a (&& b c))"),
        ("a && b || c && d", "(|| (&& a b) (&& c d))"),
        ("a || b || c", "(|| (|| a b) c)"),
        ("a < b == c", "(== (< a b) c)"),
        ("a + 1 < b * 2", "(< (+ a 1) (* b 2))"),
        ("a == b && c != d", "(&& (== a b) (!= c d))"),
        ("x in [1, 2] && y", "(&& (in x [1 2]) y)"),
        ("a ? b : c ? d : e", "(?: a b (?: c d e))"),
        ("a || b ? c : d", "(?: (|| a b) c d)"),
        ("a ? (b ? c : d) : e", "(?: a (?: b c d) e)"),
        ("a ? b ? c : d : e", "error@6..<7: expected ':' but found '?'"),  // middle is ConditionalOr
        ("!a && b", "(&& (! a) b)"),
        ("!!a", "(! (! a))"),
        ("-a * b", "(* (- a) b)"),
        ("--a", "(- (- a))"),
        ("-a.b", "(- a.b)"),
        ("(a + b) * c", "(* (+ a b) c)"),
        ("a.b.c", "a.b.c"),
        ("a.b[0].c", "a.b[0].c"),
        ("a[\"k\"][1]", "a[\"k\"][1]"),
        ("f(a, b + 1)", "(f a (+ b 1))"),
        ("f()", "(f)"),
        ("a.f(x).g()", "((a.f x).g)"),
        (".a.b", ".a.b"),
        (".f(1)", "(.f 1)"),
        ("[1, 2, 3,]", "[1 2 3]"),
        ("[]", "[]"),
        ("{\"a\": 1, 2: b,}", "{\"a\": 1, 2: b}"),
        ("{}", "{}"),
        ("a.b.M{f: 1, g: x}", "a.b.M{f: 1, g: x}"),
        ("M{}", "M{}"),
        ("a // comment\n + b", "(+ a b)"),
        ("1 - -1", "(- 1 -1)"),
        ("-1.0 * 2", "(* -1.0 2)"),
        ("- 1", "-1"),
        ("--1", "(- -1)"),
        ("-x.y(1)", "(- (x.y 1))"),
    ])
    func precedence(_ source: String, _ expected: String) {
        #expect(sexpr(source) == expected, "\(source)")
    }

    @Test("every literal form decodes to its value", arguments: [
        ("0", ExprNode.Literal.int(0)),
        ("42", .int(42)),
        ("0x1F", .int(31)),
        ("0XfF", .int(255)),
        ("9223372036854775807", .int(.max)),
        ("-9223372036854775808", .int(.min)),
        ("-0x10", .int(-16)),
        ("1u", .uint(1)),
        ("7U", .uint(7)),
        ("0x10u", .uint(16)),
        ("18446744073709551615u", .uint(.max)),
        ("1.5", .double(1.5)),
        (".5", .double(0.5)),
        ("1e3", .double(1000)),
        ("1E-2", .double(0.01)),
        ("2.5e+2", .double(250)),
        ("0.0", .double(0)),
        ("-2.5", .double(-2.5)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        ("\"abc\"", .string(bytes("abc"))),
        ("'abc'", .string(bytes("abc"))),
        ("'\"\"'", .string(bytes("\"\""))),
        ("\"\"", .string([])),
        ("'''x''x'''", .string(bytes("x''x"))),
        ("\"\"\"a\nb\"c\"\"\"", .string(bytes("a\nb\"c"))),
        ("r\"\\\\\"", .string(bytes("\\\\"))),
        ("R'a\\nb'", .string(bytes("a\\nb"))),
        ("r'''a\\'''", .string(bytes("a\\"))),
        ("\"\\a\\b\\f\\n\\r\\t\\v\\\\\\?\\\"\\'\\`\"", .string([7, 8, 12, 10, 13, 9, 11, 92, 63, 34, 39, 96])),
        ("\"\\x41\\X42\"", .string(bytes("AB"))),
        ("\"\\101\"", .string(bytes("A"))),
        ("\"\\303\\277\"", .string(bytes("Ã¿"))),
        ("\"\\377\"", .string(bytes("ÿ"))),
        ("\"\\xFF\"", .string(bytes("ÿ"))),
        ("\"\\u00e9\"", .string(bytes("é"))),
        ("\"\\U0001F600\"", .string(bytes("😀"))),
        ("\"\\uD83D\\uDE00\"", .string(bytes("😀"))),
        ("\"café\"", .string(bytes("café"))),
        ("b\"abc\"", .bytes([97, 98, 99])),
        ("B'ÿ'", .bytes([195, 191])),
        ("b\"\\303\\277\"", .bytes([195, 191])),
        ("b\"\\377\"", .bytes([255])),
        ("b\"\\xFF\"", .bytes([255])),
        ("br'\\x'", .bytes(bytes("\\x"))),
        ("BR\"\\n\"", .bytes(bytes("\\n"))),
    ])
    func literals(_ source: String, _ expected: ExprNode.Literal) {
        #expect(literal(source) == expected, "\(source)")
    }

    @Test("syntax errors point at the exact offending bytes", arguments: [
        ("a + * b", "unexpected '*'", 4, 5),
        ("a +", "unexpected end of expression", 3, 3),
        ("(a + b", "expected ')' but found end of expression", 6, 6),
        ("a b", "unexpected 'b'", 2, 3),
        ("f(a,)", "unexpected ')'", 4, 5),
        ("a ? b", "expected ':' but found end of expression", 5, 5),
        ("\"abc", "unterminated string literal", 0, 4),
        ("x == 'ab\ncd'", "unterminated string literal", 5, 8),
        ("'''abc''", "unterminated string literal", 0, 8),
        ("b\"abc", "unterminated bytes literal", 0, 5),
        ("\"a\\qb\"", "invalid escape sequence '\\q'", 2, 4),
        ("\"\\x4\"", "invalid escape sequence '\\x4\"'", 1, 5),
        ("\"\\8\"", "invalid escape sequence '\\8'", 1, 3),
        ("\"\\uD800\"", "invalid unicode code point in escape sequence", 1, 7),
        ("\"\\U00110000\"", "invalid unicode code point in escape sequence", 1, 11),
        ("b\"\\u0041\"", "'\\u' escapes are not allowed in bytes literals", 2, 4),
        ("if", "'if' is a reserved word", 0, 2),
        ("a + while", "'while' is a reserved word", 4, 9),
        ("a.in", "'in' is a reserved word", 2, 4),
        ("a.package", "'package' is a reserved word", 2, 9),
        ("a = b", "unexpected '='", 2, 3),
        ("a & b", "unexpected '&'", 2, 3),
        ("a | b", "unexpected '|'", 2, 3),
        ("a # b", "unexpected character '#'", 2, 3),
        ("é", "unexpected character 'é'", 0, 2),
        ("9223372036854775808", "integer literal '9223372036854775808' is out of range", 0, 19),
        ("-9223372036854775809", "integer literal '-9223372036854775809' is out of range", 0, 20),
        ("18446744073709551616u", "integer literal '18446744073709551616u' is out of range", 0, 21),
        ("{1: 2", "expected '}' but found end of expression", 5, 5),
        ("[1, 2", "expected ']' but found end of expression", 5, 5),
        ("a.", "expected a field name after '.' but found end of expression", 2, 2),
        ("a.1", "unexpected '.1'", 1, 3),
        ("!-a", "unexpected '-'", 1, 2),
        ("", "unexpected end of expression", 0, 0),
        ("a + \"x\" + ", "unexpected end of expression", 10, 10),
        ("(a + ) + \"unterminated", "unexpected ')'", 5, 6),
    ])
    func syntaxErrors(_ source: String, _ message: String, _ start: Int, _ end: Int) {
        let d = parseError(source)
        #expect(d?.message == message, "\(source)")
        #expect(d?.range == SourceRange(start: start, end: end), "\(source)")
    }

    @Test("common slips get a hint", arguments: [
        ("a = b", "did you mean '=='?"),
        ("a & b", "did you mean '&&'?"),
        ("a | b", "did you mean '||'?"),
        ("let", "reserved words cannot be used as names"),
    ])
    func hints(_ source: String, _ hint: String) {
        #expect(parseError(source)?.hint == hint)
    }

    @Test("every node carries the byte range of its source text")
    func ranges() throws {
        let source = "type == \"é\" && event.props[\"k\"].f(1, x) > -2"
        let node = try ExprParser.parse(source).get()
        #expect(node.range == SourceRange(start: 0, end: source.utf8.count))
        guard case let .binary(.and, lhs, rhs, andRange) = node.kind else { Issue.record("not &&"); return }
        #expect(andRange == SourceRange(start: 13, end: 15))
        #expect(lhs.range == SourceRange(start: 0, end: 12))          // "é" is two bytes
        guard case let .binary(.equal, type, string, eqRange) = lhs.kind else { Issue.record("not =="); return }
        #expect(type.range == SourceRange(start: 0, end: 4))
        #expect(eqRange == SourceRange(start: 5, end: 7))
        #expect(string.range == SourceRange(start: 8, end: 12))
        guard case let .binary(.greater, call, minusTwo, _) = rhs.kind else { Issue.record("not >"); return }
        #expect(minusTwo.range == SourceRange(start: 43, end: 45))
        #expect(minusTwo.kind == .literal(.int(-2)))
        guard case let .call(target?, "f", fRange, args, false) = call.kind else { Issue.record("not call"); return }
        #expect(call.range == SourceRange(start: 16, end: 40))
        #expect(fRange == SourceRange(start: 33, end: 34))
        #expect(args.map(\.range) == [SourceRange(start: 35, end: 36), SourceRange(start: 38, end: 39)])
        guard case let .index(props, key) = target.kind else { Issue.record("not index"); return }
        #expect(target.range == SourceRange(start: 16, end: 32))
        #expect(key.range == SourceRange(start: 28, end: 31))
        guard case let .select(event, "props", fieldRange) = props.kind else { Issue.record("not select"); return }
        #expect(fieldRange == SourceRange(start: 22, end: 27))
        #expect(event.range == SourceRange(start: 16, end: 21))
    }

    @Test("ranges of conditional, unary, list, map and message nodes span their text")
    func compositeRanges() throws {
        let cases: [(String, SourceRange)] = [
            ("a ? b : c", SourceRange(start: 0, end: 9)),
            ("  !a", SourceRange(start: 2, end: 4)),
            ("[1, 2] ", SourceRange(start: 0, end: 6)),
            ("{1: 2}", SourceRange(start: 0, end: 6)),
            ("a.M{f: 1}", SourceRange(start: 0, end: 9)),
            ("(a)", SourceRange(start: 1, end: 2)),
            (".a", SourceRange(start: 0, end: 2)),
            ("- 5", SourceRange(start: 0, end: 3)),
        ]
        for (source, range) in cases {
            #expect(try ExprParser.parse(source).get().range == range, "\(source)")
        }
    }

    @Test("nesting deeper than the limit is an error, not a crash")
    func depthLimit() {
        let deep = String(repeating: "(", count: 1000) + "1" + String(repeating: ")", count: 1000)
        #expect(parseError(deep)?.message.hasPrefix("expression is nested too deeply") == true)
        let long = Array(repeating: "a", count: 1000).joined(separator: " + ")
        #expect(parseError(long)?.message.hasPrefix("expression is nested too deeply") == true)
        let fine = Array(repeating: "a", count: 100).joined(separator: " && ")
        #expect(parseError(fine) == nil)
    }

    @Test("the first error in source order wins over a later lexical error")
    func firstErrorWins() {
        #expect(parseError("a + ) 'open")?.message == "unexpected ')'")
        #expect(parseError("a + 'open")?.message == "unterminated string literal")
    }
}
