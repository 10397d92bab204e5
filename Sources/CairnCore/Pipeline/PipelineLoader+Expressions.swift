extension PipelineLoader {
    /// Compiles every expression of the file, so that its errors are reported with the rest and
    /// point inside the YAML scalar; checks that conditions are conditions; warns about
    /// conditions that read no variable.
    ///
    /// The programs are thrown away: `PipelineCompiler` compiles what runs against the real
    /// field table. Here the table is a scratch one (with placeholders when `events` is broken),
    /// which changes no diagnostic.
    mutating func checkExpressions(events: EventsSpec?) {
        var fields = FieldPaths()
        let customer = fields.intern(events?.customer.value ?? ["\u{0}customer"])
        let type = fields.intern(events?.type.value ?? ["\u{0}type"])
        for (expression, warnIfConstant) in expressions {
            var env = ExprEnvironment(fields: fields, typeField: type, customerField: customer)
            switch ExprCompiler.compile(expression.text, in: &env) {
            case .failure(let errors):
                // 'profile' and 'journey' are the language's, without a runtime yet: like a
                // key without a runtime, they are refused for a run but accepted when the
                // whole language is (`cairn eval --pipeline` reads such a file's mapping).
                for (item, diagnostic) in zip(errors.items, place(errors, of: expression)) {
                    if item.awaitsRuntime {
                        unsupported.append(diagnostic)
                    } else {
                        diagnostics.append(diagnostic)
                    }
                }
            case .success(let program):
                let firstLine = width(String(expression.text.prefix { $0 != "\n" }))
                if expression.kind == .condition, program.resultType != .bool, program.resultType != .dyn {
                    error(at: expression.location,
                          "\(expression.role) must be a condition, but it is of type '\(program.resultType.name)'",
                          length: firstLine, hint: "a condition is true or false, e.g. type == \"purchase\"")
                } else if warnIfConstant, case .success(let tree) = ExprParser.parse(expression.text),
                          Self.readsNoVariable(tree) {
                    warning(at: expression.location, "\(expression.role) is constant: it reads no variable",
                            length: firstLine,
                            hint: "it has the same value for every event; compare something of the event, e.g. type == \"purchase\"")
                }
            }
        }
    }

    /// Whether an expression names no variable outside the bound variables of CEL's macros
    /// (`event.items.exists(i, i.qty > 1)` reads `event`; `[1, 2].all(x, x > 0)` reads
    /// nothing).
    static func readsNoVariable(_ tree: ExprNode) -> Bool {
        !reads(tree, bound: [])
    }

    private static let macros: Set<String> = ["all", "exists", "exists_one", "map", "filter"]

    private static func reads(_ node: ExprNode, bound: Set<String>) -> Bool {
        switch node.kind {
        case .literal:
            return false
        case .identifier(let name, _):
            return !bound.contains(name)
        case let .call(target, function, _, arguments, _):
            if let target, macros.contains(function), let first = arguments.first,
               case .identifier(let variable, false) = first.kind {
                var inner = bound
                inner.insert(variable)
                return reads(target, bound: bound) || arguments.dropFirst().contains { reads($0, bound: inner) }
            }
            if let target, reads(target, bound: bound) { return true }
            return arguments.contains { reads($0, bound: bound) }
        default:
            // The remaining kinds only combine subexpressions. Written as a default so that a
            // kind added to the grammar later counts as reading a variable (no false warning)
            // rather than breaking the build.
            guard let children = subexpressions(node) else { return true }
            return children.contains { reads($0, bound: bound) }
        }
    }

    private static func subexpressions(_ node: ExprNode) -> [ExprNode]? {
        if case .select(let operand, _, _) = node.kind { return [operand] }
        if case .index(let operand, let index) = node.kind { return [operand, index] }
        if case .list(let elements) = node.kind { return elements }
        if case .map(let entries) = node.kind { return entries.flatMap { [$0.key, $0.value] } }
        if case .message(_, let fields) = node.kind { return fields.map(\.value) }
        if case .unary(_, let operand, _) = node.kind { return [operand] }
        if case .binary(_, let lhs, let rhs, _) = node.kind { return [lhs, rhs] }
        if case .conditional(let c, let t, let e) = node.kind { return [c, t, e] }
        return nil
    }
}
