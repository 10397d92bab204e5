/// One lexical token of a CEL expression.
///
/// Literal tokens carry their decoded value: the lexer checks escapes and number syntax, so
/// the parser only decides what the tokens mean together.
struct ExprToken: Equatable, Sendable {
    var kind: Kind
    var range: SourceRange
    /// Decoded value of string and bytes literals (UTF-8 for strings); the spelling of numbers
    /// without the `u` suffix; the name of identifiers and reserved words.
    var text: [UInt8]

    enum Kind: Equatable, Sendable {
        case identifier
        case reserved          // a reserved word other than true/false/null/in
        case intLiteral
        case uintLiteral
        case doubleLiteral
        case stringLiteral
        case bytesLiteral
        case `true`, `false`, null, `in`
        case leftParen, rightParen, leftBracket, rightBracket, leftBrace, rightBrace
        case dot, comma, colon, question
        case plus, minus, star, slash, percent
        case bang, equal, notEqual, less, lessEqual, greater, greaterEqual
        case and, or
        case end
    }

    var name: String { String(decoding: text, as: UTF8.self) }

    /// How the token is shown in "unexpected ..." messages.
    var quoted: String {
        switch kind {
        case .end: return "end of expression"
        case .stringLiteral: return "string literal"
        case .bytesLiteral: return "bytes literal"
        case .intLiteral, .uintLiteral, .doubleLiteral:
            return "'\(name)\(kind == .uintLiteral ? "u" : "")'"
        default:
            if let spelling = kind.spelling { return "'\(spelling)'" }
            return "'\(name)'"
        }
    }
}

extension ExprToken.Kind {
    /// Fixed spelling of punctuation, operators and keywords.
    var spelling: String? {
        switch self {
        case .true: "true"
        case .false: "false"
        case .null: "null"
        case .in: "in"
        case .leftParen: "("
        case .rightParen: ")"
        case .leftBracket: "["
        case .rightBracket: "]"
        case .leftBrace: "{"
        case .rightBrace: "}"
        case .dot: "."
        case .comma: ","
        case .colon: ":"
        case .question: "?"
        case .plus: "+"
        case .minus: "-"
        case .star: "*"
        case .slash: "/"
        case .percent: "%"
        case .bang: "!"
        case .equal: "=="
        case .notEqual: "!="
        case .less: "<"
        case .lessEqual: "<="
        case .greater: ">"
        case .greaterEqual: ">="
        case .and: "&&"
        case .or: "||"
        default: nil
        }
    }
}
