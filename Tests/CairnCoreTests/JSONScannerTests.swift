import Testing

@testable import CairnCore

/// Scans `line` extracting `paths` (dotted, "" for the whole value); returns the outcome and
/// each path's value rendered as `kind[start..<end]` plus `+esc`/`+int` flags, or `-`.
private func scan(_ line: String, _ paths: [String] = [], maxDepth: Int = 128) -> (ScanOutcome, [String]) {
    var fieldPaths = FieldPaths()
    for path in paths {
        fieldPaths.intern(path.isEmpty ? [] : path.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
    }
    return scanBytes(Array(line.utf8), fieldPaths, maxDepth: maxDepth)
}

private func scanBytes(_ bytes: [UInt8], _ paths: FieldPaths, maxDepth: Int = 128) -> (ScanOutcome, [String]) {
    let scanner = JSONScanner(paths: paths, limits: JSONLimits(maxDepth: maxDepth))
    // Garbage in the table first: scan must reset every entry.
    var values = [ScannedValue](repeating: ScannedValue(kind: .null, flags: 3, start: 7, end: 9), count: paths.count)
    let outcome = bytes.withUnsafeBytes { line in
        values.withUnsafeMutableBufferPointer { scanner.scan(line, into: $0.baseAddress!) }
    }
    return (outcome, values.map(render))
}

private func render(_ value: ScannedValue) -> String {
    guard value.isPresent else { return "-" }
    var text = "\(value.kind)[\(value.start)..<\(value.end)]"
    if value.hasEscapes { text += "+esc" }
    if value.isInteger { text += "+int" }
    return text
}

private func error(_ line: String, maxDepth: Int = 128) -> ScanError? {
    if case .invalid(let error) = scan(line, maxDepth: maxDepth).0 { return error }
    return nil
}

struct JSONScannerTests {
    @Test("extracts values of every kind with exact spans and flags")
    func everyKind() {
        let line = #"{"s":"abc","e":"a\nb","i":-12,"f":1.5e3,"t":true,"n":null,"x":false,"o":{"k":1},"a":[1,2]}"#
        let (outcome, values) = scan(line, ["s", "e", "i", "f", "t", "n", "x", "o", "a"])
        #expect(outcome == .event)
        #expect(values == [
            "string[6..<9]", "string[16..<20]+esc", "number[26..<29]+int", "number[34..<39]",
            "true[44..<48]", "null[53..<57]", "false[62..<67]", "object[72..<79]", "array[84..<89]",
        ])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let line: String
        let paths: [String]
        let expected: [String]
        let note: String
        var testDescription: String { note }
    }

    static let extractionCases: [Case] = [
        Case(line: #"{"a":{"b":{"c":7}}}"#, paths: ["a.b.c", "a.b", "a"],
             expected: ["number[15..<16]+int", "object[10..<17]", "object[5..<18]"],
             note: "nested paths and their prefixes are all recorded"),
        Case(line: #"{"a":1,"a":2}"#, paths: ["a"], expected: ["number[11..<12]+int"],
             note: "duplicate keys: the last one wins"),
        Case(line: #"{"p":{"x":1},"p":{"y":2}}"#, paths: ["p.x", "p.y", "p"],
             expected: ["-", "number[22..<23]+int", "object[17..<24]"],
             note: "a repeated key replaces what the earlier value left below it"),
        Case(line: #"{"p":{"x":1},"p":5}"#, paths: ["p.x", "p"], expected: ["-", "number[17..<18]+int"],
             note: "a repeated key with a scalar value leaves nothing below it"),
        Case(line: #"{"pr\u0069ce":3}"#, paths: ["price"], expected: ["number[14..<15]+int"],
             note: "an escaped key is compared decoded"),
        Case(line: #"{"a\"b":1,"a\\b":2}"#, paths: ["a\"b", "a\\b"],
             expected: ["number[8..<9]+int", "number[17..<18]+int"],
             note: "keys with escaped quote and backslash"),
        Case(line: #"{"é":"ü"}"#, paths: ["é"], expected: ["string[7..<9]"],
             note: "non-ASCII keys compare as UTF-8 bytes"),
        Case(line: #"{"a":1}"#, paths: ["b", "a.b", ""], expected: ["-", "-", "object[0..<7]"],
             note: "absent paths stay absent; the empty path is the whole event"),
        Case(line: #"{"a":[{"b":1}],"c":"x"}"#, paths: ["a.b", "c"], expected: ["-", "string[20..<21]"],
             note: "paths do not descend into arrays"),
        Case(line: #"{"a":"str","b":5}"#, paths: ["a.b", "b.c"], expected: ["-", "-"],
             note: "a path through a scalar is absent"),
        Case(line: #"{"x":{"a":1},"a":2}"#, paths: ["a"], expected: ["number[17..<18]+int"],
             note: "a key matches only at its own level"),
        Case(line: #"{"ab":1,"a":2,"abc":3}"#, paths: ["a"], expected: ["number[12..<13]+int"],
             note: "keys sharing a prefix do not match"),
        Case(line: " \t\r\n{ \"a\" : [ ] , \"b\" : { } }\n ", paths: ["a", "b"],
             expected: ["array[12..<15]", "object[24..<27]"],
             note: "whitespace everywhere; empty containers"),
        Case(line: #"{"a":{}}"#, paths: ["a.b", "a"], expected: ["-", "object[5..<7]"],
             note: "an empty object on a tracked path"),
        Case(line: #"{"a":[[{"a":1}]],"b":0}"#, paths: ["a", "b"], expected: ["array[5..<16]", "number[21..<22]+int"],
             note: "nested untracked containers close back to the tracked level"),
        Case(line: #"{"":1}"#, paths: [], expected: [], note: "no paths: validation only"),
        Case(line: #"{"s":"",  "t":"\"\\"}"#, paths: ["s", "t"], expected: ["string[6..<6]", "string[15..<19]+esc"],
             note: "empty strings and strings of escapes"),
        Case(line: #"{"a":-0,"b":0.0,"c":1E+2,"d":-1e-2}"#, paths: ["a", "b", "c", "d"],
             expected: ["number[5..<7]+int", "number[12..<15]", "number[20..<24]", "number[29..<34]"],
             note: "number spans and the integer flag"),
    ]

    @Test("extracts paths", arguments: extractionCases)
    func extraction(_ testCase: Case) {
        let (outcome, values) = scan(testCase.line, testCase.paths)
        #expect(outcome == .event)
        #expect(values == testCase.expected)
    }

    @Test("a path segment containing a dot is matched as one key")
    func dottedSegment() {
        var paths = FieldPaths()
        paths.intern(["a.b"])
        let (outcome, values) = scanBytes(Array(#"{"a":{"b":1},"a.b":2}"#.utf8), paths)
        #expect(outcome == .event)
        #expect(values == ["number[19..<20]+int"])
    }

    @Test("valid values that are not objects report their kind")
    func notObject() {
        let cases: [(String, JSONKind)] = [
            ("[1]", .array), (#""s""#, .string), ("1", .number), ("-1.5", .number),
            ("true", .true), ("false", .false), (" null ", .null),
        ]
        for (line, kind) in cases {
            #expect(scan(line, ["a"]).0 == .notObject(kind), "\(line)")
        }
        #expect(scan("[1]", [""]).1 == ["array[0..<3]"])
    }

    @Test("every scan resets the table, including after an invalid line")
    func resets() {
        var paths = FieldPaths()
        paths.intern(["a"])
        let scanner = JSONScanner(paths: paths)
        var values = [ScannedValue.absent]
        let first = Array(#"{"a":1}"#.utf8)
        let second = Array(#"{"b":1}"#.utf8)
        values.withUnsafeMutableBufferPointer { table in
            #expect(first.withUnsafeBytes { scanner.scan($0, into: table.baseAddress!) } == .event)
            #expect(table[0].kind == .number)
            #expect(second.withUnsafeBytes { scanner.scan($0, into: table.baseAddress!) } == .event)
            #expect(table[0] == .absent)
        }
    }

    @Test("every error code is reported at the right offset")
    func errorCodes() {
        let cases: [(String, ScanError.Code, Int)] = [
            ("", .emptyLine, 0),
            ("  \t ", .emptyLine, 0),
            (#"{"a":"#, .unexpectedEnd, 5),
            ("[1,", .unexpectedEnd, 3),
            ("{", .unexpectedEnd, 1),
            (#"{"a""#, .unexpectedEnd, 4),
            (#"{"a":}"#, .unexpectedByte, 5),
            ("[1,]", .unexpectedByte, 3),
            ("[tru]", .invalidLiteral, 1),
            ("[nul", .invalidLiteral, 1),
            ("[fals]", .invalidLiteral, 1),
            ("[01]", .invalidNumber, 2),
            ("[-]", .invalidNumber, 2),
            ("[1.]", .invalidNumber, 3),
            ("[1e]", .invalidNumber, 3),
            ("[1e+]", .invalidNumber, 4),
            ("[-a]", .invalidNumber, 2),
            ("[.5]", .unexpectedByte, 1),
            ("[+1]", .unexpectedByte, 1),
            (#"{"a":"abc"#, .unterminatedString, 5),
            (#"{"abc"#, .unterminatedString, 1),
            (#"["ab\"#, .unterminatedString, 1),
            (#"["a\x"]"#, .invalidEscape, 3),
            (#"["a\u12G4"]"#, .invalidUnicodeEscape, 3),
            (#"["\u12"]"#, .invalidUnicodeEscape, 2),
            (#"["\uD800"]"#, .loneSurrogate, 2),
            (#"["\uDC00\uD800"]"#, .loneSurrogate, 2),
            (#"["\uD800\n"]"#, .loneSurrogate, 2),
            (#"["\uD800\u0041"]"#, .loneSurrogate, 2),
            (#"["x\uD800\uZZZZ"]"#, .invalidUnicodeEscape, 9),
            ("[\"a\tb\"]", .controlCharacterInString, 3),
            ("[\"0123456789\u{1F}\"]", .controlCharacterInString, 12),
            ("[" + String(repeating: "[", count: 128) + "]", .tooDeep, 128),
            ("{} x", .trailingData, 3),
            ("1 2", .trailingData, 2),
            (#"{"a" 1}"#, .expectedColon, 5),
            (#"{"a":1 "b":2}"#, .expectedCommaOrBrace, 7),
            ("[1 2]", .expectedCommaOrBracket, 3),
            ("{1:2}", .expectedKey, 1),
            (#"{"a":1,}"#, .expectedKey, 7),
        ]
        for (line, code, offset) in cases {
            #expect(error(line) == ScanError(code: code, offset: offset), "\(line)")
        }
    }

    @Test("invalid UTF-8 is rejected at the lead byte; valid boundaries pass")
    func utf8() {
        func outcome(_ bytes: [UInt8]) -> ScanOutcome {
            scanBytes([0x22] + bytes + [0x22], FieldPaths()).0
        }
        let valid: [[UInt8]] = [
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
            [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
            Array("long enough to use the word loop: é ü 漢字 😀 done".utf8),
        ]
        for bytes in valid { #expect(outcome(bytes) == .notObject(.string), "\(bytes)") }
        let invalid: [[UInt8]] = [
            [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC2], [0xC2, 0x41], [0xE0, 0x80, 0x80],
            [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE1, 0x80], [0xF0, 0x80, 0x80, 0x80],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],
            [0xF0, 0x90, 0x80], [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xE2, 0x82],
        ]
        for bytes in invalid {
            let lead = bytes.firstIndex { $0 >= 0x80 }!
            #expect(outcome(bytes) == .invalid(ScanError(code: .invalidUTF8, offset: 1 + lead)), "\(bytes)")
        }
        // Outside strings a non-ASCII byte cannot start a value.
        #expect(scanBytes([0x5B, 0xC3, 0xA9, 0x5D], FieldPaths()).0 == .invalid(ScanError(code: .unexpectedByte, offset: 1)))
    }

    @Test("the depth limit counts objects and arrays together")
    func depth() {
        let deep = String(repeating: "[", count: 64) + String(repeating: "{\"a\":", count: 64) + "1"
            + String(repeating: "}", count: 64) + String(repeating: "]", count: 64)
        #expect(scan(deep).0 == .notObject(.array))
        #expect(error(deep, maxDepth: 127)?.code == .tooDeep)
        #expect(scan("[[1]]", maxDepth: 2).0 == .notObject(.array))
        #expect(error("[[1]]", maxDepth: 1) == ScanError(code: .tooDeep, offset: 1))
        #expect(scan("1", maxDepth: 0).0 == .notObject(.number))
        #expect(error("[]", maxDepth: 0) == ScanError(code: .tooDeep, offset: 0))
        // A deep line far past the limit fails cleanly instead of overflowing anything.
        #expect(error(String(repeating: "[", count: 100_000))?.code == .tooDeep)
    }

    @Test("literals must be exact")
    func literals() {
        #expect(scan("[true,false,null]").0 == .notObject(.array))
        for line in ["[True]", "[nulll]", "[t]", "[fa]", "tru", "nan", "[NaN]", "[Infinity]"] {
            #expect(error(line) != nil, "\(line)")
        }
        #expect(error("[nulll]")?.code == .expectedCommaOrBracket)
    }

    @Test("numbers follow the RFC 8259 grammar")
    func numbers() {
        for good in ["0", "-0", "1", "-1", "10", "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "123456789012345678901234567890"] {
            #expect(scan(good).0 == .notObject(.number), "\(good)")
        }
        for bad in ["01", "-01", "00", "1.", ".5", "+1", "1e", "1e+", "-", "1.e5", "0x10", "1_000", "- 1", "1.5.5"] {
            #expect(error(bad) != nil, "\(bad)")
        }
    }

    @Test("escapes are validated and flagged")
    func escapes() {
        let (outcome, values) = scan(#"{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}"#, ["a"])
        #expect(outcome == .event)
        #expect(values == ["string[6..<40]+esc"])
    }

    @Test("strings of every length around the word size scan correctly")
    func stringLengths() {
        for length in 0..<40 {
            let text = String(repeating: "x", count: length)
            #expect(scan(#"{"k":"\#(text)"}"#, ["k"]).1 == ["string[6..<\(6 + length)]"])
            #expect(error(#"{"k":"\#(text)"#) == ScanError(code: .unterminatedString, offset: 5))
            #expect(error("{\"k\":\"\(text)\u{1}\"}") == ScanError(code: .controlCharacterInString, offset: 6 + length))
        }
    }

    @Test("the line is read exactly within its bounds")
    func bounds() {
        // A valid line followed by garbage in the same allocation: only the slice is read.
        let bytes = Array(#"{"a":"xy"}GARBAGE"#.utf8)
        var paths = FieldPaths()
        paths.intern(["a"])
        let scanner = JSONScanner(paths: paths)
        var values = [ScannedValue.absent]
        let outcome = bytes.withUnsafeBytes { all in
            values.withUnsafeMutableBufferPointer {
                scanner.scan(UnsafeRawBufferPointer(rebasing: all[0..<10]), into: $0.baseAddress!)
            }
        }
        #expect(outcome == .event)
        #expect(values[0] == ScannedValue(kind: .string, start: 6, end: 8))
        let cut = bytes.withUnsafeBytes { all in
            values.withUnsafeMutableBufferPointer {
                scanner.scan(UnsafeRawBufferPointer(rebasing: all[0..<7]), into: $0.baseAddress!)
            }
        }
        #expect(cut == .invalid(ScanError(code: .unterminatedString, offset: 5)))
    }

    @Test("error messages are lowercase without a final period")
    func messages() {
        for code in ScanError.Code.allCases {
            let message = ScanError(code: code, offset: 0).message
            #expect(!message.isEmpty && !message.hasSuffix("."))
            #expect(message.first!.isLowercase)
        }
        #expect(ScanError(code: .expectedCommaOrBrace, offset: 0).message == "expected ',' or '}' after member")
    }

    @Test("a realistic event extracts its fields")
    func realisticEvent() {
        let line = #"{"event":"add_to_cart","ts":"2024-03-01T11:32:00.123Z","user_id":"c-104213","props":{"sku":"SKU-1234","price":19.99,"qty":2},"geo":{"country":"DE"}}"#
        let (outcome, values) = scan(line, ["event", "ts", "user_id", "props.price", "geo.country"])
        #expect(outcome == .event)
        let bytes = Array(line.utf8)
        func text(_ rendered: String) -> String {
            let inner = rendered.split(separator: "[")[1].split(separator: "]")[0]
            let bounds = inner.components(separatedBy: "..<").map { Int($0)! }
            return String(decoding: bytes[bounds[0]..<bounds[1]], as: UTF8.self)
        }
        #expect(values.map(text) == ["add_to_cart", "2024-03-01T11:32:00.123Z", "c-104213", "19.99", "DE"])
    }
}
