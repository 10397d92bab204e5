extension PipelineLoader {
    /// Compiles every expression of the file, so that its errors are reported with the rest and
    /// point inside the YAML scalar; checks that conditions are conditions; warns about
    /// conditions that read no variable.
    ///
    /// The programs are thrown away: `PipelineCompiler` compiles what runs against the real
    /// field table. Here the table is a scratch one (with placeholders when `events` is broken),
    /// which changes no diagnostic.
    ///
    /// Aggregate expressions cannot read the profile; the others read it with the types
    /// `CompiledPipeline.ProfileField.type` gives (`dyn` for a field whose definition is
    /// broken, so that its uses are not reported a second time).
    mutating func checkExpressions(events: EventsSpec?, profile: [ProfileFieldSpec]) {
        var fields = FieldPaths()
        let customer = fields.intern(events?.customer.value ?? ["\u{0}customer"])
        let type = fields.intern(events?.type.value ?? ["\u{0}type"])
        let scratch = ExprEnvironment(fields: fields, typeField: type, customerField: customer)
        let types = profileTypes(profile, in: scratch)
        let readable = ExprProfile.fields(profileNames.map { name in
            ExprProfile.Field(name: name, type: types[name] ?? .dyn)
        })
        for (expression, warnIfConstant, profileField) in expressions {
            var env = scratch
            env.profile = profileField.map(CompiledPipeline.ProfileField.unreadableProfile) ?? readable
            env.journey = expression.journey
            switch ExprCompiler.compile(expression.text, in: &env) {
            case .failure(let errors):
                diagnostics += place(errors, of: expression)
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

    /// The static type of each valid profile field, by name; reports a `default` that does
    /// not fit the type of a `sum` of ints.
    mutating func profileTypes(_ profile: [ProfileFieldSpec], in env: ExprEnvironment) -> [String: ExprType] {
        var types: [String: ExprType] = [:]
        for field in profile {
            var valueType: ExprType?
            if case .sum(let expression) = field.aggregate {
                var env = env
                env.profile = CompiledPipeline.ProfileField.unreadableProfile(field.name.value)
                valueType = try? ExprCompiler.compile(expression.text, in: &env).get().resultType
            }
            let type = CompiledPipeline.ProfileField.type(of: field.aggregate.kind, valueType: valueType)
            types[field.name.value] = type
            if type == .int, let value = field.defaultValue, case .double(let d) = value.value {
                error(at: value.location, "'default' of profile '\(field.name.value)' is \(d), but the sum of ints is an int",
                      length: plainScalarWidth(at: value.location),
                      hint: "write an integer default, or sum doubles, e.g. sum: double(...)")
            }
        }
        return types
    }

    /// The width of the plain scalar (a number) that starts at `location`, in a block or a
    /// flow mapping.
    func plainScalarWidth(at location: SourceLocation) -> Int {
        guard lines.indices.contains(location.line - 1) else { return 1 }
        let rest = lines[location.line - 1].unicodeScalars.dropFirst(location.column - 1)
        return max(1, rest.prefix { !" \t,}]#".unicodeScalars.contains($0) }.count)
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
