/// The result of evaluating an expression, or of one of its subexpressions.
///
/// A trivially copyable enum with no references: evaluation never touches a reference count.
/// Strings, bytes, lists and maps are spans or references without pointers (`StringSpan`,
/// `ValueRef`): into the event line, into the program's constants, into the activation's
/// variable text (extra variables, profile values), or into the evaluation's `EvalScratch`. A `Value` is therefore meaningful
/// only together with the program, the activation and the scratch it came from, and only
/// until the next evaluation with that scratch; render it with
/// `Program.jsonText(of:activation:scratch:)`.
///
/// Errors are values too (CEL's runtime errors): they flow through operators until `&&`,
/// `||`, `?:` or a macro absorbs them, and an entry condition that ends in an error does not
/// match.
public enum Value: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(StringSpan)
    case bytes(StringSpan)
    /// Nanoseconds since the Unix epoch (1677-09-21 to 2262-04-11).
    case timestamp(Int64)
    /// Signed nanoseconds (about ±292 years).
    case duration(Int64)
    case list(ListRef)
    case map(MapRef)
    /// A type as a value (`type(1) == int`).
    case type(TypeTag)
    case error(EvalError)

    /// The CEL type of the value (`.error` for errors).
    public var typeTag: TypeTag {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .timestamp: .timestamp
        case .duration: .duration
        case .list: .list
        case .map: .map
        case .type: .type
        case .error: .error
        }
    }

    /// The CEL name of the value's type (`int`, `string`, `null_type`, ...; `error` for errors).
    public var typeName: String { typeTag.name }

    @inlinable public var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// CEL's type names, as values of `type(x)` and in messages.
public enum TypeTag: UInt8, Equatable, Sendable {
    case null, bool, int, uint, double, string, bytes, timestamp, duration, list, map, type, error

    public var name: String {
        switch self {
        case .null: "null_type"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .timestamp: "google.protobuf.Timestamp"
        case .duration: "google.protobuf.Duration"
        case .list: "list"
        case .map: "map"
        case .type: "type"
        case .error: "error"
        }
    }
}

/// Where the bytes of a string or bytes value live, without a pointer: `start` and `count`
/// are byte offsets into one of four buffers.
///
/// - `.line`: the event line; JSON string contents that may still contain escapes (`escaped`).
/// - `.variables`: the activation's `variableText`, like `.line`: the JSON text of the extra
///   variables (`cairn eval --var`), or the buffer of the customer's stored profile values
///   that the runner points it at (`cairn run`).
/// - `.program`: the program's constant bytes, already decoded.
/// - `.scratch`: the evaluation's `EvalScratch.bytes`, already decoded.
public struct StringSpan: Equatable, Sendable {
    public enum Origin: UInt8, Sendable {
        case line
        case program
        case scratch
        case variables
    }

    public var origin: Origin
    /// True when the span is JSON text containing a `\` escape (`.line`/`.variables` only).
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

/// A list or a map, without a pointer.
///
/// - `.line` / `.variables`: JSON text (an array or object, already validated by the scanner),
///   `start ..< start + count` are the bytes from the opening to one past the closing
///   bracket; read lazily, nothing is copied.
/// - `.program` / `.scratch`: `count` elements in the program's constants or in
///   `EvalScratch.values` from index `start`; a map stores `count` entries as key, value
///   pairs (2 × count values).
public struct ValueRef: Equatable, Sendable {
    /// Where the text or the elements live; the same four places as for strings.
    public typealias Origin = StringSpan.Origin

    public var origin: Origin
    public var start: Int32
    public var count: Int32

    @inlinable
    public init(origin: Origin, start: Int32, count: Int32) {
        self.origin = origin
        self.start = start
        self.count = count
    }

    /// True for JSON text (lazily read); false for an array of `Value`s.
    @inlinable public var isJSON: Bool { origin == .line || origin == .variables }
}

public typealias ListRef = ValueRef
public typealias MapRef = ValueRef

/// A CEL runtime error: an enum code, trivially copyable. `message` gives the generic text;
/// `Program.message(for:)` adds the field path or key where there is one.
public enum EvalError: Equatable, Sendable {
    /// The event has no value at this path (`event.a.b` with no `a.b`).
    case noSuchKey(FieldID)
    /// A map has no entry for a selected field: the name is `bytes[start ..< start + count]`
    /// of the program.
    case noSuchField(start: Int32, count: Int32)
    /// A map has no entry for an index (`m[k]`).
    case noSuchMapKey
    /// A list index outside `0 ..< size`.
    case indexOutOfRange
    /// An operator or function was applied to runtime types it has no overload for.
    case noSuchOverload
    /// int arithmetic or conversion left the 64-bit range (also `-(-2^63)`, `-2^63 / -1`).
    case integerOverflow
    /// uint arithmetic or conversion left the 64-bit range (`0u - 1u`).
    case unsignedOverflow
    /// Integer `/` or `%` by zero.
    case divisionByZero
    /// A timestamp outside 1677-09-21..2262-04-11 (Int64 nanoseconds).
    case timestampOverflow
    /// A duration outside about ±292 years (Int64 nanoseconds).
    case durationOverflow
    /// A conversion whose argument has the right type but not a convertible value
    /// (`int("x")`, `string(b"\xff")`, `timestamp("yesterday")`).
    case invalidConversion(from: TypeTag, to: TypeTag)
    /// A time zone name that is not `UTC`, `±HH:MM` or a known IANA zone.
    case unknownTimeZone
    /// A regular expression given at runtime that does not compile.
    case invalidRegex
    /// A map literal with the same key twice.
    case repeatedKey
    /// Field selection on a value that is not a map.
    case noFieldSelection
    /// A value of a kind cairn cannot use here.
    case unsupportedType
    /// `type` or `customer` whose JSON value is not a string.
    case notAString(FieldID)
    /// `has(e.f)` where `e` is present but not a JSON object.
    case invalidSelection(FieldID)

    public var message: String {
        switch self {
        case .noSuchKey, .noSuchField, .noSuchMapKey: "no such key"
        case .indexOutOfRange: "index out of range"
        case .noSuchOverload: "no such overload"
        case .integerOverflow: "integer overflow"
        case .unsignedOverflow: "unsigned integer overflow"
        case .divisionByZero: "division by zero"
        case .timestampOverflow: "timestamp out of range"
        case .durationOverflow: "duration out of range"
        case let .invalidConversion(from, to): "type conversion error from '\(from.name)' to '\(to.name)'"
        case .unknownTimeZone: "unknown time zone"
        case .invalidRegex: "invalid regular expression"
        case .repeatedKey: "repeated key in map literal"
        case .noFieldSelection: "type does not support field selection"
        case .unsupportedType: "unsupported type"
        case .notAString: "value is not a string"
        case .invalidSelection: "type does not support field selection"
        }
    }
}
