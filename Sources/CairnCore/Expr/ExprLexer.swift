/// Splits a CEL expression into tokens, following the lexis of the CEL language definition.
///
/// Whitespace is `[\t\n\f\r ]`, comments run from `//` to the end of the line. String and
/// bytes literals are decoded here (all quote forms, raw strings, every escape), so a bad
/// escape is reported at its own offset. The first lexical error ends the token stream with
/// an `.end` token and sets `error`; the parser reports it only if it gets that far, so the
/// first error in source order wins.
struct ExprLexer {
    private let source: [UInt8]
    private var position = 0
    private(set) var error: ExprDiagnostic?

    init(_ source: [UInt8]) {
        self.source = source
    }

    /// All tokens, ending with `.end` (at the first lexical error if there is one).
    static func tokenize(_ source: [UInt8]) -> (tokens: [ExprToken], error: ExprDiagnostic?) {
        var lexer = ExprLexer(source)
        var tokens: [ExprToken] = []
        while true {
            let token = lexer.next()
            tokens.append(token)
            if token.kind == .end { break }
        }
        return (tokens, lexer.error)
    }

    static let reservedWords: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
        "loop", "package", "namespace", "return", "var", "void", "while",
    ]

    private func byte(at index: Int) -> UInt8? {
        index < source.count ? source[index] : nil
    }

    private mutating func fail(_ message: String, _ start: Int, _ end: Int, hint: String? = nil) -> ExprToken {
        error = ExprDiagnostic(message: message, range: SourceRange(start: start, end: end), hint: hint)
        position = source.count
        return ExprToken(kind: .end, range: SourceRange(start: start, end: start), text: [])
    }

    mutating func next() -> ExprToken {
        skipTrivia()
        let start = position
        guard let c = byte(at: position) else {
            return ExprToken(kind: .end, range: SourceRange(start: start, end: start), text: [])
        }
        func punct(_ kind: ExprToken.Kind, _ length: Int) -> ExprToken {
            position += length
            return ExprToken(kind: kind, range: SourceRange(start: start, end: start + length), text: [])
        }
        let next = byte(at: position + 1)
        switch c {
        case UInt8(ascii: "("): return punct(.leftParen, 1)
        case UInt8(ascii: ")"): return punct(.rightParen, 1)
        case UInt8(ascii: "["): return punct(.leftBracket, 1)
        case UInt8(ascii: "]"): return punct(.rightBracket, 1)
        case UInt8(ascii: "{"): return punct(.leftBrace, 1)
        case UInt8(ascii: "}"): return punct(.rightBrace, 1)
        case UInt8(ascii: ","): return punct(.comma, 1)
        case UInt8(ascii: ":"): return punct(.colon, 1)
        case UInt8(ascii: "?"): return punct(.question, 1)
        case UInt8(ascii: "+"): return punct(.plus, 1)
        case UInt8(ascii: "-"): return punct(.minus, 1)
        case UInt8(ascii: "*"): return punct(.star, 1)
        case UInt8(ascii: "/"): return punct(.slash, 1)
        case UInt8(ascii: "%"): return punct(.percent, 1)
        case UInt8(ascii: "."):
            if let next, isDigit(next) { return number() }
            return punct(.dot, 1)
        case UInt8(ascii: "!"): return next == UInt8(ascii: "=") ? punct(.notEqual, 2) : punct(.bang, 1)
        case UInt8(ascii: "<"): return next == UInt8(ascii: "=") ? punct(.lessEqual, 2) : punct(.less, 1)
        case UInt8(ascii: ">"): return next == UInt8(ascii: "=") ? punct(.greaterEqual, 2) : punct(.greater, 1)
        case UInt8(ascii: "="):
            if next == UInt8(ascii: "=") { return punct(.equal, 2) }
            return fail("unexpected '='", start, start + 1, hint: "did you mean '=='?")
        case UInt8(ascii: "&"):
            if next == UInt8(ascii: "&") { return punct(.and, 2) }
            return fail("unexpected '&'", start, start + 1, hint: "did you mean '&&'?")
        case UInt8(ascii: "|"):
            if next == UInt8(ascii: "|") { return punct(.or, 2) }
            return fail("unexpected '|'", start, start + 1, hint: "did you mean '||'?")
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return string(start: start, raw: false, bytes: false)
        default:
            if isDigit(c) { return number() }
            if isIdentifierStart(c) { return identifierOrPrefixedString() }
            return unexpectedCharacter(at: start)
        }
    }

    private mutating func skipTrivia() {
        while let c = byte(at: position) {
            switch c {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0C:
                position += 1
            case UInt8(ascii: "/") where byte(at: position + 1) == UInt8(ascii: "/"):
                while let d = byte(at: position), d != UInt8(ascii: "\n"), d != UInt8(ascii: "\r") {
                    position += 1
                }
            default:
                return
            }
        }
    }

    private mutating func unexpectedCharacter(at start: Int) -> ExprToken {
        var end = start + 1
        while end < source.count, source[end] & 0xC0 == 0x80 { end += 1 }
        let text = String(decoding: source[start..<end], as: UTF8.self)
        return fail("unexpected character '\(text)'", start, end)
    }

    // MARK: Identifiers

    private mutating func identifierOrPrefixedString() -> ExprToken {
        let start = position
        while let c = byte(at: position), isIdentifierStart(c) || isDigit(c) { position += 1 }
        let text = Array(source[start..<position])
        // String prefixes: r"..", R"..", b"..", B"..", and b or B followed by r or R.
        if let quote = byte(at: position), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            let lower = text.map { $0 | 0x20 }
            if lower == [UInt8(ascii: "r")] { return string(start: start, raw: true, bytes: false) }
            if lower == [UInt8(ascii: "b")] { return string(start: start, raw: false, bytes: true) }
            if lower == [UInt8(ascii: "b"), UInt8(ascii: "r")] {
                return string(start: start, raw: true, bytes: true)
            }
        }
        let range = SourceRange(start: start, end: position)
        let name = String(decoding: text, as: UTF8.self)
        let kind: ExprToken.Kind
        switch name {
        case "true": kind = .true
        case "false": kind = .false
        case "null": kind = .null
        case "in": kind = .in
        default: kind = ExprLexer.reservedWords.contains(name) ? .reserved : .identifier
        }
        return ExprToken(kind: kind, range: range, text: text)
    }

    // MARK: Numbers

    /// INT_LIT, UINT_LIT and FLOAT_LIT without sign; the parser folds a leading `-`.
    private mutating func number() -> ExprToken {
        let start = position
        if byte(at: position) == UInt8(ascii: "0"),
           let x = byte(at: position + 1), x == UInt8(ascii: "x") || x == UInt8(ascii: "X"),
           let h = byte(at: position + 2), isHexDigit(h) {
            position += 2
            while let c = byte(at: position), isHexDigit(c) { position += 1 }
            return integerSuffix(start: start)
        }
        var isDouble = false
        while let c = byte(at: position), isDigit(c) { position += 1 }
        if byte(at: position) == UInt8(ascii: "."), let d = byte(at: position + 1), isDigit(d) {
            isDouble = true
            position += 1
            while let c = byte(at: position), isDigit(c) { position += 1 }
        }
        if let e = byte(at: position), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var look = position + 1
            if let s = byte(at: look), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { look += 1 }
            if let d = byte(at: look), isDigit(d) {
                isDouble = true
                position = look
                while let c = byte(at: position), isDigit(c) { position += 1 }
            }
        }
        if isDouble {
            return ExprToken(kind: .doubleLiteral, range: SourceRange(start: start, end: position),
                         text: Array(source[start..<position]))
        }
        return integerSuffix(start: start)
    }

    private mutating func integerSuffix(start: Int) -> ExprToken {
        let text = Array(source[start..<position])
        if let u = byte(at: position), u == UInt8(ascii: "u") || u == UInt8(ascii: "U") {
            position += 1
            return ExprToken(kind: .uintLiteral, range: SourceRange(start: start, end: position), text: text)
        }
        return ExprToken(kind: .intLiteral, range: SourceRange(start: start, end: position), text: text)
    }

    // MARK: Strings

    /// A string or bytes literal; `position` is at the prefix (if any) or the opening quote.
    private mutating func string(start: Int, raw: Bool, bytes: Bool) -> ExprToken {
        let quote = source[position]
        let triple = byte(at: position + 1) == quote && byte(at: position + 2) == quote
        position += triple ? 3 : 1
        var value: [UInt8] = []
        while true {
            guard let c = byte(at: position) else {
                return fail("unterminated \(bytes ? "bytes" : "string") literal", start, position)
            }
            if c == quote {
                if !triple {
                    position += 1
                    break
                }
                if byte(at: position + 1) == quote && byte(at: position + 2) == quote {
                    position += 3
                    break
                }
            }
            if !triple && (c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r")) {
                return fail("unterminated \(bytes ? "bytes" : "string") literal", start, position,
                            hint: "use a triple-quoted string (\"\"\"...\"\"\") for text with line breaks")
            }
            if c == UInt8(ascii: "\\") && !raw {
                guard escape(into: &value, bytes: bytes) else {
                    return ExprToken(kind: .end, range: SourceRange(start: position, end: position), text: [])
                }
                continue
            }
            value.append(c)
            position += 1
        }
        return ExprToken(kind: bytes ? .bytesLiteral : .stringLiteral,
                     range: SourceRange(start: start, end: position), text: value)
    }

    /// Decodes one escape sequence at `position` (a backslash); false after setting `error`.
    private mutating func escape(into value: inout [UInt8], bytes: Bool) -> Bool {
        let start = position
        guard let e = byte(at: position + 1) else {
            _ = fail("unterminated \(bytes ? "bytes" : "string") literal", start, position + 1)
            return false
        }
        position += 2
        let simple: UInt8?
        switch e {
        case UInt8(ascii: "a"): simple = 0x07
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "v"): simple = 0x0B
        case UInt8(ascii: "\\"), UInt8(ascii: "?"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            simple = e
        default: simple = nil
        }
        if let simple {
            value.append(simple)
            return true
        }
        func invalid(_ end: Int) -> Bool {
            let end = Swift.min(end, source.count)
            var stop = end
            while stop < source.count, source[stop] & 0xC0 == 0x80 { stop += 1 }
            let text = String(decoding: source[start..<stop], as: UTF8.self)
            _ = fail("invalid escape sequence '\(text)'", start, stop)
            return false
        }
        switch e {
        case UInt8(ascii: "x"), UInt8(ascii: "X"):
            guard let v = hexValue(at: position, digits: 2) else { return invalid(position + 2) }
            position += 2
            if bytes { value.append(UInt8(v)) } else { appendScalar(v, to: &value) }
            return true
        case UInt8(ascii: "0")...UInt8(ascii: "3"):
            guard let d1 = byte(at: position), let d2 = byte(at: position + 1),
                  isOctal(d1), isOctal(d2) else { return invalid(position + 2) }
            position += 2
            let v = UInt32(e - 48) << 6 | UInt32(d1 - 48) << 3 | UInt32(d2 - 48)
            if bytes { value.append(UInt8(v)) } else { appendScalar(v, to: &value) }
            return true
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let digits = e == UInt8(ascii: "u") ? 4 : 8
            if bytes {
                _ = fail("'\\\(Character(Unicode.Scalar(e)))' escapes are not allowed in bytes literals",
                         start, start + 2, hint: "write the UTF-8 bytes with '\\x' escapes")
                return false
            }
            guard var v = hexValue(at: position, digits: digits) else { return invalid(position + digits) }
            position += digits
            if digits == 4 && (0xD800..<0xDC00).contains(v) {
                // A high surrogate must be followed by an escaped low surrogate.
                if byte(at: position) == UInt8(ascii: "\\"), byte(at: position + 1) == UInt8(ascii: "u"),
                   let low = hexValue(at: position + 2, digits: 4), (0xDC00..<0xE000).contains(low) {
                    position += 6
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    _ = fail("invalid unicode code point in escape sequence", start, position)
                    return false
                }
            }
            guard let scalar = Unicode.Scalar(v) else {
                _ = fail("invalid unicode code point in escape sequence", start, position)
                return false
            }
            value.append(contentsOf: Array(String(Character(scalar)).utf8))
            return true
        default:
            return invalid(position)
        }
    }

    private func hexValue(at index: Int, digits: Int) -> UInt32? {
        guard index + digits <= source.count else { return nil }
        var v: UInt32 = 0
        for i in index..<(index + digits) {
            let c = source[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }

    private func appendScalar(_ v: UInt32, to value: inout [UInt8]) {
        // v < 0x100 here (\x and octal escapes), always a valid scalar.
        value.append(contentsOf: Array(String(Character(Unicode.Scalar(v)!)).utf8))
    }
}

@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) private func isOctal(_ c: UInt8) -> Bool { c >= 48 && c <= 55 }
@inline(__always) private func isHexDigit(_ c: UInt8) -> Bool {
    isDigit(c) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
}
@inline(__always) private func isIdentifierStart(_ c: UInt8) -> Bool {
    c == UInt8(ascii: "_") || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
}
