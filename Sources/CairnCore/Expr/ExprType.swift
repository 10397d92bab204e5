/// The static type of an expression, as far as the compiler knows it.
///
/// Literals and most functions have known types; event fields, extra variables and
/// iteration variables are `dyn` (a JSON value of any kind, known only per event). Lists
/// and maps are not parameterised: their elements are `dyn` to the checker.
public enum ExprType: Equatable, Sendable {
    case bool
    case int
    case uint
    case double
    case string
    case bytes
    case null
    case dyn
    case list
    case map
    case timestamp
    case duration
    case type

    /// The CEL spelling used in diagnostics.
    public var name: String {
        switch self {
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        case .null: "null_type"
        case .dyn: "dyn"
        case .list: "list"
        case .map: "map"
        case .timestamp: "google.protobuf.Timestamp"
        case .duration: "google.protobuf.Duration"
        case .type: "type"
        }
    }

    var isNumeric: Bool { self == .int || self == .uint || self == .double }
}
