/// A parsed CEL expression: the syntax tree of the full CEL grammar, each node with the
/// UTF-8 byte range of its source text.
///
/// The tree is what the text says, before name resolution or type checking; `ExprCompiler`
/// decides what it means. Operators keep their own node kinds (rather than CEL's `_+_`
/// calls) and remember the range of the operator token for diagnostics.
public struct ExprNode: Equatable, Sendable {
    public var kind: Kind
    /// The whole source text of this node, e.g. `a + b` for a binary node.
    public var range: SourceRange

    public init(_ kind: Kind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }

    public indirect enum Kind: Equatable, Sendable {
        case literal(Literal)
        /// A simple name; `leadingDot` for `.name` (resolve in the root scope only).
        case identifier(String, leadingDot: Bool)
        /// `operand.field`.
        case select(ExprNode, field: String, fieldRange: SourceRange)
        /// `operand[index]`.
        case index(ExprNode, ExprNode)
        /// `f(args)`, `.f(args)` (`leadingDot`), or the receiver call `target.f(args)`.
        case call(target: ExprNode?, function: String, functionRange: SourceRange,
                  arguments: [ExprNode], leadingDot: Bool)
        /// `[e1, e2, ...]`.
        case list([ExprNode])
        /// `{k1: v1, ...}`.
        case map([MapEntry])
        /// `Name{field: value, ...}`; `typeName` is dotted (with a leading dot if written).
        case message(typeName: String, fields: [FieldInitializer])
        case unary(UnaryOperator, ExprNode, operatorRange: SourceRange)
        case binary(BinaryOperator, ExprNode, ExprNode, operatorRange: SourceRange)
        /// `condition ? then : else`.
        case conditional(ExprNode, ExprNode, ExprNode)
    }

    public struct MapEntry: Equatable, Sendable {
        public var key: ExprNode
        public var value: ExprNode
    }

    public struct FieldInitializer: Equatable, Sendable {
        public var name: String
        public var nameRange: SourceRange
        public var value: ExprNode
    }

    public enum Literal: Equatable, Sendable {
        case int(Int64)
        case uint(UInt64)
        case double(Double)
        /// UTF-8 bytes of the decoded string (always valid UTF-8).
        case string([UInt8])
        case bytes([UInt8])
        case bool(Bool)
        case null

        public static func == (a: Literal, b: Literal) -> Bool {
            switch (a, b) {
            case let (.int(x), .int(y)): x == y
            case let (.uint(x), .uint(y)): x == y
            case let (.double(x), .double(y)): x.bitPattern == y.bitPattern
            case let (.string(x), .string(y)): x == y
            case let (.bytes(x), .bytes(y)): x == y
            case let (.bool(x), .bool(y)): x == y
            case (.null, .null): true
            default: false
            }
        }
    }

    public enum UnaryOperator: String, Sendable {
        case not = "!"
        case negate = "-"
    }

    public enum BinaryOperator: String, Sendable {
        case or = "||"
        case and = "&&"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessEqual = "<="
        case greater = ">"
        case greaterEqual = ">="
        case `in` = "in"
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case remainder = "%"
    }
}

extension ExprNode: CustomStringConvertible {
    /// A fully parenthesised S-expression, used by tests to pin precedence and associativity:
    /// `a + b * c` is `(+ a (* b c))`.
    public var description: String {
        switch kind {
        case .literal(let literal):
            switch literal {
            case .int(let v): return "\(v)"
            case .uint(let v): return "\(v)u"
            case .double(let v): return "\(v)"
            case .string(let v): return "\"\(String(decoding: v, as: UTF8.self))\""
            case .bytes(let v): return "b\(v)"
            case .bool(let v): return "\(v)"
            case .null: return "null"
            }
        case let .identifier(name, leadingDot):
            return (leadingDot ? "." : "") + name
        case let .select(operand, field, _):
            return "\(operand).\(field)"
        case let .index(operand, index):
            return "\(operand)[\(index)]"
        case let .call(target, function, _, arguments, leadingDot):
            let args = arguments.map(\.description).joined(separator: " ")
            let receiver = target.map { "\($0)." } ?? (leadingDot ? "." : "")
            return "(\(receiver)\(function)\(args.isEmpty ? "" : " " + args))"
        case .list(let elements):
            return "[" + elements.map(\.description).joined(separator: " ") + "]"
        case .map(let entries):
            return "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case let .message(typeName, fields):
            return typeName + "{" + fields.map { "\($0.name): \($0.value)" }.joined(separator: ", ") + "}"
        case let .unary(op, operand, _):
            return "(\(op.rawValue) \(operand))"
        case let .binary(op, lhs, rhs, _):
            return "(\(op.rawValue) \(lhs) \(rhs))"
        case let .conditional(c, t, e):
            return "(?: \(c) \(t) \(e))"
        }
    }
}
