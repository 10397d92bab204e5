/// What the scanner found at one requested field path of an event.
///
/// A `ScannedValue` is a span of the line buffer plus the JSON kind found there; nothing is
/// decoded or copied. It is valid only while the line it points into is.
///
///     line:  {"user_id":"c-1","props":{"price":19.5}}
///                        ^  ^                  ^   ^
///                  start=12 end=15       start=35 end=39
///
/// - For strings, `start` is the first byte after the opening quote and `end` the index of
///   the closing quote; `hasEscapes` says whether a `\` occurs in between.
/// - For numbers, the span is the number's text; `isInteger` says it has no fraction and no
///   exponent.
/// - For objects and arrays, the span runs from the opening to one past the closing bracket.
/// - For `null`, `true`, `false`, the span is the literal.
///
/// Layout: 12 bytes, so a table of them for one event stays in one or two cache lines.
public struct ScannedValue: Equatable, Sendable {
    public var kind: JSONKind
    public var flags: UInt8
    public var start: Int32
    public var end: Int32

    @inlinable
    public init(kind: JSONKind, flags: UInt8 = 0, start: Int32 = 0, end: Int32 = 0) {
        self.kind = kind
        self.flags = flags
        self.start = start
        self.end = end
    }

    /// The value of a path that the event does not contain.
    public static let absent = ScannedValue(kind: .absent)

    public static let flagEscapes: UInt8 = 1
    public static let flagInteger: UInt8 = 2

    @inlinable public var isPresent: Bool { kind != .absent }
    @inlinable public var hasEscapes: Bool { flags & ScannedValue.flagEscapes != 0 }
    @inlinable public var isInteger: Bool { flags & ScannedValue.flagInteger != 0 }
    @inlinable public var count: Int { Int(end &- start) }
}

/// The JSON kind of a scanned value; `absent` when the path is not in the event.
public enum JSONKind: UInt8, Sendable {
    case absent = 0
    case null
    case `false`
    case `true`
    case number
    case string
    case object
    case array
}

/// Index of an interned field path in the table of scanned values of one event.
public typealias FieldID = Int
