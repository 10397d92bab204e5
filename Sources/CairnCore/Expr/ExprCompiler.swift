/// Compiles CEL text into a `Program`, checking types statically where they are known.
///
/// See docs/expressions.md for the language cairn supports. Static types: literals, the
/// variables `type`, `customer` (string), `time`, `now` (timestamp), `event` (map), the
/// profile fields (`profile.NAME`, typed by their aggregate, see `ExprEnvironment.profile`)
/// and the results of functions are known; event fields, extra variables and iteration
/// variables are `dyn`. Operators and functions with known operand types are checked against CEL's
/// overloads (`"a" < 1` is an error); `==` and `!=` accept any pair (values of different
/// types are unequal). JSON numbers are doubles under CEL's JSON mapping, so
/// `event.qty + 1` could only fail at runtime: the compiler reports an int or uint operand of
/// arithmetic with a JSON value up front, with the hint to write `1.0`.
///
/// Everything the grammar accepts that cairn does not support is reported at the construct
/// that uses it, with its exact source range.
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
        var compiler = ExprCompilation(env: env)
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

    /// The built-in variables.
    static let variables = ["event", "type", "customer", "time", "now"]
    /// CEL's type names usable as values (`type(x) == int`); `type` itself is cairn's variable.
    static let typeNames: [String: TypeTag] = [
        "int": .int, "uint": .uint, "double": .double, "bool": .bool, "string": .string, "bytes": .bytes,
        "list": .list, "map": .map, "null_type": .null,
    ]
}

/// One compiled subexpression: its node, its static type (nil after a reported error, so
/// that one mistake gives one diagnostic), and what the specialisations need to know.
struct Compiled {
    var index: Int32
    var type: ExprType?
    /// Set for literals: the written value.
    var literal: ExprNode.Literal? = nil
    /// Set when the node loads an event field (`field`) or a string variable.
    var field: FieldID? = nil
    var isStringVariable = false
    /// The value comes from JSON (the event, an extra variable, or an element of them), so
    /// its numbers are doubles.
    var fromJSON = false
}

/// The state of compiling one expression.
struct ExprCompilation {
    var env: ExprEnvironment
    var diagnostics: [ExprDiagnostic] = []
    var nodes: [ProgramInstruction] = []
    var constants: [Value] = []
    var bytes: [UInt8] = []
    var operands: [Int32] = []
    var zones: [CELTimeZone] = []
    var regexes: [CELRegex] = []
    var fieldNames: [FieldID: String] = [:]
    /// Iteration variables in scope, innermost last.
    var locals: [(name: String, slot: Int32, fromJSON: Bool)] = []
    var localCount = 0
    var readsVariable = false

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
        return Program(resultType: type, isConstant: !readsVariable, nodes: nodes, constants: constants,
                       bytes: bytes, operands: operands, zones: zones, regexes: regexes, root: root,
                       localCount: localCount, fieldNames: fieldNames)
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
        fieldNames[id] = path.isEmpty ? "event" : path.joined(separator: ".")
        return id
    }

    /// Appends bytes to the program's byte pool; their start.
    mutating func pool(_ text: [UInt8]) -> Int32 {
        let start = Int32(bytes.count)
        bytes.append(contentsOf: text)
        return start
    }

    mutating func constant(_ value: Value, _ type: ExprType, literal: ExprNode.Literal? = nil) -> Compiled {
        constants.append(value)
        return Compiled(index: emit(ProgramInstruction(.constant, Int32(constants.count - 1))), type: type,
                        literal: literal)
    }

    /// The constant value of a node, if it is one.
    func constantValue(_ compiled: Compiled) -> Value? {
        let node = nodes[Int(compiled.index)]
        return node.op == .constant ? constants[Int(node.a)] : nil
    }

    // MARK: Expressions

    mutating func compile(_ node: ExprNode) -> Compiled? {
        switch node.kind {
        case .literal(let literal):
            return compileLiteral(literal, node.range)
        case let .identifier(name, leadingDot):
            return compileIdentifier(name, leadingDot: leadingDot, node.range)
        case let .select(operand, field, fieldRange):
            if let path = eventPath(node) { return loadField(path) }
            if isProfile(operand) { return loadProfileField(field, fieldRange, profileRange: operand.range) }
            if isJourney(operand) { return loadJourneyField(field, fieldRange, journeyRange: operand.range) }
            if !locals.contains(where: { $0.name == "google" }),
               let tag = ["google.protobuf.Timestamp": TypeTag.timestamp,
                          "google.protobuf.Duration": .duration][dottedName(node) ?? ""] {
                return constant(.type(tag), .type)
            }
            guard let base = compile(operand), let type = base.type else { return nil }
            guard type == .map || type == .dyn else {
                return report("type '\(type.name)' does not support field selection", fieldRange)
            }
            let start = pool(Array(field.utf8))
            return Compiled(index: emit(ProgramInstruction(.select, base.index, start, Int32(field.utf8.count))),
                            type: .dyn, fromJSON: base.fromJSON || type == .map)
        case let .index(operand, key):
            if let path = eventPath(node) { return loadField(path) }
            if isProfile(operand) {
                var hint = "read a profile field as profile.NAME"
                if case .literal(.string(let text)) = key.kind {
                    let name = String(decoding: text, as: UTF8.self)
                    let identifier = name.utf8.first.map { !(0x30...0x39).contains($0) } == true
                        && name.utf8.allSatisfy { $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
                    if identifier { hint = "write profile.\(name)" }
                }
                return profileMisuse(operand.range, node.range, "profile fields are read as profile.NAME, not by index",
                                     hint: hint)
            }
            if isJourney(operand) {
                var hint = "read a journey field as journey.NAME"
                if case .literal(.string(let text)) = key.kind,
                   let field = ExprJourney.fields.first(where: { $0.name == String(decoding: text, as: UTF8.self) }) {
                    hint = "write journey.\(field.name)"
                }
                return journeyMisuse(operand.range, node.range, "journey fields are read as journey.NAME, not by index",
                                     hint: hint)
            }
            let base = compile(operand)
            let index = compile(key)
            guard let base, let index, let bt = base.type, let kt = index.type else { return nil }
            let ok: Bool
            switch bt {
            case .list: ok = [.int, .uint, .double, .dyn].contains(kt)
            case .map: ok = [.int, .uint, .double, .bool, .string, .dyn].contains(kt)
            case .dyn: ok = true
            default: ok = false
            }
            guard ok else { return overloadError("[]", [bt, kt], key.range) }
            return Compiled(index: emit(ProgramInstruction(.index, base.index, index.index)), type: .dyn,
                            fromJSON: base.fromJSON || (bt == .map && base.field != nil))
        case let .call(target, function, functionRange, arguments, _):
            return compileCall(target, function, functionRange, arguments, node.range)
        case .list(let elements):
            return compileList(elements)
        case .map(let entries):
            return compileMap(entries)
        case .message:
            return report("message literals are not supported", node.range)
        case let .unary(op, operand, operatorRange):
            return compileUnary(op, operand, operatorRange)
        case let .binary(op, lhs, rhs, operatorRange):
            return compileBinary(op, lhs, rhs, operatorRange)
        case let .conditional(condition, then, otherwise):
            return compileConditional(condition, then, otherwise)
        }
    }

    mutating func compileLiteral(_ literal: ExprNode.Literal, _ range: SourceRange) -> Compiled? {
        switch literal {
        case .int(let v): return constant(.int(v), .int, literal: literal)
        case .uint(let v): return constant(.uint(v), .uint, literal: literal)
        case .double(let v): return constant(.double(v), .double, literal: literal)
        case .bool(let v): return constant(.bool(v), .bool, literal: literal)
        case .null: return constant(.null, .null, literal: literal)
        case .string(let text):
            let start = pool(text)
            return constant(.string(StringSpan(origin: .program, escaped: false, start: start, count: Int32(text.count))),
                            .string, literal: literal)
        case .bytes(let data):
            let start = pool(data)
            return constant(.bytes(StringSpan(origin: .program, escaped: false, start: start, count: Int32(data.count))),
                            .bytes, literal: literal)
        }
    }

    /// `event` as a whole or `event.a.b`: a field load; sets `readsVariable`.
    mutating func loadField(_ path: [String]) -> Compiled {
        readsVariable = true
        let id = intern(path)
        return Compiled(index: emit(ProgramInstruction(.field, Int32(id))), type: path.isEmpty ? .map : .dyn,
                        field: id, fromJSON: true)
    }

    mutating func compileIdentifier(_ name: String, leadingDot: Bool, _ range: SourceRange) -> Compiled? {
        if !leadingDot, let local = locals.last(where: { $0.name == name }) {
            return Compiled(index: emit(ProgramInstruction(.local, local.slot)), type: .dyn, fromJSON: local.fromJSON)
        }
        if !env.hasEventMapping, ["type", "customer", "time", "now"].contains(name) {
            return report(
                "'\(name)' needs the pipeline's event mapping", range,
                hint: "give the pipeline with --pipeline FILE, or select the field from 'event', e.g. 'event.\(name)'")
        }
        switch name {
        case "type", "customer":
            readsVariable = true
            let id = name == "type" ? env.typeField : env.customerField
            if fieldNames[id] == nil {
                fieldNames[id] = env.fields.paths.indices.contains(id)
                    ? env.fields.paths[id].joined(separator: ".") : name
            }
            return Compiled(index: emit(ProgramInstruction(.stringVariable, Int32(id))), type: .string,
                            field: id, isStringVariable: true)
        case "event":
            return loadField([])
        case "time", "now":
            readsVariable = true
            return Compiled(index: emit(ProgramInstruction(.eventTime)), type: .timestamp)
        default:
            if let k = env.variables.firstIndex(of: name) {
                readsVariable = true
                return Compiled(index: emit(ProgramInstruction(.variable, Int32(k))), type: .dyn, fromJSON: true)
            }
            if let tag = ExprCompiler.typeNames[name] {
                return constant(.type(tag), .type)
            }
            if name == "profile" {
                return profileMisuse(range, range, "'profile' is not a value: read one of its fields as profile.NAME",
                                     hint: profileNamesHint())
            }
            if name == "journey" {
                return journeyMisuse(range, range, "'journey' is not a value: read one of its fields as journey.NAME",
                                     hint: journeyNamesHint)
            }
            return report("undeclared reference to '\(name)'", range, hint: suggestion(for: name))
        }
    }

    // MARK: Profile

    /// Whether `node` is the variable `profile` (not an iteration variable of that name).
    func isProfile(_ node: ExprNode) -> Bool {
        guard case .identifier("profile", false) = node.kind else { return false }
        return !locals.contains { $0.name == "profile" }
    }

    /// `profile.NAME`: a load of the field's value for this event, of the field's static type.
    mutating func loadProfileField(_ name: String, _ nameRange: SourceRange, profileRange: SourceRange) -> Compiled? {
        switch env.profile {
        case let .unavailable(message, hint):
            return report(message, profileRange, hint: hint)
        case .fields(let fields):
            guard let k = fields.firstIndex(where: { $0.name == name }) else {
                let names = fields.map(\.name)
                let hint = Suggestion.closest(to: name, among: names).map { "did you mean '\($0)'?" }
                    ?? (names.isEmpty ? "declare it under 'profile' in the pipeline"
                        : "declare it under 'profile', or use one of \(names.map { "'\($0)'" }.joined(separator: ", "))")
                return report("undeclared profile field '\(name)'", nameRange, hint: hint)
            }
            readsVariable = true
            return Compiled(index: emit(ProgramInstruction(.profile, Int32(k))), type: fields[k].type)
        }
    }

    /// `profile` used other than as `profile.NAME`: where the profile is unavailable, that
    /// message at the `profile` token; else `message` over `range`.
    mutating func profileMisuse(_ profileRange: SourceRange, _ range: SourceRange, _ message: String,
                                hint: String?) -> Compiled? {
        if case let .unavailable(unavailable, unavailableHint) = env.profile {
            return report(unavailable, profileRange, hint: unavailableHint)
        }
        return report(message, range, hint: hint)
    }

    // MARK: Journey

    /// Whether `node` is the variable `journey` (not an iteration variable of that name).
    func isJourney(_ node: ExprNode) -> Bool {
        guard case .identifier("journey", false) = node.kind else { return false }
        return !locals.contains { $0.name == "journey" }
    }

    /// `journey.NAME`: a load of the instance's field, of the field's static type.
    mutating func loadJourneyField(_ name: String, _ nameRange: SourceRange, journeyRange: SourceRange) -> Compiled? {
        if case let .unavailable(message, hint) = env.journey { return report(message, journeyRange, hint: hint) }
        guard let field = ExprJourney.fields.first(where: { $0.name == name }) else {
            let names = ExprJourney.fields.map(\.name)
            let hint = Suggestion.closest(to: name, among: names).map { "did you mean '\($0)'?" } ?? journeyNamesHint
            return report("'journey' has no field '\(name)'", nameRange, hint: hint)
        }
        readsVariable = true
        return Compiled(index: emit(ProgramInstruction(.journey, Int32(field.rawValue))), type: field.type)
    }

    /// `journey` used other than as `journey.NAME`: where it is unavailable, that message at the
    /// `journey` token; else `message` over `range`.
    mutating func journeyMisuse(_ journeyRange: SourceRange, _ range: SourceRange, _ message: String,
                                hint: String?) -> Compiled? {
        if case let .unavailable(unavailable, unavailableHint) = env.journey {
            return report(unavailable, journeyRange, hint: unavailableHint)
        }
        return report(message, range, hint: hint)
    }

    /// The hint for a bare or misspelt `journey`: its field names.
    var journeyNamesHint: String {
        "the journey fields are " + ExprJourney.fields.map { "journey.\($0.name)" }.joined(separator: ", ")
    }

    /// The hint for a bare `profile`: its field names.
    func profileNamesHint() -> String {
        guard case .fields(let fields) = env.profile, !fields.isEmpty else {
            return "declare profile fields under 'profile' in the pipeline and read them as profile.NAME"
        }
        let shown = fields.prefix(5).map { "profile.\($0.name)" }.joined(separator: ", ")
        return "the profile fields are \(shown)\(fields.count > 5 ? ", ..." : "")"
    }

    func suggestion(for name: String) -> String {
        let candidates = ExprCompiler.variables + ["journey"] + env.variables + locals.map(\.name)
        if let near = Suggestion.closest(to: name, among: candidates) ?? Suggestion.closest(to: name.lowercased(), among: candidates) {
            return "did you mean '\(near)'?"
        }
        return "event fields are selected from 'event', e.g. 'event.\(name)'; the variables are "
            + "'event', 'type', 'customer', 'time' and 'now'"
    }

    /// `a.b.c` for a chain of selections on an identifier (a qualified name); nil otherwise.
    func dottedName(_ node: ExprNode) -> String? {
        switch node.kind {
        case let .identifier(name, _): return name
        case let .select(operand, field, _): return dottedName(operand).map { "\($0).\(field)" }
        default: return nil
        }
    }

    /// The path of `event.a.b` / `event["a"]["b"]` chains; nil for anything else (or when an
    /// iteration variable named `event` hides the variable).
    func eventPath(_ node: ExprNode) -> [String]? {
        switch node.kind {
        case .identifier("event", false):
            return locals.contains { $0.name == "event" } ? nil : []
        case let .select(operand, field, _):
            return eventPath(operand).map { $0 + [field] }
        case let .index(operand, key):
            guard case .literal(.string(let text)) = key.kind else { return nil }
            return eventPath(operand).map { $0 + [String(decoding: text, as: UTF8.self)] }
        default:
            return nil
        }
    }

    // MARK: Lists and maps

    mutating func compileList(_ elements: [ExprNode]) -> Compiled? {
        var compiled: [Compiled] = []
        var failed = false
        for element in elements {
            if let c = compile(element), c.type != nil { compiled.append(c) } else { failed = true }
        }
        guard !failed else { return nil }
        // A list of literals is a constant: its elements sit in the constants, nothing is
        // built per event.
        let values = compiled.compactMap(constantValue)
        if values.count == compiled.count {
            let start = Int32(constants.count)
            constants.append(contentsOf: values)
            return constant(.list(ValueRef(origin: .program, start: start, count: Int32(values.count))), .list)
        }
        let start = Int32(operands.count)
        operands.append(contentsOf: compiled.map(\.index))
        return Compiled(index: emit(ProgramInstruction(.makeList, 0, start, Int32(compiled.count))), type: .list)
    }

    mutating func compileMap(_ entries: [ExprNode.MapEntry]) -> Compiled? {
        var indices: [Int32] = []
        var failed = false
        for entry in entries {
            let key = compile(entry.key)
            let value = compile(entry.value)
            guard let key, let value, let kt = key.type, value.type != nil else {
                failed = true
                continue
            }
            guard [.int, .uint, .bool, .string, .dyn].contains(kt) else {
                _ = report("unsupported map key type '\(kt.name)'", entry.key.range,
                           hint: "map keys are int, uint, bool or string")
                failed = true
                continue
            }
            indices += [key.index, value.index]
        }
        guard !failed else { return nil }
        let start = Int32(operands.count)
        operands.append(contentsOf: indices)
        return Compiled(index: emit(ProgramInstruction(.makeMap, 0, start, Int32(entries.count))), type: .map)
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
            guard type == .int || type == .double || type == .duration || type == .dyn else {
                return overloadError("-", [type], range)
            }
            return Compiled(index: emit(ProgramInstruction(.negate, operand.index)), type: type,
                            fromJSON: operand.fromJSON)
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
            let orderable: Set<ExprType> = [.int, .uint, .double, .string, .bool, .bytes, .timestamp, .duration]
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
            Compiled(index: emit(ProgramInstruction(opcode, lhs.index, rhs.index)), type: type,
                     fromJSON: lhs.fromJSON || rhs.fromJSON)
        }
        // JSON numbers are doubles: an int or uint meeting a JSON operand can only fail.
        for (side, other, otherJSON, node) in [(lhs, rt, rhs.fromJSON, lhsNode), (rhs, lt, lhs.fromJSON, rhsNode)]
        where other == .dyn && otherJSON && (side.type == .int || side.type == .uint) {
            let hint: String
            switch side.literal {
            case .int(let v): hint = "JSON numbers are doubles in CEL; write \(v).0"
            case .uint(let v): hint = "JSON numbers are doubles in CEL; write \(v).0"
            default: hint = "JSON numbers are doubles in CEL; write double literals such as 1.0"
            }
            return overloadError(op.rawValue, [lt, rt], node.range, hint: hint)
        }
        let known = lt == .dyn ? rt : lt
        if lt != .dyn && rt != .dyn {
            switch (op, lt, rt) {
            case (.add, .string, .string), (.add, .bytes, .bytes), (.add, .list, .list): return emitted(lt)
            case (.add, .timestamp, .duration), (.add, .duration, .timestamp), (.subtract, .timestamp, .duration):
                return emitted(.timestamp)
            case (.subtract, .timestamp, .timestamp), (.add, .duration, .duration), (.subtract, .duration, .duration):
                return emitted(.duration)
            case (.remainder, .double, .double): return overloadError(op.rawValue, [lt, rt], range)
            case (_, .int, .int), (_, .uint, .uint), (_, .double, .double): return emitted(lt)
            default: return overloadError(op.rawValue, [lt, rt], range)
            }
        }
        // One side (or both) dyn: accept what some overload could take.
        switch known {
        case .dyn: return emitted(.dyn)
        case .double: return op == .remainder ? overloadError(op.rawValue, [lt, rt], range) : emitted(.double)
        case .int, .uint: return emitted(known)
        case .string, .bytes, .list:
            return op == .add ? emitted(known) : overloadError(op.rawValue, [lt, rt], range)
        case .timestamp, .duration:
            return op == .add || op == .subtract ? emitted(.dyn) : overloadError(op.rawValue, [lt, rt], range)
        default: return overloadError(op.rawValue, [lt, rt], range)
        }
    }

    mutating func compileIn(_ lhsNode: ExprNode, _ rhsNode: ExprNode, _ range: SourceRange) -> Compiled? {
        let lhs = compile(lhsNode)
        if case .list(let elements) = rhsNode.kind {
            // `x in [a, b]`: compared element by element, nothing is built.
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
        let rhs = compile(rhsNode)
        guard let lhs, let rhs, let lt = lhs.type, let rt = rhs.type else { return nil }
        guard rt == .list || rt == .map || rt == .dyn else { return overloadError("in", [lt, rt], range) }
        return Compiled(index: emit(ProgramInstruction(.inValue, lhs.index, rhs.index)), type: .bool)
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
                        type: type, fromJSON: then.fromJSON || otherwise.fromJSON)
    }
}
