/// The result of evaluating an expression, or of one of its subexpressions.
///
/// A trivially copyable enum with no references: evaluation never allocates or touches a
/// reference count. Strings are spans into the event line or into the program's constant
/// bytes (see `StringSpan`), so a `Value` holding a string is meaningful only together with
/// the program and the line it came from; render it with `Program.jsonText(of:line:)`.
///
/// Errors are values too (CEL's runtime errors): they flow through operators until `&&`,
/// `||` or `?:` absorb them, and an entry condition that ends in an error does not match.
public enum Value: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(StringSpan)
    case error(EvalError)

    /// The CEL name of the value's type (`int`, `string`, `null_type`, ...; `error` for errors).
    public var typeName: String {
        switch self {
        case .null: "null_type"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .error: "error"
        }
    }

    @inlinable public var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// Where the bytes of a string value live, without a pointer: `start` and `count` are byte
/// offsets into the event line (`origin == .line`, JSON string contents that may still contain
/// escapes) or into the program's constant bytes (`origin == .program`, already decoded).
public struct StringSpan: Equatable, Sendable {
    public enum Origin: UInt8, Sendable {
        case line
        case program
    }

    public var origin: Origin
    /// True when the span is JSON text containing a `\` escape (line strings only).
    public var escaped: Bool
    public var start: Int32
    public var count: Int32

    @inlinable
    public init(origin: Origin, escaped: Bool, start: Int32, count: Int32) {
        self.origin = origin
        self.escaped = escaped
        self.start = start
        self.count = count
    }
}

/// A CEL runtime error: an enum code, trivially copyable. `message` gives the generic text;
/// `Program.message(for:)` adds the field path where there is one.
public enum EvalError: Equatable, Sendable {
    /// The event has no value at this path (`event.a.b` with no `a.b`).
    case noSuchKey(FieldID)
    /// An operator was applied to runtime types it has no overload for (`"a" < 1.0`, `1 + 1.0`).
    case noSuchOverload
    /// int or uint arithmetic left the 64-bit range (including `-(-2^63)` and `-2^63 / -1`).
    case integerOverflow
    /// uint arithmetic left the 64-bit range (`0u - 1u`).
    case unsignedOverflow
    /// Integer `/` or `%` by zero.
    case divisionByZero
    /// A JSON object or array used as a value (only `has()` accepts them yet).
    case unsupportedType
    /// `type` or `customer` whose JSON value is not a string.
    case notAString(FieldID)
    /// `has(e.f)` where `e` is present but not a JSON object.
    case invalidSelection(FieldID)
    /// `+` on two strings at runtime (concatenation allocates; a later version adds it).
    case stringConcatenation

    public var message: String {
        switch self {
        case .noSuchKey: "no such key"
        case .noSuchOverload: "no such overload"
        case .integerOverflow: "integer overflow"
        case .unsignedOverflow: "unsigned integer overflow"
        case .divisionByZero: "division by zero"
        case .unsupportedType: "unsupported type"
        case .notAString: "value is not a string"
        case .invalidSelection: "type does not support field selection"
        case .stringConcatenation: "string concatenation is not supported yet"
        }
    }
}
