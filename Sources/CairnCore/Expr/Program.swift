/// A compiled expression: what the per-event path runs.
///
/// Flat arrays only, built once by `ExprCompiler`:
///
///     nodes      [ProgramInstruction]   post-order; children before parents; `root` is evaluated
///     constants  [Value]         literal values (strings as spans into `bytes`)
///     bytes      [UInt8]         decoded string literal bytes, back to back
///     operands   [Int32]         node indices of the elements of `in` list literals
///
/// Invariants: every index in an instruction is in range; the arrays are never empty (a
/// sentinel is appended) so their base addresses exist; field ids are below the count of the
/// environment's `FieldPaths` the program was compiled against.
public struct Program: Sendable {
    /// The static type of the result (`bool` for a well-formed condition; `dyn` for an event
    /// field).
    public var resultType: ExprType

    var nodes: [ProgramInstruction]
    var constants: [Value]
    var bytes: [UInt8]
    var operands: [Int32]
    var root: Int32
    /// Dotted paths of the fields the program reads, for error messages.
    var fieldNames: [FieldID: String]

    /// Convenience for entry conditions: only `bool(true)` matches; false, other types and
    /// errors do not.
    ///
    /// - Complexity: as `evaluate(_:)`; no allocation.
    @inlinable
    public func matches(_ activation: Activation) -> Bool {
        if case .bool(true) = evaluate(activation) { return true }
        return false
    }

    /// The message of a runtime error, with the field path where there is one:
    /// `no such key: 'props.price'`.
    public func message(for error: EvalError) -> String {
        switch error {
        case .noSuchKey(let field): "no such key: '\(fieldNames[field] ?? "?")'"
        case .notAString(let field): "value at '\(fieldNames[field] ?? "?")' is not a string"
        case .invalidSelection(let field):
            "value at '\(fieldNames[field] ?? "?")' is not an object and does not support field selection"
        default: error.message
        }
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
    /// The JSON value at field `a` (`event.x.y`): string, double, bool, null; absent → error.
    case field
    /// The string variable at field `a` (`type`, `customer`): non-strings are errors.
    case stringVariable
    /// `has(...)`: field `a` present; `b` is the parent field id (checked to be an object) or -1.
    case has
    case not, negate            // a
    case and, or                // a, b
    case conditional            // a ? b : c
    case equal, notEqual, less, lessEqual, greater, greaterEqual   // a, b
    case add, subtract, multiply, divide, remainder                // a, b
    /// `a in [...]`; the elements are node indices `operands[b ..< b + c]`.
    case inList
    /// Specialised `field == "literal"` / `!=`: field `a`, literal bytes `bytes[b ..< b + c]`.
    case fieldEqualString, fieldNotEqualString
    /// The same for the string variables `type` and `customer`.
    case variableEqualString, variableNotEqualString
}
