import Testing
@testable import CairnCore

/// CEL semantics over a real scanned event: each case compiles an expression, evaluates it
/// and compares the JSON text of the result ("error: ..." for a runtime error, "compile: ..."
/// for diagnostics). Expected values follow the CEL language definition (langdef.md) and,
/// where it is silent, cel-go; cairn's documented deviations are marked.
private enum Sample {
    static let line = #"{"type":"purchase","user":"c-1","ts":"2024-03-01T11:32:05.250Z","#
        + #""props":{"price":19.5,"qty":2,"sku":"A-1","note":"caf\u00e9","tags":["new","sale"],"#
        + #""items":[{"sku":"a","price":5.0},{"sku":"b","price":15.0}],"dims":{"w":2,"h":3},"#
        + #""none":null,"flag":true,"emoji":"😀x","esc":"a\"b"},"empty":[],"nested":[[1,2],[3]]}"#
    static let time = CELTime.parseTimestamp("2024-03-01T11:32:05.250Z")!
}

/// Compiles and evaluates `source` against `Sample` with the real JSON scanner.
private func run(_ source: String, variables: [String: String] = [:]) -> String {
    var fields = FieldPaths()
    let type = fields.intern(["type"])
    let customer = fields.intern(["user"])
    let names = variables.keys.sorted()
    var env = ExprEnvironment(fields: fields, typeField: type, customerField: customer, variables: names)
    let program: Program
    switch ExprCompiler.compile(source, in: &env) {
    case .failure(let diagnostics): return "compile: " + diagnostics.items.map(\.message).joined(separator: "; ")
    case .success(let p): program = p
    }
    let extra = try! ExprVariables.make(json: names.map { variables[$0]! }).get()
    let scanner = JSONScanner(paths: env.fields)
    var table = [ScannedValue](repeating: .absent, count: max(1, env.fields.count))
    let line = Array(Sample.line.utf8)
    let scratch = EvalScratch()
    return line.withUnsafeBytes { raw in
        table.withUnsafeMutableBufferPointer { values in
            guard case .event = scanner.scan(raw, into: values.baseAddress!) else { return "bad sample" }
            return extra.withActivationParts { text, variableValues in
                let activation = Activation(line: raw, fields: UnsafePointer(values.baseAddress!), eventTime: Sample.time,
                                            variableText: text, variableValues: variableValues)
                // Evaluate twice with the same scratch: reuse must not change the result.
                _ = program.evaluate(activation, scratch: scratch)
                let value = program.evaluate(activation, scratch: scratch)
                if case .error(let e) = value { return "error: " + program.message(for: e) }
                return program.jsonText(of: value, activation: activation, scratch: scratch) ?? "unrenderable"
            }
        }
    }
}

@Suite("CEL semantics")
struct ExprSemanticsTests {
    @Test("operators bind as CEL's grammar says", arguments: [
        ("1 + 2 * 3 == 7 && !false || false", "true"), ("2 - 3 - 4", "-5"), ("100 / 10 / 5", "2"),
        ("-2 * 3", "-6"), ("1 < 2 == true", "true"), ("!true || true", "true"), ("true || false && false", "true"),
        ("false ? 1 : true ? 2 : 3", "2"), ("1 + 1 in [2]", "true"), ("'a' + 'b' == 'ab'", "true"),
        ("7 % 4 * 2", "6"), ("-(-(3))", "3"),
    ])
    func precedence(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("errors are absorbed by && and || in both orders and by an untaken ?: branch", arguments: [
        ("[1][5] == 1 || true", "true"), ("true || [1][5] == 1", "true"),
        ("false && {'a': 1}['b'] == 1", "false"), ("{'a': 1}['b'] == 1 && false", "false"),
        ("{'a': 1}['b'] == 1 && true", "error: no such key"), ("true && {'a': 1}['b'] == 1", "error: no such key"),
        ("1 / 0 == 1 || 2 / 0 == 1", "error: division by zero"),
        ("true ? 1 : [1][5]", "1"), ("false ? [1][5] : 2", "2"), ("1 / 0 > 1 ? 1 : 2", "error: division by zero"),
        ("event.props.missing > 1.0 || event.props.price > 1.0", "true"),
    ])
    func absorption(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("numbers compare across int, uint and double; arithmetic does not mix them", arguments: [
        ("1 == 1.0", "true"), ("1u < 1.5", "true"), ("2 > 1u", "true"), ("-1 < 0u", "true"),
        ("[1, 2] == [1.0, 2u]", "true"), ("{1: 'a'}[1u]", #""a""#), ("{1: 'a'}[1.0]", #""a""#),
        ("1 in [1.0]", "true"), ("event.props.qty == 2", "true"), ("event.props.qty in [2]", "true"),
        ("9223372036854775807 + 1", "error: integer overflow"), ("0u - 1u", "error: unsigned integer overflow"),
        ("5 / 0", "error: division by zero"), ("5 % 0", "error: division by zero"), ("5.0 / 0.0", #""Infinity""#),
        ("1 + 2u", "compile: no matching overload for '+' applied to (int, uint)"),
    ])
    func numbers(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("conversions follow CEL, with range and syntax errors", arguments: [
        ("int(1e20)", "error: integer overflow"), ("int(-1e20)", "error: integer overflow"),
        ("int('x')", "error: type conversion error from 'string' to 'int'"), ("int('-42')", "-42"),
        ("int('-9223372036854775808')", "-9223372036854775808"), ("int('9223372036854775808')", "error: integer overflow"),
        ("int(-1.9)", "-1"), ("int(2.9)", "2"), ("int(18446744073709551615u)", "error: integer overflow"),
        ("int(0.0 / 0.0)", "error: integer overflow"), ("int(event.props.price)", "19"),
        ("uint(-1)", "error: unsigned integer overflow"), ("uint('42')", "42"), ("uint(3.7)", "3"),
        ("uint(-0.5)", "error: unsigned integer overflow"), ("uint('+1')", "error: type conversion error from 'string' to 'uint'"),
        ("int('+1')", "1"), ("int(' 1')", "error: type conversion error from 'string' to 'int'"), ("bool('T')", "true"),
        ("uint('-1')", "error: type conversion error from 'string' to 'uint'"),
        ("double('1.5e3')", "1500.0"), ("double(2)", "2.0"), ("double(3u)", "3.0"),
        ("double('abc')", "error: type conversion error from 'string' to 'double'"),
        ("string(42)", #""42""#), ("string(-9223372036854775808)", #""-9223372036854775808""#), ("string(0)", #""0""#),
        ("string(-7) + string(0u)", #""-70""#), ("string(timestamp(-1))", #""1969-12-31T23:59:59Z""#), ("string(18446744073709551615u)", #""18446744073709551615""#),
        ("string(1.5)", #""1.5""#), ("string(3.0)", #""3""#), ("string(true)", #""true""#),
        ("string(b'abc')", #""abc""#), ("string(b'\\xff')", "error: type conversion error from 'bytes' to 'string'"),
        ("string(event.props.note)", #""café""#),
        ("bytes('é')", #""w6k=""#), ("bytes(event.props.note)", #""Y2Fmw6k=""#), ("b'abc'", #""YWJj""#),
        ("bool('true')", "true"), ("bool('f')", "false"), ("bool('nope')", "error: type conversion error from 'string' to 'bool'"),
        ("dyn(1) + 2", "3"), ("dyn(event.props.qty) == 2", "true"),
        ("type(1) == int", "true"), ("type('a') == string", "true"), ("type(event) == map", "true"),
        ("type(event.props.qty) == double", "true"), ("type(event.props.tags) == list", "true"),
        ("type(null) == null_type", "true"), ("type(1) == uint", "false"), ("type(1)", #""int""#),
        ("type(b'')", #""bytes""#), ("type(time)", #""google.protobuf.Timestamp""#),
        ("type(time) == google.protobuf.Timestamp", "true"), ("type(time - time) == google.protobuf.Duration", "true"),
        ("type(1) == .int", "true"),
        ("int(true)", "compile: no matching overload for 'int' applied to (bool)"),
        ("string(null)", "compile: no matching overload for 'string' applied to (null_type)"),
    ])
    func conversions(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("strings: escapes, code point size, predicates, concatenation", arguments: [
        ("size('héllo😀')", "6"), ("'héllo😀'.size()", "6"), ("size(event.props.emoji)", "2"),
        ("size(event.props.note)", "4"), ("size('')", "0"), ("size(r'\\n')", "2"), ("size('\\n')", "1"),
        ("'\\x41\\u00e9\\U0001F600\\101'", #""Aé😀A""#), ("'\\'\\\"\\\\'", #""'\"\\""#),
        ("'abc'.contains('b')", "true"), ("'abc'.contains('')", "true"), ("'abc'.contains('abcd')", "false"),
        ("'abc'.startsWith('ab')", "true"), ("'abc'.startsWith('b')", "false"), ("'abc'.endsWith('bc')", "true"),
        ("event.props.note.endsWith('é')", "true"), ("event.props.note.contains('fé')", "true"),
        ("event.props.esc.contains('\"')", "true"), ("event.props.sku.startsWith('A-')", "true"),
        ("'a' + 'b'", #""ab""#), ("event.props.note + '!'", #""café!""#), ("type + '/' + customer", #""purchase/c-1""#),
        ("(type + customer).size()", "11"), ("'x' + event.props.esc == 'xa\"b'", "true"),
        ("event.props.price.contains('1')", "error: no such overload"),
    ])
    func strings(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("bytes: literals, size, concatenation, order", arguments: [
        ("size(b'\\xff\\x00')", "2"), ("size(bytes('é'))", "2"), ("b'ab' + b'c'", #""YWJj""#),
        ("b'a' < b'b'", "true"), ("b'\\xff' == b'\\377'", "true"), ("b'a' == 'a'", "false"),
        ("bytes('abc') == b'abc'", "true"),
    ])
    func bytes(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("lists and maps: literals, indexing, in, size, equality, errors", arguments: [
        ("[1, 2, 3][1]", "2"), ("[1, 2][2]", "error: index out of range"), ("[1, 2][-1]", "error: index out of range"),
        ("[1, 2][1u]", "2"), ("[1, 2][1.0]", "2"), ("[1, 2][0.5]", "error: no such overload"),
        ("[1, 2] == [1, 2]", "true"), ("[1] == [1, 2]", "false"), ("[1, 'a'] == [1, 'a']", "true"), ("[] == []", "true"),
        ("size([1, 2, 3])", "3"), ("[1, 2] + [3]", "[1,2,3]"), ("2 in [1, 2]", "true"), ("[[1]] == [[1.0]]", "true"),
        ("{'a': 1}['a']", "1"), ("{'a': 1}['b']", "error: no such key"), ("{'a': 1}.b", "error: no such key: 'b'"),
        ("{'a': 1}.a", "1"), ("'a' in {'a': 1}", "true"), ("'b' in {'a': 1}", "false"),
        ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", "true"), ("{'a': 1} == {'a': 2}", "false"), ("{'a': 1} == {'b': 1}", "false"),
        ("size({'a': 1, 'b': 2})", "2"), ("{'a': 1, 'a': 2}", "error: repeated key in map literal"),
        ("{1: 1, 1u: 2}", "error: repeated key in map literal"),
        ("[type, customer]", #"["purchase","c-1"]"#), ("{'k': type, 1: [true]}", #"{"k":"purchase","1":[true]}"#),
        ("has({'a': 1}.a)", "true"), ("has({'a': 1}.b)", "false"), ("[1, 1 / 0]", "error: division by zero"),
        ("{'a': {'b': [1, 2]}}.a.b[1]", "2"), ("[1, 2] == [1, 2, 3].filter(x, x < 3)", "true"),
        ("[1] + [type]", #"[1,"purchase"]"#), ("[] + []", "[]"),
    ])
    func collections(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("JSON event values map to CEL values: objects are maps, arrays are lists, numbers doubles", arguments: [
        ("event.props.tags", #"["new","sale"]"#), ("event.props.tags[1]", #""sale""#),
        ("event.props.tags[2]", "error: index out of range"), ("size(event.props.tags)", "2"),
        ("'sale' in event.props.tags", "true"), ("'old' in event.props.tags", "false"),
        ("event.props.dims", #"{"w":2.0,"h":3.0}"#), ("event.props.dims.w", "2.0"),
        ("event.props.items[1].price", "15.0"), ("event.props.items[0]['sku']", #""a""#),
        ("event.props.items[0].nope", "error: no such key: 'nope'"), ("'w' in event.props.dims", "true"),
        ("event.props.dims == {'w': 2, 'h': 3}", "true"), ("event.props.tags == ['new', 'sale']", "true"),
        ("event.nested[0][1]", "2.0"), ("event.nested", "[[1.0,2.0],[3.0]]"), ("size(event.empty)", "0"),
        ("event['type']", #""purchase""#), ("event[type]", "error: no such key"), ("size(event)", "6"),
        ("has(event.props.items[0].price)", "true"), ("has(event.props.items[0].qty)", "false"),
        ("event.props.esc", #""a\"b""#), ("event.props.items[0]", #"{"sku":"a","price":5.0}"#),
        ("event.props.tags[0].x", "error: type does not support field selection"),
        // Deviation: a static event path through a non-object is a missing key.
        ("event.props.qty.x", "error: no such key: 'props.qty.x'"),
        ("has(event.props.sku.x)", "error: value at 'props.sku' is not an object and does not support field selection"),
        ("type(event.props.none)", #""null_type""#), ("event.props.flag == true", "true"),
        ("{'note': 'café'} == {'note': event.props.note}", "true"), ("event.props.note in ['café']", "true"),
    ])
    func json(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("extra variables are JSON values", arguments: [
        ("limit > 1.0", "true"), ("cfg.tiers[0]", #""gold""#), ("type in cfg.types", "true"),
        ("size(cfg)", "3"), ("limit + 1", "compile: no matching overload for '+' applied to (dyn, int)"),
        ("limt > 1.0", "compile: undeclared reference to 'limt'"), ("cfg.name == 'café'", "true"),
        ("[1].all(limit, limit == 1)", "true"), ("has(cfg.tiers) && !has(cfg.nope)", "true"),
    ])
    func variables(_ source: String, _ expected: String) {
        let vars = ["limit": "5", "cfg": #"{"tiers": ["gold"], "types": ["purchase"], "name": "caf\u00e9"}"#]
        #expect(run(source, variables: vars) == expected, "\(source)")
    }

    @Test("bad extra-variable JSON is rejected with its index")
    func badVariables() {
        guard case .failure(let error) = ExprVariables.make(json: ["1", "{", "2"]) else {
            Issue.record("accepted invalid JSON")
            return
        }
        #expect(error.index == 1)
    }

    @Test("timestamps and durations: construction, arithmetic, comparison, accessors, range errors", arguments: [
        ("time", #""2024-03-01T11:32:05.25Z""#), ("now == time", "true"),
        ("time > timestamp('2024-01-01T00:00:00Z')", "true"), ("timestamp(0)", #""1970-01-01T00:00:00Z""#),
        ("int(timestamp(86400))", "86400"), ("timestamp(9223372037)", "error: timestamp out of range"),
        ("timestamp(event.ts) == time", "true"), ("timestamp(type)", "error: type conversion error from 'string' to 'google.protobuf.Timestamp'"),
        ("time - timestamp('2024-03-01T00:00:00Z')", #""41525.25s""#),
        ("(time - timestamp('2024-03-01T00:00:00Z')).getHours()", "11"),
        ("(time - timestamp('2024-03-01T00:00:00Z')).getMinutes()", "692"),
        ("(time - timestamp('2024-03-01T00:00:00Z')).getSeconds()", "41525"),
        // The milliseconds component, as cel-spec's conformance suite says (cel-go: 41525250).
        ("(time - timestamp('2024-03-01T00:00:00Z')).getMilliseconds()", "250"),
        ("(timestamp('2024-03-01T00:00:00Z') - time).getMilliseconds()", "-250"),
        ("timestamp('2024-03-01T00:00:00Z') + (time - timestamp('2024-03-01T00:00:00Z')) == time", "true"),
        ("time - (time - timestamp('2024-03-01T00:00:00Z'))", #""2024-03-01T00:00:00Z""#),
        ("duration(1500000000)", #""1.5s""#), ("string(duration(1500000000))", #""1.5s""#),
        ("int(duration(7))", "7"), ("duration(1000000000) < duration(2000000000)", "true"),
        ("duration(1) + duration(2) == duration(3)", "true"), ("-duration(1500000000)", #""-1.5s""#),
        ("-(time - time) == duration(0)", "true"), ("time + duration(3600000000000) > time", "true"),
        ("duration(-9223372036854775807) - duration(2)", "error: duration out of range"),
        ("string(time)", #""2024-03-01T11:32:05.25Z""#),
        ("timestamp('2262-04-11T00:00:00Z') + (timestamp('2262-04-11T00:00:00Z') - timestamp('1970-01-01T00:00:00Z'))",
         "error: timestamp out of range"),
        ("timestamp('1677-09-22T00:00:00Z') - timestamp('2262-04-10T00:00:00Z')", "error: duration out of range"),
        ("time.getFullYear()", "2024"), ("time.getMonth()", "2"), ("time.getDate()", "1"), ("time.getDayOfMonth()", "0"),
        ("time.getDayOfWeek()", "5"), ("time.getDayOfYear()", "60"), ("time.getHours()", "11"),
        ("time.getMinutes()", "32"), ("time.getSeconds()", "5"), ("time.getMilliseconds()", "250"),
        ("time.getHours('UTC')", "11"), ("time.getHours('+05:30')", "17"), ("time.getMinutes('+05:30')", "2"),
        ("time.getHours('-08:00')", "3"), ("time.getDate('-12:00')", "29"), ("time.getDayOfWeek('-12:00')", "4"),
        ("time.getMonth('-12:00')", "1"), ("time.getHours(type)", "error: unknown time zone"),
        ("time.getHours(customer.size() > 0 ? '+01:00' : 'UTC')", "12"),
        ("time + time", "compile: no matching overload for '+' applied to (google.protobuf.Timestamp, google.protobuf.Timestamp)"),
        ("duration(1).getDayOfWeek()", "compile: no matching overload for 'google.protobuf.Duration.getDayOfWeek' applied to ()"),
        ("timestamp('2262-04-12T00:00:00Z')", "compile: invalid timestamp '2262-04-12T00:00:00Z'"),
        ("duration(type)", "error: type conversion error from 'string' to 'google.protobuf.Duration'"),
    ])
    func time(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    // Duration strings depend on CELTime.parseDuration, which another branch implements;
    // until it lands these cases check only that the compiler reports the literal.
    @Test("duration strings parse as CEL durations", arguments: [
        ("duration('1h30m').getMinutes()", "90"), ("duration('-1.5s')", #""-1.5s""#),
        ("duration('300ms') + duration('0.7s') == duration('1s')", "true"),
        ("time - duration('11h32m') == timestamp('2024-03-01T00:00:05.250Z')", "true"),
    ])
    func durationStrings(_ source: String, _ expected: String) {
        if CELTime.parseDuration("1h") == nil {
            #expect(run(source).hasPrefix("compile: invalid duration"), "\(source)")
        } else {
            #expect(run(source) == expected, "\(source)")
        }
    }

    @Test("macros iterate lists and map keys, with CEL's error absorption", arguments: [
        ("[1, 2, 3].all(x, x > 0)", "true"), ("[1, 2, 3].all(x, x > 1)", "false"),
        ("[1, 2, 3].exists(x, x == 2)", "true"), ("[1, 2, 3].exists(x, x == 5)", "false"),
        ("[1, 2, 3].exists_one(x, x > 1)", "false"), ("[1, 2, 3].exists_one(x, x == 2)", "true"),
        ("[1, 2, 3].map(x, x * 2)", "[2,4,6]"), ("[1, 2, 3].map(x, x > 1, x * 10)", "[20,30]"),
        ("[1, 2, 3].filter(x, x % 2 == 1)", "[1,3]"), ("{'a': 1, 'b': 2}.all(k, k in ['a', 'b'])", "true"),
        ("{'a': 1}.map(k, k + '!')", #"["a!"]"#), ("[].all(x, x > 0)", "true"), ("[].exists(x, true)", "false"),
        ("[0, 1].exists(x, 1 / x > 0)", "true"), ("[1, 0].exists(x, 1 / x > 0)", "true"),
        ("[0, 1].all(x, 1 / x > 0)", "error: division by zero"),
        ("[0, 1].all(x, 1 / x < 0)", "false"), ("[1, 0].all(x, 1 / x < 0)", "false"),
        ("[0, 1].exists(x, 1 / x < 0)", "error: division by zero"),
        ("[0, 1].exists_one(x, 1 / x > 0)", "error: division by zero"),
        ("[0, 1].map(x, 1 / x)", "error: division by zero"), ("[0, 1].filter(x, 1 / x > 0)", "error: division by zero"),
        ("[1, 'a'].all(x, x)", "error: no such overload"),
        ("[[1, 2], [3]].map(l, l.map(x, x + 1))", "[[2,3],[4]]"), ("[1, 2].map(x, [x, x * 10])", "[[1,10],[2,20]]"),
        ("[1, 2].map(x, [1, 2].map(y, x * y))", "[[1,2],[2,4]]"),
        ("event.props.items.exists(i, i.price > 10.0)", "true"),
        ("event.props.items.filter(i, i.price > 10.0).map(i, i.sku)", #"["b"]"#),
        ("event.props.items.all(i, has(i.sku))", "true"), ("event.props.dims.exists(k, k == 'h')", "true"),
        ("event.props.items.map(i, i.price).exists(p, p == 15)", "true"),
        ("event.props.tags.map(t, t + '!')", #"["new!","sale!"]"#),
        ("event.props.items.map(i, i.sku + '-' + type)", #"["a-purchase","b-purchase"]"#),
        ("[1].all(type, type == 1)", "true"), ("event.props.missing.all(x, true)", "error: no such key: 'props.missing'"),
        ("event.props.sku.all(x, true)", "error: no such overload"),
        ("1.all(x, true)", "compile: no matching overload for 'all' applied to (int)"),
        ("[1].all(x, y)", "compile: undeclared reference to 'y'"),
    ])
    func macros(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("matches uses RE2-style partial matching by code point", arguments: [
        ("'abc'.matches('^a.c$')", "true"), ("matches('abc', 'b')", "true"), ("'abc'.matches('^b')", "false"),
        ("event.props.sku.matches('^[A-Z]-[0-9]+$')", "true"), ("'é'.matches('^.$')", "true"),
        ("'😀'.matches('^.$')", "true"), ("event.props.note.matches('é$')", "true"),
        ("'abc'.matches(type)", "false"), ("'purchase'.matches(type)", "true"),
        ("'abc'.matches(type + '[')", "error: invalid regular expression"),
        ("'a\\nb'.matches('a.b')", "false"), ("'a\\n'.matches('a$')", "false"), ("'ab'.matches('a|b|')", "true"),
        ("'é'.matches('\\\\pL')", "true"), ("'ab'.matches('(?P<x>a)b')", "true"), ("'a.b'.matches('\\\\Qa.b\\\\E')", "true"),
        ("'aa'.matches('(a)\\\\1')", "compile: invalid regular expression '(a)\\1'"), ("'ab'.matches('a(?=b)')", "compile: invalid regular expression 'a(?=b)'"), ("'Σ'.matches('\\\\p{Greek}')", "true"),
        ("'x'.matches('[[:alpha:]]')", "true"), ("'('.matches('[(?=]')", "true"), ("'aB'.matches('a(?i:b)')", "true"), ("'a\\nb'.matches('(?s)a.b')", "true"),
        ("'ab12'.matches('\\\\d+')", "true"), ("'AB'.matches('(?i)ab')", "true"),
        ("1.matches('a')", "compile: no matching overload for 'int.matches' applied to (string)"),
    ])
    func matches(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    // Cases from cel-spec's conformance suite (tests/simple/testdata), rewritten as
    // expression → JSON text; the file and case name are in the comment of each group.
    @Test("cel-spec conformance samples", arguments: [
        // conversions.textproto
        ("bytes('ÿ')", #""w78=""#), ("bytes('\\377') == b'\\377'", "false"), ("double(9223372036854775807)", "9.223372036854776e+18"),
        ("double('-0.0')", "-0.0"), ("double('-84.32e7')", "-843200000.0"), ("type(dyn([1, 'one']))", #""list""#),
        ("int(18446744073709551615u)", "error: integer overflow"), ("int(-123.456)", "-123"), ("int(-3.5)", "-3"),
        ("int(1e99)", "error: integer overflow"), ("int(timestamp('2004-09-16T23:59:59Z'))", "1095379199"),
        ("string(-4.5e-3)", #""-0.0045""#), ("string(b'\\303\\277')", #""ÿ""#),
        ("string(b'\\000\\xff')", "error: type conversion error from 'bytes' to 'string'"),
        ("type(true) == type(false)", "true"), ("type([1, 2, 3]) == type(['one', 'two', 'three'])", "true"),
        ("type({'one': 1}) == type({1: 'one'})", "true"), ("type(7) == type(7u)", "false"),
        ("type(0.0) != type(-0.0)", "false"), ("type(type(7)) == type(type(7u))", "true"), ("type(int)", #""type""#),
        ("uint(1e19)", "10000000000000000000"), ("uint(6.022e23)", "error: unsigned integer overflow"),
        // timestamps.textproto
        ("int(timestamp('2009-02-13T23:31:30Z'))", "1234567890"),
        ("string(timestamp('2009-02-13T23:31:30Z'))", #""2009-02-13T23:31:30Z""#),
        ("timestamp('2009-02-13T23:31:30Z').getDate()", "13"), ("timestamp('2009-02-13T23:31:30Z').getDayOfMonth()", "12"),
        ("timestamp('2009-02-13T23:31:30Z').getDayOfWeek()", "5"), ("timestamp('2009-02-13T23:31:30Z').getDayOfYear()", "43"),
        ("timestamp('2009-02-13T23:31:30Z').getFullYear()", "2009"), ("timestamp('2009-02-13T23:31:30Z').getHours()", "23"),
        ("timestamp('2009-02-13T23:31:20.123456789Z').getMilliseconds()", "123"),
        ("timestamp('2009-02-13T23:31:30Z').getMonth()", "1"), ("timestamp('2009-02-13T23:31:30Z').getSeconds()", "30"),
        ("timestamp('2009-02-13T23:31:30Z').getDayOfMonth('+11:00')", "13"),
        ("timestamp('2009-02-13T02:00:00Z').getDayOfMonth('-02:30')", "11"),
        ("timestamp('2009-02-13T23:31:30Z').getFullYear('-09:30')", "2009"),
        ("timestamp('2009-02-13T23:31:30Z').getSeconds('-00:00')", "30"),
        ("timestamp('1945-05-07T02:41:00Z') != timestamp('1945-05-07T02:41:00Z')", "false"),
        ("timestamp('2009-02-13T23:00:00Z') <= timestamp('2009-02-13T22:59:59Z')", "false"),
        // string.textproto
        ("size('πέντε')", "5"), ("''.startsWith('foo')", "false"), ("''.startsWith('')", "true"),
        ("'завтра'.startsWith('за')", "true"), ("'forté'.endsWith('té')", "true"), ("''.endsWith('')", "true"),
        ("'hubba'.matches('ubb')", "true"), ("''.matches('foo|bar')", "false"), ("'cows'.matches('')", "true"),
        ("''.matches('')", "true"), ("'banana'.matches('ba(na)*')", "true"), ("'mañana'.matches('a+ñ+a+')", "true"),
        ("'' + ''", #""""#), ("'¢' + 'ÿ' + 'Ȁ'", #""¢ÿȀ""#), ("'abababc'.contains('ababc')", "true"),
        ("'Straße'.contains('aß')", "true"), ("'hello'.contains('ol')", "false"),
        // macros.textproto, logic.textproto, lists.textproto
        ("[1, 2, 3].exists(e, e / 0 == 17)", "error: division by zero"), ("{'key':1, 1:21}.exists(k, k != 2)", "true"),
        ("!{'key1':1, 'key2':2}.exists(k, k == 'key3')", "true"), ("[1, 'foo', 3].all(e, e == 1)", "false"),
        ("[1, 'foo', 3].all(e, e % 2 == 1)", "error: no such overload"), ("[1, 2, 3].all(e, 6 / (2 - e) == 6)", "false"),
        ("[1, 2, 3].all(e, e / 0 != 17)", "error: division by zero"), ("[6, 7, 8].exists_one(foo, foo % 5 == 2)", "true"),
        ("[0, 1, 2, 3, 4].exists_one(n, n % 2 == 1)", "false"), ("[3, 2, 1, 0].exists_one(n, 12 / n > 1)", "error: division by zero"),
        ("{6: 'six', 7: 'seven', 8: 'eight'}.exists_one(foo, foo % 5 == 2)", "true"), ("[2, 4, 6].map(n, n / 2)", "[1,2,3]"),
        ("[2, 1, 0].map(n, 4 / n)", "error: division by zero"), ("{1: 1, 2: 4, 3: 9}.map(x, x * x)", "[1,4,9]"),
        ("[3, 2, 1, 0].filter(n, 12 / n > 4)", "error: division by zero"),
        ("{0: 10, 1: 11, 2: 12, 3: 13, 4: 14}.filter(x, x % 2 == 1)", "[1,3]"),
        // Under CEL's heterogeneous equality (2023) 1 == '10' is false, not an error.
        ("[1, 'foo', 3].exists(e, e == '10')", "false"),
        ("[1, 'foo', 3].exists(e, e != '1')", "true"), ("[1, 2, 3].exists_one(e, e / 0 == 0)", "error: division by zero"),
        ("['hal', 'jarvis'].map(n, n + '!')", #"["hal!","jarvis!"]"#), ("[].filter(n, n > 0)", "[]"),
        ("{'key1': 1, 'key2': 2}.filter(k, k == 'key1')", #"["key1"]"#),
        ("false && 1 / 0 == 0", "false"), ("1 / 0 == 0 || true", "true"), ("[1, 2, 3] == [1, 2, 3]", "true"),
        ("[[], [1]] == [[], [1]]", "true"), ("7 in [1, 2, 3]", "false"), ("[1, 2][2]", "error: index out of range"),
        ("{'a': 1, 'b': 2} == {'b': 2, 'a': 1}", "true"), ("{1: 'a'} == {1u: 'a'}", "true"),
    ])
    func conformance(_ source: String, _ expected: String) {
        #expect(run(source) == expected, "\(source)")
    }

    @Test("cel-spec conformance samples that need duration strings", arguments: [
        ("string(duration('1000000s'))", #""1000000s""#), ("duration('10000s').getHours()", "2"),
        ("duration('3730s').getMinutes()", "62"), ("duration('3730s').getSeconds()", "3730"),
        ("timestamp('2009-02-13T23:00:00Z') + duration('240s') == timestamp('2009-02-13T23:04:00Z')", "true"),
        ("duration('120s') + timestamp('2009-02-13T23:01:00Z') == timestamp('2009-02-13T23:03:00Z')", "true"),
        ("timestamp('2009-02-13T23:31:00Z') - timestamp('2009-02-13T23:29:00Z') == duration('120s')", "true"),
        ("duration('900s') - duration('42s') == duration('858s')", "true"),
        ("duration('200s') >= duration('200s')", "true"), ("duration('86400s') != duration('86164s')", "true"),
    ])
    func conformanceDurations(_ source: String, _ expected: String) {
        if CELTime.parseDuration("1s") == nil {
            #expect(run(source).hasPrefix("compile: invalid duration"), "\(source)")
        } else {
            #expect(run(source) == expected, "\(source)")
        }
    }

    @Test("isConstant is true exactly when the expression reads no variable", arguments: [
        ("1 + 2 == 3", true), ("[1, 2].all(x, x > 0)", true), ("timestamp('2024-01-01T00:00:00Z') > timestamp(0)", true),
        ("type == 'x'", false), ("now > timestamp(0)", false), ("event.a == 1.0", false), ("has(event.a)", false),
        ("size(event) > 0", false), ("customer.size() > 0", false),
    ])
    func constant(_ source: String, _ expected: Bool) throws {
        var env = ExprEnvironment(fields: FieldPaths(), typeField: 0, customerField: 0)
        env.fields.intern(["type"])
        let program = try ExprCompiler.compile(source, in: &env).get()
        #expect(program.isConstant == expected, "\(source)")
    }

    @Test("values stay small and trivially copyable")
    func layout() {
        #expect(MemoryLayout<Value>.size <= 16)
        #expect(_isPOD(Value.self))
        #expect(_isPOD(ProgramInstruction.self))
    }

    @Test("common conditions do not touch the scratch arena", arguments: [
        "type == 'purchase' && event.props.price > 10.0", "event.props.qty in [1.0, 2.0, 3.0]",
        "has(event.props.sku) && !has(event.props.coupon)", "event.props.price * 2.0 - 1.0 > 30.0",
        "event.props.note == 'café' && event.props.note.startsWith('ca')", "size(event.props.tags) == 2",
        "'sale' in event.props.tags", "event.props.items.exists(i, i.price > 10.0 && i.sku == 'b')",
        "event.props.dims.w < event.props.dims.h", "time.getHours('+05:30') > 12 && now - time == duration(0)",
        "[1, 2, 3].all(x, x > 0) && 2 in [1, 2]", "event.props.items[1].sku.matches('^[a-z]$')",
    ])
    func untouchedScratch(_ source: String) throws {
        var fields = FieldPaths()
        let type = fields.intern(["type"])
        var env = ExprEnvironment(fields: fields, typeField: type, customerField: type)
        let program = try ExprCompiler.compile(source, in: &env).get()
        var table = [ScannedValue](repeating: .absent, count: env.fields.count)
        let line = Array(Sample.line.utf8)
        let scratch = EvalScratch()
        let matched = line.withUnsafeBytes { raw in
            table.withUnsafeMutableBufferPointer { values in
                _ = JSONScanner(paths: env.fields).scan(raw, into: values.baseAddress!)
                let activation = Activation(line: raw, fields: UnsafePointer(values.baseAddress!), eventTime: Sample.time)
                return program.matches(activation, scratch: scratch)
            }
        }
        #expect(matched, "\(source)")
        #expect(scratch.values.isEmpty && scratch.bytes.isEmpty && scratch.stack.isEmpty, "\(source)")
    }

    @Test("a reused scratch stops growing after the first evaluation")
    func scratchReuse() throws {
        var fields = FieldPaths()
        let type = fields.intern(["type"])
        var env = ExprEnvironment(fields: fields, typeField: type, customerField: type)
        let program = try ExprCompiler.compile(
            "event.props.items.map(i, i.sku + type).exists(s, s == 'bpurchase') && [type].size() == 1", in: &env).get()
        var table = [ScannedValue](repeating: .absent, count: env.fields.count)
        let line = Array(Sample.line.utf8)
        let scratch = EvalScratch()
        let capacities = line.withUnsafeBytes { raw in
            table.withUnsafeMutableBufferPointer { values in
                _ = JSONScanner(paths: env.fields).scan(raw, into: values.baseAddress!)
                let activation = Activation(line: raw, fields: UnsafePointer(values.baseAddress!))
                #expect(program.matches(activation, scratch: scratch))
                let first = (scratch.values.capacity, scratch.bytes.capacity)
                for _ in 0..<1000 { #expect(program.matches(activation, scratch: scratch)) }
                return (first, (scratch.values.capacity, scratch.bytes.capacity))
            }
        }
        #expect(capacities.0 == capacities.1)
    }
}
