/// Function calls and macros: name resolution, arity and argument types, constant
/// arguments resolved at compile time (time zones, regular expressions, timestamps).
extension ExprCompilation {
    /// How a function may be called and what it accepts.
    struct Signature {
        var function: BuiltinFunction
        /// Callable as `f(x, ...)` (the first argument plays the receiver).
        var global: Bool
        /// Callable as `x.f(...)`.
        var receiver: Bool
        /// Accepted types of the receiver / first argument.
        var accepts: Set<ExprType>
        /// Number of arguments after the receiver / first: allowed counts, and their types.
        var extra: [[ExprType]]
        var result: ExprType
    }

    static let accessors: [String: BuiltinFunction] = [
        "getFullYear": .getFullYear, "getMonth": .getMonth, "getDate": .getDate,
        "getDayOfMonth": .getDayOfMonth, "getDayOfWeek": .getDayOfWeek, "getDayOfYear": .getDayOfYear,
        "getHours": .getHours, "getMinutes": .getMinutes, "getSeconds": .getSeconds,
        "getMilliseconds": .getMilliseconds,
    ]

    static let signatures: [String: Signature] = {
        var table: [String: Signature] = [
            "size": Signature(function: .size, global: true, receiver: true,
                              accepts: [.string, .bytes, .list, .map], extra: [[]], result: .int),
            "contains": Signature(function: .contains, global: false, receiver: true,
                                  accepts: [.string], extra: [[.string]], result: .bool),
            "startsWith": Signature(function: .startsWith, global: false, receiver: true,
                                    accepts: [.string], extra: [[.string]], result: .bool),
            "endsWith": Signature(function: .endsWith, global: false, receiver: true,
                                  accepts: [.string], extra: [[.string]], result: .bool),
            "matches": Signature(function: .matches, global: true, receiver: true,
                                 accepts: [.string], extra: [[.string]], result: .bool),
            "int": Signature(function: .toInt, global: true, receiver: false,
                             accepts: [.int, .uint, .double, .string, .timestamp, .duration], extra: [[]], result: .int),
            "uint": Signature(function: .toUInt, global: true, receiver: false,
                              accepts: [.int, .uint, .double, .string], extra: [[]], result: .uint),
            "double": Signature(function: .toDouble, global: true, receiver: false,
                                accepts: [.int, .uint, .double, .string], extra: [[]], result: .double),
            "string": Signature(function: .toString, global: true, receiver: false,
                                accepts: [.int, .uint, .double, .bool, .string, .bytes, .timestamp, .duration],
                                extra: [[]], result: .string),
            "bytes": Signature(function: .toBytes, global: true, receiver: false,
                               accepts: [.string, .bytes], extra: [[]], result: .bytes),
            "bool": Signature(function: .toBool, global: true, receiver: false,
                              accepts: [.bool, .string], extra: [[]], result: .bool),
            "timestamp": Signature(function: .toTimestamp, global: true, receiver: false,
                                   accepts: [.string, .timestamp, .int], extra: [[]], result: .timestamp),
            "duration": Signature(function: .toDuration, global: true, receiver: false,
                                  accepts: [.string, .duration, .int], extra: [[]], result: .duration),
            "dyn": Signature(function: .dyn, global: true, receiver: false,
                             accepts: [], extra: [[]], result: .dyn),
            "type": Signature(function: .typeOf, global: true, receiver: false,
                              accepts: [], extra: [[]], result: .type),
        ]
        for (name, function) in accessors {
            let durationToo = [.getHours, .getMinutes, .getSeconds, .getMilliseconds].contains(function)
            table[name] = Signature(function: function, global: false, receiver: true,
                                    accepts: durationToo ? [.timestamp, .duration] : [.timestamp],
                                    extra: [[], [.string]], result: .int)
        }
        return table
    }()

    static let macros: Set<String> = ["all", "exists", "exists_one", "map", "filter"]

    mutating func compileCall(_ target: ExprNode?, _ function: String, _ functionRange: SourceRange,
                              _ arguments: [ExprNode], _ range: SourceRange) -> Compiled? {
        if target == nil && function == "has" {
            guard arguments.count == 1 else {
                return report("has() takes exactly one argument", functionRange,
                              hint: "has() takes a field selection such as has(event.a.b)")
            }
            return compileHas(arguments[0])
        }
        if let target, Self.macros.contains(function) {
            return compileMacro(target, function, functionRange, arguments)
        }
        guard let signature = Self.signatures[function] else {
            // Compile the arguments anyway, so their own mistakes are reported too.
            if let target { _ = compile(target) }
            for argument in arguments { _ = compile(argument) }
            let names = Array(Self.signatures.keys) + Array(Self.macros) + ["has"]
            let hint = Suggestion.closest(to: function, among: names.sorted()).map { "did you mean '\($0)'?" }
            return report("undeclared reference to '\(function)'", functionRange, hint: hint)
        }
        var all = arguments
        if let target { all.insert(target, at: 0) }
        var compiled: [Compiled] = []
        var failed = false
        for argument in all {
            if let c = compile(argument), c.type != nil { compiled.append(c) } else { failed = true }
        }
        guard !failed else { return nil }
        let types = compiled.map { $0.type! }
        let styleOK = target == nil ? signature.global : signature.receiver
        let extraTypes = Array(types.dropFirst())
        let arityOK = !types.isEmpty && signature.extra.contains { $0.count == extraTypes.count }
        let typesOK = arityOK && (signature.accepts.isEmpty || types[0] == .dyn || signature.accepts.contains(types[0]))
            && signature.extra.first { $0.count == extraTypes.count }!.enumerated().allSatisfy { k, t in
                extraTypes[k] == t || extraTypes[k] == .dyn
            }
        // Duration accessors take no time zone.
        let zoneOnDuration = types.first == .duration && extraTypes.count == 1 && signature.function.timeField != nil
        guard styleOK, typesOK, !zoneOnDuration else {
            let name = target == nil || !styleOK ? function : "\(types[0].name).\(function)"
            let shown = target == nil || !styleOK ? types : extraTypes
            return overloadError(name, shown, functionRange)
        }
        return emitCall(signature, compiled, all, functionRange)
    }

    /// Emits a call whose types checked, resolving constant arguments where that helps.
    mutating func emitCall(_ signature: Signature, _ arguments: [Compiled], _ nodes: [ExprNode],
                           _ functionRange: SourceRange) -> Compiled? {
        let function = signature.function
        var result = signature.result
        // Literal arguments resolved once, with errors at compile time.
        if function == .matches, case .string(let text)? = arguments[1].literal {
            let pattern = String(decoding: text, as: UTF8.self)
            guard let regex = CELRegex(pattern) else {
                return report("invalid regular expression '\(pattern)'", nodes[1].range,
                              hint: CELRegex.problem(in: pattern) ?? "patterns use RE2 syntax, e.g. '^[a-z]+-[0-9]+$'")
            }
            regexes.append(regex)
            let start = Int32(operands.count)
            operands.append(arguments[0].index)
            return Compiled(index: emit(ProgramInstruction(.matchesLiteral, Int32(regexes.count - 1), start)),
                            type: .bool)
        }
        if function.timeField != nil, arguments.count == 2, case .string(let text)? = arguments[1].literal {
            let name = String(decoding: text, as: UTF8.self)
            guard let zone = CELTimeZone.named(name) else {
                return report("unknown time zone '\(name)'", nodes[1].range,
                              hint: "write 'UTC', a fixed offset such as '+05:30', or an IANA name such as 'Europe/Paris'")
            }
            zones.append(zone)
            let start = Int32(operands.count)
            operands += [arguments[0].index, Int32(zones.count - 1)]
            return Compiled(index: emit(ProgramInstruction(.accessorInZone, function.rawValue, start)), type: .int)
        }
        if function == .toTimestamp, case .string(let text)? = arguments[0].literal {
            guard let ns = CELTime.parseTimestamp(String(decoding: text, as: UTF8.self)) else {
                return report("invalid timestamp '\(String(decoding: text, as: UTF8.self))'", nodes[0].range,
                              hint: "write RFC 3339 text such as '2024-03-01T12:00:00Z'")
            }
            return constant(.timestamp(ns), .timestamp)
        }
        if function == .toDuration, case .string(let text)? = arguments[0].literal {
            let written = String(decoding: text, as: UTF8.self)
            guard let ns = CELTime.parseDuration(written) else {
                return report("invalid duration '\(written)'", nodes[0].range, hint: Self.durationHint(written))
            }
            return constant(.duration(ns), .duration)
        }
        if function == .dyn { result = .dyn }
        let start = Int32(operands.count)
        operands.append(contentsOf: arguments.map(\.index))
        return Compiled(index: emit(ProgramInstruction(.call, function.rawValue, start, Int32(arguments.count))),
                        type: result, fromJSON: function == .dyn && arguments[0].fromJSON)
    }

    mutating func compileHas(_ argument: ExprNode) -> Compiled? {
        guard case let .select(operand, field, _) = argument.kind else {
            return report("invalid argument to has() macro", argument.range,
                          hint: "has() takes a field selection such as has(event.a.b)")
        }
        if isProfile(operand) {
            return profileMisuse(operand.range, argument.range, "has() does not apply to profile fields",
                                 hint: "a profile field always has a value (its default, or null, before any event): read profile.\(field)")
        }
        if isJourney(operand) {
            return journeyMisuse(operand.range, argument.range, "has() does not apply to journey fields",
                                 hint: "a journey field always has a value (null for 'key' and 'variant' when there is none): read journey.\(field)")
        }
        if let parentPath = eventPath(operand) {
            readsVariable = true
            let id = intern(parentPath + [field])
            let parent = parentPath.isEmpty ? -1 : Int32(intern(parentPath))
            return Compiled(index: emit(ProgramInstruction(.has, Int32(id), parent)), type: .bool)
        }
        guard let base = compile(operand), let type = base.type else { return nil }
        guard type == .map || type == .dyn else {
            return report("type '\(type.name)' does not support field selection", argument.range)
        }
        let start = pool(Array(field.utf8))
        return Compiled(index: emit(ProgramInstruction(.hasField, base.index, start, Int32(field.utf8.count))),
                        type: .bool)
    }

    mutating func compileMacro(_ target: ExprNode, _ function: String, _ functionRange: SourceRange,
                               _ arguments: [ExprNode]) -> Compiled? {
        let counts = function == "map" ? [2, 3] : [2]
        guard counts.contains(arguments.count) else {
            let expected = function == "map" ? "2 or 3 arguments" : "2 arguments"
            _ = compile(target)
            return report("'\(function)' takes \(expected), got \(arguments.count)", functionRange,
                          hint: "write \(function == "map" ? "list.map(x, x * 2.0)" : "list.\(function)(x, x > 1.0)")")
        }
        guard case .identifier(let name, false) = arguments[0].kind else {
            _ = compile(target)
            return report("the first argument of '\(function)' must be a variable name", arguments[0].range,
                          hint: "write e.g. list.\(function)(x, ...)")
        }
        guard let range = compile(target), let rangeType = range.type else { return nil }
        guard rangeType == .list || rangeType == .map || rangeType == .dyn else {
            return overloadError(function, [rangeType], functionRange,
                                 hint: "'\(function)' iterates over a list or the keys of a map")
        }
        let slot = Int32(localCount)
        localCount += 1
        locals.append((name, slot, range.fromJSON || rangeType == .map && range.field != nil))
        var bodies: [Compiled] = []
        var failed = false
        for (k, body) in arguments.dropFirst().enumerated() {
            guard let c = compile(body), let t = c.type else {
                failed = true
                continue
            }
            let isPredicate = function != "map" || (arguments.count == 3 && k == 0)
            if isPredicate && t != .bool && t != .dyn {
                _ = report("the predicate of '\(function)' must be a bool, not '\(t.name)'", body.range)
                failed = true
                continue
            }
            bodies.append(c)
        }
        locals.removeLast()
        guard !failed else { return nil }
        let kind: MacroKind = switch function {
        case "all": .all
        case "exists": .exists
        case "exists_one": .existsOne
        case "filter": .filter
        default: arguments.count == 3 ? .mapFiltered : .map
        }
        let start = Int32(operands.count)
        operands += [kind.rawValue, range.index, slot, bodies[0].index, bodies.count > 1 ? bodies[1].index : -1]
        let type: ExprType = [.map, .mapFiltered, .filter].contains(kind) ? .list : .bool
        return Compiled(index: emit(ProgramInstruction(.macro, 0, start)), type: type)
    }
}

extension ExprCompilation {
    /// The hint for a `duration("...")` literal CEL cannot read; days and weeks, which pipeline
    /// durations have and CEL's do not, are spelled out in hours.
    static func durationHint(_ written: String) -> String {
        let general = "write a duration such as '1h30m', '90s' or '1.5s' (units h, m, s, ms, us, ns)"
        guard let unit = written.last, unit == "d" || unit == "w",
              let count = Int(written.dropLast()), count > 0, count <= 100_000 else { return general }
        let hours = count * (unit == "d" ? 24 : 168)
        return "CEL durations have no \(unit == "d" ? "days" : "weeks"): write '\(hours)h' for \(written)"
    }
}
