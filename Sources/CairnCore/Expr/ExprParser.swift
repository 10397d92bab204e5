/// Parses CEL text into an `ExprNode` tree: the full grammar of the CEL language definition.
///
///     Expr           = ConditionalOr ["?" ConditionalOr ":" Expr] ;
///     ConditionalOr  = [ConditionalOr "||"] ConditionalAnd ;
///     ConditionalAnd = [ConditionalAnd "&&"] Relation ;
///     Relation       = [Relation Relop] Addition ;          Relop = < <= >= > == != in
///     Addition       = [Addition ("+" | "-")] Multiplication ;
///     Multiplication = [Multiplication ("*" | "/" | "%")] Unary ;
///     Unary          = Member | "!" {"!"} Member | "-" {"-"} Member ;
///     Member         = Primary | Member "." IDENT ["(" [ExprList] ")"]
///                    | Member "[" Expr "]" | Member "{" [FieldInits] [","] "}" ;
///     Primary        = ["."] IDENT ["(" [ExprList] ")"] | "(" Expr ")"
///                    | "[" [ExprList] [","] "]" | "{" [MapInits] [","] "}" | LITERAL ;
///
/// Parsing stops at the first syntax error. A `-` written directly before a number literal is
/// folded into it, so `-9223372036854775808` is the int minimum. Trees deeper than
/// `maxDepth` are rejected so that later recursive passes cannot exhaust the stack.
public enum ExprParser {
    /// Maximum nesting of the syntax tree (CEL requires implementations to support 32).
    public static let maxDepth = 200

    public static func parse(_ source: String) -> Result<ExprNode, ExprDiagnostic> {
        let (tokens, lexError) = ExprLexer.tokenize(Array(source.utf8))
        var parser = Parser(tokens: tokens, lexError: lexError)
        do {
            let result = try parser.parseExpression()
            try parser.expectEnd()
            return .success(result.node)
        } catch let diagnostic as ExprDiagnostic {
            return .failure(diagnostic)
        } catch {
            preconditionFailure("parser throws only ExprDiagnostic")
        }
    }
}

/// Recursive descent over the token array; every production returns its node and height.
private struct Parser {
    let tokens: [ExprToken]
    let lexError: ExprDiagnostic?
    var index = 0
    var recursion = 0

    init(tokens: [ExprToken], lexError: ExprDiagnostic?) {
        self.tokens = tokens
        self.lexError = lexError
    }

    struct Parsed {
        var node: ExprNode
        var height: Int
    }

    // MARK: ExprToken access

    func peek() throws -> ExprToken {
        let token = tokens[index]
        if token.kind == .end, let lexError { throw lexError }
        return token
    }

    func peekKind(_ offset: Int = 0) -> ExprToken.Kind {
        tokens[Swift.min(index + offset, tokens.count - 1)].kind
    }

    mutating func advance() -> ExprToken {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    mutating func accept(_ kind: ExprToken.Kind) throws -> ExprToken? {
        if try peek().kind == kind { return advance() }
        return nil
    }

    mutating func expect(_ kind: ExprToken.Kind) throws -> ExprToken {
        let token = try peek()
        if token.kind == kind { return advance() }
        throw ExprDiagnostic(message: "expected '\(kind.spelling ?? "?")' but found \(token.quoted)",
                             range: token.range)
    }

    mutating func expectEnd() throws {
        let token = try peek()
        if token.kind != .end { throw unexpected(token) }
    }

    func unexpected(_ token: ExprToken) -> ExprDiagnostic {
        switch token.kind {
        case .end:
            return ExprDiagnostic(message: "unexpected end of expression", range: token.range)
        case .reserved:
            return reservedWord(token)
        default:
            return ExprDiagnostic(message: "unexpected \(token.quoted)", range: token.range)
        }
    }

    func reservedWord(_ token: ExprToken) -> ExprDiagnostic {
        ExprDiagnostic(message: "'\(token.name)' is a reserved word", range: token.range,
                       hint: "reserved words cannot be used as names")
    }

    func make(_ kind: ExprNode.Kind, _ range: SourceRange, height: Int) throws -> Parsed {
        if height > ExprParser.maxDepth {
            throw ExprDiagnostic(message: "expression is nested too deeply (more than \(ExprParser.maxDepth) levels)",
                                 range: range)
        }
        return Parsed(node: ExprNode(kind, range), height: height)
    }

    // MARK: Productions

    mutating func parseExpression() throws -> Parsed {
        recursion += 1
        defer { recursion -= 1 }
        if recursion > ExprParser.maxDepth {
            let token = try peek()
            throw ExprDiagnostic(message: "expression is nested too deeply (more than \(ExprParser.maxDepth) levels)",
                                 range: token.range)
        }
        let condition = try parseOr()
        guard try accept(.question) != nil else { return condition }
        let then = try parseOr()
        _ = try expect(.colon)
        let otherwise = try parseExpression()
        return try make(.conditional(condition.node, then.node, otherwise.node),
                        condition.node.range.union(otherwise.node.range),
                        height: 1 + max(condition.height, then.height, otherwise.height))
    }

    mutating func parseBinary(_ operators: [ExprToken.Kind: ExprNode.BinaryOperator],
                              _ operand: (inout Parser) throws -> Parsed) throws -> Parsed {
        var lhs = try operand(&self)
        while let op = operators[try peek().kind] {
            let opToken = advance()
            let rhs = try operand(&self)
            lhs = try make(.binary(op, lhs.node, rhs.node, operatorRange: opToken.range),
                           lhs.node.range.union(rhs.node.range), height: 1 + max(lhs.height, rhs.height))
        }
        return lhs
    }

    mutating func parseOr() throws -> Parsed {
        try parseBinary([.or: .or]) { try $0.parseAnd() }
    }

    mutating func parseAnd() throws -> Parsed {
        try parseBinary([.and: .and]) { try $0.parseRelation() }
    }

    mutating func parseRelation() throws -> Parsed {
        try parseBinary([
            .less: .less, .lessEqual: .lessEqual, .greater: .greater, .greaterEqual: .greaterEqual,
            .equal: .equal, .notEqual: .notEqual, .in: .in,
        ]) { try $0.parseAddition() }
    }

    mutating func parseAddition() throws -> Parsed {
        try parseBinary([.plus: .add, .minus: .subtract]) { try $0.parseMultiplication() }
    }

    mutating func parseMultiplication() throws -> Parsed {
        try parseBinary([.star: .multiply, .slash: .divide, .percent: .remainder]) { try $0.parseUnary() }
    }

    mutating func parseUnary() throws -> Parsed {
        let first = try peek()
        guard first.kind == .bang || first.kind == .minus else { return try parseMember() }
        var ops: [ExprToken] = []
        while try peek().kind == first.kind { ops.append(advance()) }
        var operand: Parsed
        if first.kind == .minus, [.intLiteral, .doubleLiteral].contains(peekKind()) {
            // `-` directly before a number is part of the literal (INT_LIT ::= -? DIGIT+).
            let minus = ops.removeLast()
            operand = try parseMember(negativeFrom: minus.range.start)
        } else {
            operand = try parseMember()
        }
        for op in ops.reversed() {
            let unaryOp: ExprNode.UnaryOperator = op.kind == .bang ? .not : .negate
            operand = try make(.unary(unaryOp, operand.node, operatorRange: op.range),
                               op.range.union(operand.node.range), height: operand.height + 1)
        }
        return operand
    }

    mutating func parseMember(negativeFrom: Int? = nil) throws -> Parsed {
        var operand: Parsed
        if let negativeFrom {
            operand = try parseNumber(advance(), negativeFrom: negativeFrom)
        } else {
            operand = try parsePrimary()
        }
        while true {
            let token = try peek()
            switch token.kind {
            case .dot:
                _ = advance()
                let name = try selector()
                if try accept(.leftParen) != nil {
                    let (arguments, height, end) = try parseList(closing: .rightParen)
                    operand = try make(.call(target: operand.node, function: name.name, functionRange: name.range,
                                             arguments: arguments, leadingDot: false),
                                       SourceRange(start: operand.node.range.start, end: end),
                                       height: 1 + max(operand.height, height))
                } else {
                    operand = try make(.select(operand.node, field: name.name, fieldRange: name.range),
                                       operand.node.range.union(name.range), height: operand.height + 1)
                }
            case .leftBracket:
                _ = advance()
                let index = try parseExpression()
                let close = try expect(.rightBracket)
                operand = try make(.index(operand.node, index.node),
                                   operand.node.range.union(close.range), height: 1 + max(operand.height, index.height))
            case .leftBrace:
                guard let typeName = qualifiedName(operand.node) else { return operand }
                _ = advance()
                operand = try parseMessage(typeName: typeName, start: operand.node.range.start)
            default:
                return operand
            }
        }
    }

    /// The dotted name of `Name` or `a.b.Name`, the only operands a message literal accepts.
    func qualifiedName(_ node: ExprNode) -> String? {
        switch node.kind {
        case let .identifier(name, leadingDot): return (leadingDot ? "." : "") + name
        case let .select(operand, field, _): return qualifiedName(operand).map { $0 + "." + field }
        default: return nil
        }
    }

    mutating func selector() throws -> ExprToken {
        let token = try peek()
        switch token.kind {
        case .identifier: return advance()
        case .reserved: throw reservedWord(token)
        case .true, .false, .null, .in:
            throw ExprDiagnostic(message: "'\(token.kind.spelling!)' is a reserved word", range: token.range,
                                 hint: "reserved words cannot be used as names")
        default:
            throw ExprDiagnostic(message: "expected a field name after '.' but found \(token.quoted)",
                                 range: token.range)
        }
    }

    /// Comma-separated expressions up to `closing` (a trailing comma is allowed except in calls).
    mutating func parseList(closing: ExprToken.Kind) throws -> ([ExprNode], height: Int, end: Int) {
        var items: [ExprNode] = []
        var height = 0
        while true {
            if let close = try accept(closing) { return (items, height, close.range.end) }
            let item = try parseExpression()
            items.append(item.node)
            height = max(height, item.height)
            if try accept(.comma) != nil {
                if closing == .rightParen, try peek().kind == .rightParen { throw unexpected(try peek()) }
                continue
            }
            let close = try expect(closing)
            return (items, height, close.range.end)
        }
    }

    mutating func parseMessage(typeName: String, start: Int) throws -> Parsed {
        var fields: [ExprNode.FieldInitializer] = []
        var height = 0
        while true {
            if let close = try accept(.rightBrace) {
                return try make(.message(typeName: typeName, fields: fields),
                                SourceRange(start: start, end: close.range.end), height: height + 1)
            }
            let name = try selector()
            _ = try expect(.colon)
            let value = try parseExpression()
            fields.append(ExprNode.FieldInitializer(name: name.name, nameRange: name.range, value: value.node))
            height = max(height, value.height)
            if try accept(.comma) != nil { continue }
            let close = try expect(.rightBrace)
            return try make(.message(typeName: typeName, fields: fields),
                            SourceRange(start: start, end: close.range.end), height: height + 1)
        }
    }

    mutating func parsePrimary() throws -> Parsed {
        let token = try peek()
        switch token.kind {
        case .dot:
            _ = advance()
            let name = try peek()
            guard name.kind == .identifier else {
                if name.kind == .reserved { throw reservedWord(name) }
                throw ExprDiagnostic(message: "expected a name after '.' but found \(name.quoted)", range: name.range)
            }
            _ = advance()
            return try identifierOrCall(name, start: token.range.start, leadingDot: true)
        case .identifier:
            _ = advance()
            return try identifierOrCall(token, start: token.range.start, leadingDot: false)
        case .leftParen:
            _ = advance()
            let inner = try parseExpression()
            _ = try expect(.rightParen)
            return inner
        case .leftBracket:
            _ = advance()
            let (elements, height, end) = try parseList(closing: .rightBracket)
            return try make(.list(elements), SourceRange(start: token.range.start, end: end), height: height + 1)
        case .leftBrace:
            _ = advance()
            var entries: [ExprNode.MapEntry] = []
            var height = 0
            while true {
                if let close = try accept(.rightBrace) {
                    return try make(.map(entries), SourceRange(start: token.range.start, end: close.range.end),
                                    height: height + 1)
                }
                let key = try parseExpression()
                _ = try expect(.colon)
                let value = try parseExpression()
                entries.append(ExprNode.MapEntry(key: key.node, value: value.node))
                height = max(height, key.height, value.height)
                if try accept(.comma) != nil { continue }
                let close = try expect(.rightBrace)
                return try make(.map(entries), SourceRange(start: token.range.start, end: close.range.end),
                                height: height + 1)
            }
        case .intLiteral, .uintLiteral, .doubleLiteral:
            return try parseNumber(advance(), negativeFrom: nil)
        case .stringLiteral:
            _ = advance()
            return try make(.literal(.string(token.text)), token.range, height: 1)
        case .bytesLiteral:
            _ = advance()
            return try make(.literal(.bytes(token.text)), token.range, height: 1)
        case .true, .false:
            _ = advance()
            return try make(.literal(.bool(token.kind == .true)), token.range, height: 1)
        case .null:
            _ = advance()
            return try make(.literal(.null), token.range, height: 1)
        default:
            throw unexpected(token)
        }
    }

    mutating func identifierOrCall(_ name: ExprToken, start: Int, leadingDot: Bool) throws -> Parsed {
        if try accept(.leftParen) != nil {
            let (arguments, height, end) = try parseList(closing: .rightParen)
            return try make(.call(target: nil, function: name.name, functionRange: name.range,
                                  arguments: arguments, leadingDot: leadingDot),
                            SourceRange(start: start, end: end), height: height + 1)
        }
        return try make(.identifier(name.name, leadingDot: leadingDot),
                        SourceRange(start: start, end: name.range.end), height: 1)
    }

    /// A number literal; `negativeFrom` is the offset of a `-` folded into it.
    func parseNumber(_ token: ExprToken, negativeFrom: Int?) throws -> Parsed {
        let range = SourceRange(start: negativeFrom ?? token.range.start, end: token.range.end)
        let spelling = (negativeFrom == nil ? "" : "-") + token.name + (token.kind == .uintLiteral ? "u" : "")
        switch token.kind {
        case .doubleLiteral:
            guard let value = Double(token.name) else {
                throw ExprDiagnostic(message: "invalid double literal '\(spelling)'", range: range)
            }
            return try make(.literal(.double(negativeFrom == nil ? value : -value)), range, height: 1)
        default:
            let text = token.text
            let magnitude: UInt64?
            if text.count > 2, text[1] | 0x20 == UInt8(ascii: "x") {
                magnitude = UInt64(String(decoding: text[2...], as: UTF8.self), radix: 16)
            } else {
                magnitude = UInt64(token.name, radix: 10)
            }
            let outOfRange = ExprDiagnostic(message: "integer literal '\(spelling)' is out of range", range: range,
                                            hint: token.kind == .uintLiteral
                                                ? "uint is 64-bit: at most 18446744073709551615u"
                                                : "int is 64-bit: from -9223372036854775808 to 9223372036854775807")
            guard let magnitude else { throw outOfRange }
            if token.kind == .uintLiteral {
                return try make(.literal(.uint(magnitude)), range, height: 1)
            }
            if negativeFrom != nil {
                guard magnitude <= UInt64(Int64.max) + 1 else { throw outOfRange }
                return try make(.literal(.int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))),
                                range, height: 1)
            }
            guard magnitude <= UInt64(Int64.max) else { throw outOfRange }
            return try make(.literal(.int(Int64(magnitude))), range, height: 1)
        }
    }
}
