/// A compiled expression: what the per-event path runs.
///
/// Flat arrays only, built once by `ExprCompiler`:
///
///     nodes      [ProgramInstruction]   post-order; children before parents; `root` is evaluated
///     constants  [Value]         literal values (strings as spans into `bytes`), constant lists
///     bytes      [UInt8]         decoded string and bytes literals, field names, back to back
///     operands   [Int32]         node indices of call arguments, list and map elements, `in`
///                                list literals, and macro descriptors
///     zones      [CELTimeZone]   time zones named by literals, resolved at compile time
///     regexes    [CELRegex]      `matches` patterns given as literals, compiled once
///
/// Invariants: every index in an instruction is in range; the arrays are never empty (a
/// sentinel is appended) so their base addresses exist; field ids are below the count of the
/// environment's `FieldPaths` the program was compiled against.
public struct Program: Sendable {
    /// The static type of the result (`bool` for a well-formed condition; `dyn` for an event
    /// field).
    public var resultType: ExprType
    /// True when the expression reads no variable (no event field, `type`, `customer`, `time`,
    /// `now`, profile field, journey field or extra variable): its value is the same for every event, so a condition that
    /// is constant is almost certainly a mistake worth a warning.
    public var isConstant: Bool

    let nodes: [ProgramInstruction]
    let constants: [Value]
    let bytes: [UInt8]
    let operands: [Int32]
    let zones: [CELTimeZone]
    let regexes: [CELRegex]
    let root: Int32
    /// Number of iteration-variable slots the macros use.
    let localCount: Int
    /// Dotted paths of the fields the program reads, for error messages.
    let fieldNames: [FieldID: String]
    /// The same arrays at fixed addresses, for `evaluate`: one reference instead of six
    /// arrays to borrow (and retain) per evaluation.
    let storage: ProgramStorage

    /// The profile fields the program reads (`profile.NAME`), by index: the runner loads
    /// only these per event.
    public var profileFieldsRead: Set<Int> {
        Set(nodes.lazy.filter { $0.op == .profile }.map { Int($0.a) })
    }

    /// The event fields the program reads, sorted, without repeats: the paths it selects from
    /// `event` (for `has(event.a.b)` also `a`), and the type and customer fields when it reads
    /// `type` or `customer`. What a journey instance keeps of the event that entered it
    /// (`CompiledPipeline.Journey.capture`).
    public var fieldsRead: [FieldID] {
        var ids = Set<FieldID>()
        for node in nodes {
            switch node.op {
            case .field, .stringVariable, .fieldEqualString, .fieldNotEqualString, .variableEqualString,
                 .variableNotEqualString:
                ids.insert(FieldID(node.a))
            case .has:
                ids.insert(FieldID(node.a))
                if node.b >= 0 { ids.insert(FieldID(node.b)) }
            default:
                break
            }
        }
        return ids.sorted()
    }

    /// Whether the program reads `journey.NAME`: it needs `Activation.journeyValues`.
    public var readsJourney: Bool { nodes.contains { $0.op == .journey } }

    /// The journey fields the program reads, by `ExprJourney.Field.rawValue`.
    public var journeyFieldsRead: Set<Int> {
        Set(nodes.lazy.filter { $0.op == .journey }.map { Int($0.a) })
    }

    init(
        resultType: ExprType, isConstant: Bool, nodes: [ProgramInstruction], constants: [Value],
        bytes: [UInt8], operands: [Int32], zones: [CELTimeZone], regexes: [CELRegex], root: Int32,
        localCount: Int, fieldNames: [FieldID: String]
    ) {
        self.resultType = resultType
        self.isConstant = isConstant
        self.nodes = nodes
        self.constants = constants
        self.bytes = bytes
        self.operands = operands
        self.zones = zones
        self.regexes = regexes
        self.root = root
        self.localCount = localCount
        self.fieldNames = fieldNames
        self.storage = ProgramStorage(
            nodes: nodes, constants: constants, bytes: bytes, operands: operands, zones: zones,
            regexes: regexes, root: root, localCount: localCount)
    }

    /// Convenience for entry conditions: only `bool(true)` matches; false, other types and
    /// errors do not.
    ///
    /// - Complexity: as `evaluate(_:scratch:)`.
    @inlinable
    public func matches(_ activation: Activation, scratch: EvalScratch) -> Bool {
        if case .bool(true) = evaluate(activation, scratch: scratch) { return true }
        return false
    }

    /// The message of a runtime error, with the field path or key where there is one:
    /// `no such key: 'props.price'`.
    public func message(for error: EvalError) -> String {
        switch error {
        case .noSuchKey(let field): "no such key: '\(fieldNames[field] ?? "?")'"
        case let .noSuchField(start, count):
            "no such key: '\(String(decoding: bytes[Int(start)..<Int(start + count)], as: UTF8.self))'"
        case .notAString(let field): "value at '\(fieldNames[field] ?? "?")' is not a string"
        case .invalidSelection(let field):
            "value at '\(fieldNames[field] ?? "?")' is not an object and does not support field selection"
        default: error.message
        }
    }
}

/// A regular expression for `matches`, compiled once (for literal patterns, at compile time).
///
/// CEL patterns are RE2 syntax; Swift's Regex reads a superset of it. The pattern is
/// translated (`\pL` becomes `\p{L}`) and checked: backreferences and lookaround, which RE2
/// rejects, are rejected here too. Matching is by Unicode scalar, as RE2 matches by code
/// point, and finds the pattern anywhere in the text (RE2's partial match).
struct CELRegex: @unchecked Sendable {
    // SAFETY (Sendable): a Regex is an immutable value once built; matching does not mutate it.
    let regex: Regex<AnyRegexOutput>

    /// nil when `pattern` is not a valid RE2 pattern (see `problem(in:)` for why).
    init?(_ pattern: String) {
        guard case .success(let translated) = Self.translate(pattern),
              let regex = try? Regex(translated) else { return nil }
        self.regex = regex.matchingSemantics(.unicodeScalar)
        // Regex lowers its program lazily on first use; do it now, at compile time, so the
        // per-event path (possibly on several threads) only reads it.
        _ = try? self.regex.firstMatch(in: "")
    }

    /// Why `pattern` is rejected, when the reason is one of RE2's restrictions.
    static func problem(in pattern: String) -> String? {
        if case .failure(let problem) = translate(pattern) { return problem.reason }
        return nil
    }

    /// The pattern in Swift's syntax, or the RE2 rule it breaks.
    static func translate(_ pattern: String) -> Result<String, Problem> {
        let scalars = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        while i < scalars.count {
            let c = scalars[i]
            if c == "\\", i + 1 < scalars.count {
                let next = scalars[i + 1]
                if next.properties.numericType != nil, next != "0", !inClass {
                    return .failure(Problem(reason: "backreferences are not supported (RE2 syntax)"))
                }
                if next == "p" || next == "P", i + 2 < scalars.count, scalars[i + 2] != "{" {
                    out.append(contentsOf: ["\\", next, "{", scalars[i + 2], "}"])
                    i += 3
                    continue
                }
                out.append(c)
                out.append(next)
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
            } else if c == "[" {
                inClass = true
                // A ']' right after '[' or '[^' is a literal member.
                out.append(c)
                i += 1
                if i < scalars.count, scalars[i] == "^" {
                    out.append(scalars[i])
                    i += 1
                }
                if i < scalars.count, scalars[i] == "]" {
                    out.append(scalars[i])
                    i += 1
                }
                continue
            } else if c == "(", i + 2 < scalars.count, scalars[i + 1] == "?" {
                let k = scalars[i + 2]
                let lookbehind = k == "<" && i + 3 < scalars.count && (scalars[i + 3] == "=" || scalars[i + 3] == "!")
                if k == "=" || k == "!" || lookbehind {
                    return .failure(Problem(reason: "lookahead and lookbehind are not supported (RE2 syntax)"))
                }
            }
            out.append(c)
            i += 1
        }
        return .success(String(out))
    }

    /// A construct RE2 does not accept.
    struct Problem: Error {
        var reason: String
    }

    /// RE2's `matches`: true when the pattern matches any substring.
    func matches(_ text: String) -> Bool {
        (try? regex.firstMatch(in: text)) != nil
    }
}

/// One node of a compiled program: an opcode and up to three operands whose meaning depends
/// on the opcode (child node indices, a field id, a constant index, a byte span).
struct ProgramInstruction: Equatable, Sendable {
    var op: ProgramOpcode
    var a: Int32
    var b: Int32
    var c: Int32

    init(_ op: ProgramOpcode, _ a: Int32 = 0, _ b: Int32 = 0, _ c: Int32 = 0) {
        self.op = op
        self.a = a
        self.b = b
        self.c = c
    }
}

enum ProgramOpcode: UInt8, Sendable {
    /// `constants[a]`.
    case constant
    /// The JSON value at field `a` (`event.x.y`, `event` itself): any JSON kind; absent → error.
    case field
    /// The string variable at field `a` (`type`, `customer`): non-strings are errors.
    case stringVariable
    /// The event time as a timestamp (`time`, `now`).
    case eventTime
    /// Extra variable number `a`.
    case variable
    /// Profile field number `a` (`profile.NAME`): `Activation.profileValues[a]`.
    case profile
    /// Journey field number `a` (`journey.NAME`, see `ExprJourney.Field`): `Activation.journeyValues[a]`.
    case journey
    /// Iteration variable slot `a`.
    case local
    /// `has(...)`: field `a` present; `b` is the parent field id (checked to be an object) or -1.
    case has
    /// `has(e.f)` on a computed `e` (node `a`); the name is `bytes[b ..< b + c]`.
    case hasField
    /// `e.f` on a computed `e` (node `a`); the name is `bytes[b ..< b + c]`.
    case select
    /// `a[b]`.
    case index
    case not, negate            // a
    case and, or                // a, b
    case conditional            // a ? b : c
    case equal, notEqual, less, lessEqual, greater, greaterEqual   // a, b
    case add, subtract, multiply, divide, remainder                // a, b
    /// `a in [...]`; the elements are node indices `operands[b ..< b + c]`.
    case inList
    /// `a in b` for a list or map value `b`.
    case inValue
    /// Specialised `field == "literal"` / `!=`: field `a`, literal bytes `bytes[b ..< b + c]`.
    case fieldEqualString, fieldNotEqualString
    /// The same for the string variables `type` and `customer`.
    case variableEqualString, variableNotEqualString
    /// A list of the nodes `operands[b ..< b + c]`, built in the scratch.
    case makeList
    /// A map of `c` entries, key and value nodes in `operands[b ..< b + 2c]`.
    case makeMap
    /// Function `BuiltinFunction(rawValue: a)` of the argument nodes `operands[b ..< b + c]`
    /// (a receiver is the first argument).
    case call
    /// A timestamp accessor `BuiltinFunction(rawValue: a)` of node `operands[b]` in
    /// `zones[operands[b + 1]]`.
    case accessorInZone
    /// `operands[b]` `.matches(regexes[a])`.
    case matchesLiteral
    /// A macro: `operands[b ..< b + 5]` = kind (`MacroKind`), range node, slot, first body
    /// node, second body node (or -1).
    case macro
}

/// The functions a `.call` instruction runs.
enum BuiltinFunction: Int32, Sendable {
    case size, contains, startsWith, endsWith, matches
    case toInt, toUInt, toDouble, toString, toBytes, toBool, toTimestamp, toDuration, dyn, typeOf
    case getFullYear, getMonth, getDate, getDayOfMonth, getDayOfWeek, getDayOfYear
    case getHours, getMinutes, getSeconds, getMilliseconds

    /// The calendar field of a timestamp accessor.
    var timeField: CELTime.Field? {
        switch self {
        case .getFullYear: .fullYear
        case .getMonth: .month
        case .getDate: .date
        case .getDayOfMonth: .dayOfMonth
        case .getDayOfWeek: .dayOfWeek
        case .getDayOfYear: .dayOfYear
        case .getHours: .hours
        case .getMinutes: .minutes
        case .getSeconds: .seconds
        case .getMilliseconds: .milliseconds
        default: nil
        }
    }
}

/// The comprehension macros.
enum MacroKind: Int32, Sendable {
    case all, exists, existsOne, map, mapFiltered, filter
}

/// A program's arrays copied once to fixed heap addresses, freed with the last copy of the
/// program. Immutable after init, so it may be shared between threads.
final class ProgramStorage: @unchecked Sendable {
    let nodes: UnsafeMutableBufferPointer<ProgramInstruction>
    let constants: UnsafeMutableBufferPointer<Value>
    let bytes: UnsafeMutableRawBufferPointer
    let operands: UnsafeMutableBufferPointer<Int32>
    let zones: UnsafeMutableBufferPointer<CELTimeZone>
    let regexes: UnsafeMutableBufferPointer<CELRegex>
    let root: Int32
    let localCount: Int
    /// Read-only views of `zones` and `regexes`, made once (converting per evaluation
    /// costs a metadata lookup each time).
    let zonesView: UnsafeBufferPointer<CELTimeZone>
    let regexesView: UnsafeBufferPointer<CELRegex>

    init(nodes: [ProgramInstruction], constants: [Value], bytes: [UInt8], operands: [Int32],
         zones: [CELTimeZone], regexes: [CELRegex], root: Int32, localCount: Int) {
        self.nodes = .copying(nodes)
        self.constants = .copying(constants)
        self.operands = .copying(operands)
        self.zones = .copying(zones)
        self.regexes = .copying(regexes)
        self.bytes = UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer.copying(bytes))
        self.root = root
        self.localCount = localCount
        self.zonesView = UnsafeBufferPointer(self.zones)
        self.regexesView = UnsafeBufferPointer(self.regexes)
    }

    deinit {
        nodes.deinitialize().deallocate()
        constants.deinitialize().deallocate()
        operands.deinitialize().deallocate()
        zones.deinitialize().deallocate()
        regexes.deinitialize().deallocate()
        bytes.deallocate()
    }
}
