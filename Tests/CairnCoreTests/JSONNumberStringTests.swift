import Testing

@testable import CairnCore

private func double(_ text: String) -> Double {
    Array(text.utf8).withUnsafeBytes { JSONNumber.parseDouble($0) }
}

private func int64(_ text: String) -> Int64? {
    Array(text.utf8).withUnsafeBytes { JSONNumber.parseInt64($0) }
}

/// Unescapes JSON string contents given as source text (between the quotes).
private func unescape(_ span: String, capacity: Int? = nil) -> [UInt8]? {
    let bytes = Array(span.utf8)
    var out = [UInt8](repeating: 0, count: capacity ?? bytes.count)
    let count = bytes.withUnsafeBytes { source in
        out.withUnsafeMutableBytes { JSONString.unescape(source, into: $0) }
    }
    return count.map { Array(out[0..<$0]) }
}

private func escape(_ bytes: [UInt8], capacity: Int? = nil) -> String? {
    var out = [UInt8](repeating: 0, count: capacity ?? bytes.count * 6)
    let count = bytes.withUnsafeBytes { source in
        out.withUnsafeMutableBytes { JSONString.escape(source, into: $0) }
    }
    return count.map { String(decoding: out[0..<$0], as: UTF8.self) }
}

private func equals(_ span: String, _ other: String) -> Bool {
    let a = Array(span.utf8), b = Array(other.utf8)
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in JSONString.decodedEquals(x, hasEscapes: a.contains(0x5C), y) }
    }
}

private func compare(_ span: String, _ other: String) -> Int {
    let a = Array(span.utf8), b = Array(other.utf8)
    return a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in JSONString.decodedCompare(x, hasEscapes: a.contains(0x5C), y) }
    }
}

struct JSONNumberStringTests {
    @Test("doubles are correctly rounded on the fast path and the strtod path")
    func doubles() {
        let cases: [(String, Double)] = [
            ("0", 0), ("1", 1), ("-1", -1), ("0.1", 0.1), ("19.99", 19.99), ("-0.5", -0.5),
            ("1e308", 1e308), ("1.7976931348623157e308", .greatestFiniteMagnitude),
            ("5e-324", .leastNonzeroMagnitude), ("2.2250738585072014e-308", .leastNormalMagnitude),
            ("9007199254740993", 9_007_199_254_740_992),  // 2^53 + 1 rounds to even
            ("9007199254740995", 9_007_199_254_740_996),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("0.30000000000000004", 0.30000000000000004), ("1E22", 1e22), ("1e23", 1e23),
            ("3.14159265358979323846264338327950288", 3.141592653589793),
            ("1e-7", 1e-7), ("123.456e-2", 1.23456), ("4.9406564584124654e-324", .leastNonzeroMagnitude),
            ("2.4703282292062328e-324", .leastNonzeroMagnitude), ("2.4703282292062327e-324", 0),
        ]
        for (text, value) in cases {
            #expect(double(text) == value, "\(text)")
        }
        #expect(double("-0").sign == .minus && double("-0") == 0)
        #expect(double("-0.0e5").sign == .minus)
        #expect(double("1e400") == .infinity)
        #expect(double("-1e400") == -.infinity)
        #expect(double("1e-400") == 0)
        // Agrees with the standard library on a sweep of short decimals.
        for mantissa in stride(from: 1, to: 100_000, by: 997) {
            for exponent in [-30, -22, -7, -1, 0, 3, 15, 22, 23, 40] {
                let text = "\(mantissa)e\(exponent)"
                #expect(double(text) == Double(text)!, "\(text)")
            }
        }
    }

    @Test("Int64 parsing accepts integer text within bounds only")
    func integers() {
        #expect(int64("0") == 0)
        #expect(int64("-0") == 0)
        #expect(int64("42") == 42)
        #expect(int64("-42") == -42)
        #expect(int64("9223372036854775807") == .max)
        #expect(int64("-9223372036854775808") == .min)
        #expect(int64("9223372036854775808") == nil)
        #expect(int64("-9223372036854775809") == nil)
        #expect(int64("99999999999999999999") == nil)
        #expect(int64("1.0") == nil)
        #expect(int64("1e2") == nil)
        #expect(int64("-") == nil)
        #expect(int64("") == nil)
    }

    @Test("unescape decodes every escape and joins surrogate pairs into 4-byte UTF-8")
    func unescapes() {
        #expect(unescape("plain") == Array("plain".utf8))
        #expect(unescape(#"a\"b\\c\/d\be\ff\ng\rh\ti"#) == Array("a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti".utf8))
        #expect(unescape(#"\u0041\u00e9\u20AC"#) == Array("Aé€".utf8))
        #expect(unescape(#"\uD83D\uDE00"#) == [0xF0, 0x9F, 0x98, 0x80])
        #expect(unescape(#"x\uDBFF\uDFFFy"#) == [0x78, 0xF4, 0x8F, 0xBF, 0xBF, 0x79])
        #expect(unescape(#"\u0000"#) == [0])
        #expect(unescape("") == [])
        #expect(unescape("héllo wörld") == Array("héllo wörld".utf8))
        // Too small: nil, never a partial write past the end.
        #expect(unescape(#"abc\n"#, capacity: 3) == nil)
        #expect(unescape(#"\uD83D\uDE00"#, capacity: 3) == nil)
        #expect(unescape(#"\uD83D\uDE00"#, capacity: 4) == [0xF0, 0x9F, 0x98, 0x80])
        // Unvalidated lone surrogates do not crash; they become U+FFFD.
        #expect(unescape(#"\uD800"#) == [0xEF, 0xBF, 0xBD])
    }

    @Test("escape writes short escapes, \\u00XX for other controls, and copies UTF-8")
    func escapes() {
        #expect(escape(Array("plain".utf8)) == "plain")
        #expect(escape(Array("a\"b\\c/".utf8)) == #"a\"b\\c/"#)
        #expect(escape([0x0A, 0x0D, 0x09, 0x08, 0x0C]) == #"\n\r\t\b\f"#)
        #expect(escape([0x00, 0x01, 0x1F, 0x7F]) == "\\u0000\\u0001\\u001f\u{7F}")
        #expect(escape(Array("é😀".utf8)) == "é😀")
        #expect(escape([]) == "")
        #expect(escape([0x0A], capacity: 1) == nil)
        #expect(escape([0x01], capacity: 5) == nil)
        #expect(escape([0x41, 0x42], capacity: 1) == nil)
        // Round trip: unescape(escape(x)) == x for every byte below 0x80.
        let all = (0..<128).map { UInt8($0) }
        let escaped = escape(all)!
        #expect(unescape(escaped) == all)
    }

    @Test("decodedEquals compares decoded contents with plain bytes")
    func decodedEquality() {
        #expect(equals("price", "price"))
        #expect(!equals("price", "prices"))
        #expect(!equals("prices", "price"))
        #expect(equals(#"pr\u0069ce"#, "price"))
        #expect(!equals(#"pr\u0069ce"#, "prise"))
        #expect(!equals(#"pr\u0069ce"#, "pric"))
        #expect(equals(#"a\"b"#, "a\"b"))
        #expect(equals(#"\uD83D\uDE00"#, "😀"))
        #expect(equals(#"\u00e9"#, "é"))
        #expect(!equals(#"\u00e9"#, "e"))
        #expect(equals("", ""))
        #expect(equals(#"\n"#, "\n"))
    }

    @Test("decodedCompare orders by code point, prefixes first")
    func decodedOrdering() {
        #expect(compare("abc", "abc") == 0)
        #expect(compare("abc", "abd") == -1)
        #expect(compare("abd", "abc") == 1)
        #expect(compare("ab", "abc") == -1)
        #expect(compare("abc", "ab") == 1)
        #expect(compare(#"a\u0062c"#, "abc") == 0)
        #expect(compare(#"a\u0062"#, "abc") == -1)
        #expect(compare(#"a\u0063"#, "abc") == 1)
        #expect(compare(#"\uFFFF"#, "😀") == -1, "U+FFFF sorts before U+1F600")
        #expect(compare(#"\uD83D\uDE00"#, "\u{FFFF}") == 1)
        #expect(compare(#"\n"#, "\t") == 1)
        #expect(compare("", "a") == -1)
        #expect(compare("", "") == 0)
    }
}
