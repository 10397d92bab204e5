/// Compiles CEL text into a `Program` for the supported subset, checking types statically
/// where they are known.
///
/// What compiles now: literals (int, uint, double, string, bool, null); `event.a.b` and
/// `event["a"]` field access (paths rooted at `event`); the string variables `type` and
/// `customer`; `== != < <= > >= && || !`, unary `-`, `+ - * / %`, `x in [list literal]`,
/// `has(event.a.b)`, `?:` and parentheses. Everything else the grammar accepts is reported
/// as not supported yet, at the construct that uses it.
///
/// Static types: literals and `type`/`customer` (string) are known; event fields are `dyn`.
/// Operators with known operand types are checked against CEL's overloads
/// (`"a" < 1` is an error); `==` and `!=` accept any pair (values of different types are
/// unequal). JSON numbers are doubles under CEL's JSON mapping, so `event.qty + 1` would be a
/// runtime "no such overload"; the compiler reports an int or uint operand of arithmetic
/// with an event field up front, with the hint to write `1.0`.
public enum ExprCompiler {
    /// Parses and compiles; returns the program or all diagnostics found (parsing stops at
    /// the first syntax error; type errors are collected).
    ///
    /// On success the event paths the program reads are interned in `env.fields`; on failure
    /// `env` is left unchanged.
    public static func compile(_ source: String, in env: inout ExprEnvironment) -> Result<Program, ExprDiagnostics> {
        let tree: ExprNode
        switch ExprParser.parse(source) {
        case .success(let node): tree = node
        case .failure(let diagnostic): return .failure(ExprDiagnostics(items: [diagnostic]))
        }
        var compiler = Compiler(env: env)
        let root = compiler.compile(tree)
        if !compiler.diagnostics.isEmpty {
            let sorted = compiler.diagnostics.enumerated().sorted {
                ($0.element.range.start, $0.offset) < ($1.element.range.start, $1.offset)
            }.map(\.element)
            return .failure(ExprDiagnostics(items: sorted))
        }
        guard let root, let type = root.type else {
            preconditionFailure("a node without a type has reported a diagnostic")
        }
        env = compiler.env
        return .success(compiler.finish(root: root.index, type: type))
    }

    /// The names an expression may use now.
    static let variables = ["event", "type", "customer"]
    /// Names of the full pipeline language that a later version adds.
    static let futureVariables: Set<String> = ["time", "now", "profile", "journey"]
}

/// One compiled subexpression: its node, its static type (nil after a reported error, so
/// that one mistake gives one diagnostic), and what the specialisations need to know.
private struct Compiled {
    var index: Int32
    var type: ExprType?
    /// Set for literals: the written value.
    var literal: ExprNode.Literal? = nil
    /// Set when the node loads an event field (`field`) or a string variable.
    var field: FieldID? = nil
    var isStringVariable = false
}

private struct Compiler {
    var env: ExprEnvironment
    var diagnostics: [ExprDiagnostic] = []
    var nodes: [ProgramInstruction] = []
    var constants: [Value] = []
    var bytes: [UInt8] = []
    var operands: [Int32] = []
    var fieldNames: [FieldID: String] = [:]

    init(env: ExprEnvironment) {
        self.env = env
    }

    func finish(root: Int32, type: ExprType) -> Program {
        // Sentinels keep every array non-empty, so evaluation can take base addresses.
        var constants = constants
        var bytes = bytes
        var operands = operands
        constants.append(.null)
        bytes.append(0)
        operands.append(0)
        return Program(resultType: type, nodes: nodes, constants: constants, bytes: bytes,
                       operands: operands, root: root, fieldNames: fieldNames)
    }

    // MARK: Emitting

    mutating func emit(_ instruction: ProgramInstruction) -> Int32 {
        nodes.append(instruction)
        return Int32(nodes.count - 1)
    }

    mutating func report(_ message: String, _ range: SourceRange, hint: String? = nil) -> Compiled? {
        diagnostics.append(ExprDiagnostic(message: message, range: range, hint: hint))
        return nil
    }

    mutating func intern(_ path: [String]) -> FieldID {
        let id = env.fields.intern(path)
        fieldNames[id] = path.joined(separator: ".")
        return id
    }

    // MARK: Expressions

    mutating func compile(_ node: ExprNode) -> Compiled? {
        switch node.kind {
        case .literal(let literal):
            return compileLiteral(literal, node.range)
        case let .identifier(name, _):
            return compileIdentifier(name, node.range)
        case .select, .index:
            if let path = eventPath(node), !path.isEmpty {
                let id = intern(path)
                return Compiled(index: emit(ProgramInstruction(.field, Int32(id))), type: .dyn, field: id)
            }
            return compileUnsupportedAccess(node)
        case let .call(target, function, functionRange, arguments, _):
            if target == nil && function == "has" && arguments.count == 1 {
                return compileHas(arguments[0])
            }
            return report("'\(function)' is not supported yet", functionRange)
        case .list:
            return report("list values are not supported yet", node.range,
                          hint: "a list literal is supported on the right of 'in'")
        case .map:
            return report("map literals are not supported yet", node.range)
        case .message:
            return report("message literals are not supported yet", node.range)
        case let .unary(op, operand, operatorRange):
            return compileUnary(op, operand, operatorRange)
        case let .binary(op, lhs, rhs, operatorRange):
            return compileBinary(op, lhs, rhs, operatorRange)
        case let .conditional(condition, then, otherwise):
            return compileConditional(condition, then, otherwise)
        }
    }

    mutating func compileLiteral(_ literal: ExprNode.Literal, _ range: SourceRange) -> Compiled? {
        let value: Value
        let type: ExprType
        switch literal {
        case .int(let v): (value, type) = (.int(v), .int)
        case .uint(let v): (value, type) = (.uint(v), .uint)
        case .double(let v): (value, type) = (.double(v), .double)
        case .bool(let v): (value, type) = (.bool(v), .bool)
        case .null: (value, type) = (.null, .null)
        case .string(let text):
            value = .string(StringSpan(origin: .program, escaped: false,
                                       start: Int32(bytes.count), count: Int32(text.count)))
            bytes.append(contentsOf: text)
            type = .string
        case .bytes:
            return report("bytes literals are not supported yet", range)
        }
        constants.append(value)
        let index = emit(ProgramInstruction(.constant, Int32(constants.count - 1)))
        return Compiled(index: index, type: type, literal: literal)
    }

    mutating func compileIdentifier(_ name: String, _ range: SourceRange) -> Compiled? {
        switch name {
        case "type", "customer":
            let id = name == "type" ? env.typeField : env.customerField
            if fieldNames[id] == nil {
                fieldNames[id] = env.fields.paths.indices.contains(id)
                    ? env.fields.paths[id].joined(separator: ".") : name
            }
            return Compiled(index: emit(ProgramInstruction(.stringVariable, Int32(id))), type: .string,
                            field: id, isStringVariable: true)
        case "event":
            return report("using the whole 'event' as a value is not supported yet", range,
                          hint: "select a field, e.g. 'event.name'")
        default:
            if ExprCompiler.futureVariables.contains(name) {
                return report("'\(name)' is not supported yet", range)
            }
            return report("undeclared reference to '\(name)'", range, hint: suggestion(for: name))
        }
    }

    func suggestion(for name: String) -> String {
        let ranked = ExprCompiler.variables
            .map { (candidate: $0, distance: editDistance(name.lowercased(), $0)) }
            .min { $0.distance < $1.distance }!
        if ranked.distance <= max(1, min(2, name.count / 2)) {
            return "did you mean '\(ranked.candidate)'?"
        }
        return "event fields are selected from 'event', e.g. 'event.\(name)'; the variables are 'event', 'type' and 'customer'"
    }

    /// The path of `event.a.b` / `event["a"]["b"]` chains; nil for anything else.
    func eventPath(_ node: ExprNode) -> [String]? {
        switch node.kind {
        case .identifier("event", _):
            return []
        case let .select(operand, field, _):
            return eventPath(operand).map { $0 + [field] }
        case let .index(operand, key):
            guard case .literal(.string(let text)) = key.kind else { return nil }
            return eventPath(operand).map { $0 + [String(decoding: text, as: UTF8.self)] }
        default:
            return nil
        }
    }

    /// Selection or indexing that is not an event path: explain what is not supported.
    mutating func compileUnsupportedAccess(_ node: ExprNode) -> Compiled? {
        switch node.kind {
        case let .select(operand, _, fieldRange):
            guard let base = compile(operand), let type = base.type else { return nil }
            if type == .dyn {
                return report("field selection on a computed value is not supported yet", fieldRange)
            }
            return report("type '\(type.name)' does not support field selection", fieldRange)
        case let .index(operand, key):
            if eventPath(operand) == nil {
                guard let base = compile(operand), base.type != nil else { return nil }
            }
            return report("indexing is not supported yet", key.range,
                          hint: "select event fields with event.name or event[\"name\"]")
        default:
            preconditionFailure("only select and index nodes")
        }
    }

    mutating func compileHas(_ argument: ExprNode) -> Compiled? {
        guard case let .select(operand, field, _) = argument.kind else {
            return report("invalid argument to has() macro", argument.range,
                          hint: "has() takes a field selection such as has(event.a.b)")
        }
        guard let parentPath = eventPath(operand) else {
            guard let base = compile(operand), let type = base.type else { return nil }
            if type == .dyn {
                return report("has() on a computed value is not supported yet", argument.range)
            }
            return report("type '\(type.name)' does not support field selection", argument.range)
        }
        let id = intern(parentPath + [field])
        let parent = parentPath.isEmpty ? -1 : Int32(intern(parentPath))
        return Compiled(index: emit(ProgramInstruction(.has, Int32(id), parent)), type: .bool)
    }

    // MARK: Operators

    mutating func overloadError(_ op: String, _ types: [ExprType], _ range: SourceRange, hint: String? = nil) -> Compiled? {
        report("no matching overload for '\(op)' applied to (\(types.map(\.name).joined(separator: ", ")))",
               range, hint: hint)
    }

    mutating func compileUnary(_ op: ExprNode.UnaryOperator, _ operandNode: ExprNode,
                               _ range: SourceRange) -> Compiled? {
        guard let operand = compile(operandNode), let type = operand.type else { return nil }
        switch op {
        case .not:
            guard type == .bool || type == .dyn else { return overloadError("!", [type], range) }
            return Compiled(index: emit(ProgramInstruction(.not, operand.index)), type: .bool)
        case .negate:
            guard type == .int || type == .double || type == .dyn else {
                return overloadError("-", [type], range)
            }
            return Compiled(index: emit(ProgramInstruction(.negate, operand.index)), type: type)
        }
    }

    mutating func compileBinary(_ op: ExprNode.BinaryOperator, _ lhsNode: ExprNode, _ rhsNode: ExprNode,
                                _ range: SourceRange) -> Compiled? {
        if op == .in { return compileIn(lhsNode, rhsNode, range) }
        let lhs = compile(lhsNode)
        let rhs = compile(rhsNode)
        guard let lhs, let rhs, let lt = lhs.type, let rt = rhs.type else { return nil }
        switch op {
        case .and, .or:
            guard (lt == .bool || lt == .dyn) && (rt == .bool || rt == .dyn) else {
                return overloadError(op.rawValue, [lt, rt], range)
            }
            return Compiled(index: emit(ProgramInstruction(op == .and ? .and : .or, lhs.index, rhs.index)), type: .bool)
        case .equal, .notEqual:
            if let special = specialisedEquality(op == .equal, lhs, rhs) ?? specialisedEquality(op == .equal, rhs, lhs) {
                return Compiled(index: emit(special), type: .bool)
            }
            return Compiled(index: emit(ProgramInstruction(op == .equal ? .equal : .notEqual, lhs.index, rhs.index)),
                            type: .bool)
        case .less, .lessEqual, .greater, .greaterEqual:
            let orderable: Set<ExprType> = [.int, .uint, .double, .string, .bool]
            let ok = (lt == .dyn && (orderable.contains(rt) || rt == .dyn))
                || (rt == .dyn && orderable.contains(lt))
                || (lt.isNumeric && rt.isNumeric)
                || (lt == rt && orderable.contains(lt))
            guard ok else { return overloadError(op.rawValue, [lt, rt], range) }
            let opcode: ProgramOpcode = switch op {
            case .less: .less
            case .lessEqual: .lessEqual
            case .greater: .greater
            default: .greaterEqual
            }
            return Compiled(index: emit(ProgramInstruction(opcode, lhs.index, rhs.index)), type: .bool)
        default:
            return compileArithmetic(op, lhs, rhs, lhsNode, rhsNode, range)
        }
    }

    /// `field == "literal"` and the like, compared in place without building values.
    func specialisedEquality(_ isEqual: Bool, _ fieldSide: Compiled, _ literalSide: Compiled) -> ProgramInstruction? {
        guard let field = fieldSide.field, case .string = literalSide.literal,
              case .string(let span) = constants[Int(nodes[Int(literalSide.index)].a)] else { return nil }
        let op: ProgramOpcode = fieldSide.isStringVariable
            ? (isEqual ? .variableEqualString : .variableNotEqualString)
            : (isEqual ? .fieldEqualString : .fieldNotEqualString)
        return ProgramInstruction(op, Int32(field), span.start, span.count)
    }

    mutating func compileArithmetic(_ op: ExprNode.BinaryOperator, _ lhs: Compiled, _ rhs: Compiled,
                                    _ lhsNode: ExprNode, _ rhsNode: ExprNode, _ range: SourceRange) -> Compiled? {
        let lt = lhs.type!, rt = rhs.type!
        let opcode: ProgramOpcode = switch op {
        case .add: .add
        case .subtract: .subtract
        case .multiply: .multiply
        case .divide: .divide
        default: .remainder
        }
        func emitted(_ type: ExprType) -> Compiled {
            Compiled(index: emit(ProgramInstruction(opcode, lhs.index, rhs.index)), type: type)
        }
        // Event numbers are doubles: an int or uint meeting a dyn operand can only fail.
        for (side, other, node) in [(lhs, rt, lhsNode), (rhs, lt, rhsNode)]
        where other == .dyn && (side.type == .int || side.type == .uint) {
            let hint: String
            switch side.literal {
            case .int(let v): hint = "JSON numbers are doubles in CEL; write \(v).0"
            case .uint(let v): hint = "JSON numbers are doubles in CEL; write \(v).0"
            default: hint = "JSON numbers are doubles in CEL; write double literals such as 1.0"
            }
            return overloadError(op.rawValue, [lt, rt], node.range, hint: hint)
        }
        if (lt == .string || rt == .string) && (lt == .string || lt == .dyn) && (rt == .string || rt == .dyn) {
            if op == .add { return report("'+' on strings is not supported yet", range) }
            return overloadError(op.rawValue, [lt, rt], range)
        }
        switch (lt, rt) {
        case (.dyn, .dyn): return emitted(.dyn)
        case (.dyn, .double), (.double, .dyn), (.double, .double):
            guard op != .remainder else { return overloadError(op.rawValue, [lt, rt], range) }
            return emitted(.double)
        case (.int, .int): return emitted(.int)
        case (.uint, .uint): return emitted(.uint)
        default: return overloadError(op.rawValue, [lt, rt], range)
        }
    }

    mutating func compileIn(_ lhsNode: ExprNode, _ rhsNode: ExprNode, _ range: SourceRange) -> Compiled? {
        let lhs = compile(lhsNode)
        guard case .list(let elements) = rhsNode.kind else {
            if let rhs = compile(rhsNode), rhs.type != nil {
                return report("'in' is not supported yet with a non-literal list", range,
                              hint: "write the list inline, e.g. type in [\"a\", \"b\"]")
            }
            return nil
        }
        var indices: [Int32] = []
        var failed = false
        for element in elements {
            if let compiled = compile(element), compiled.type != nil {
                indices.append(compiled.index)
            } else {
                failed = true
            }
        }
        guard let lhs, lhs.type != nil, !failed else { return nil }
        let start = Int32(operands.count)
        operands.append(contentsOf: indices)
        return Compiled(index: emit(ProgramInstruction(.inList, lhs.index, start, Int32(indices.count))), type: .bool)
    }

    mutating func compileConditional(_ conditionNode: ExprNode, _ thenNode: ExprNode,
                                     _ otherwiseNode: ExprNode) -> Compiled? {
        let condition = compile(conditionNode)
        let then = compile(thenNode)
        let otherwise = compile(otherwiseNode)
        guard let condition, let then, let otherwise,
              let ct = condition.type, let tt = then.type, let et = otherwise.type else { return nil }
        guard ct == .bool || ct == .dyn else {
            return overloadError("?:", [ct, tt, et], conditionNode.range,
                                 hint: "the condition of '?:' must be a bool")
        }
        let type: ExprType
        if tt == et { type = tt } else if tt == .dyn || et == .dyn { type = .dyn } else {
            return overloadError("?:", [ct, tt, et], thenNode.range.union(otherwiseNode.range),
                                 hint: "both branches of '?:' must have the same type")
        }
        return Compiled(index: emit(ProgramInstruction(.conditional, condition.index, then.index, otherwise.index)),
                        type: type)
    }
}

/// Levenshtein distance, for did-you-mean hints.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
