/// The static type of an expression, as far as the compiler knows it.
///
/// Literals and the variables `type` and `customer` have known types; event fields are `dyn`
/// (a JSON value of any kind, known only per event).
public enum ExprType: Equatable, Sendable {
    case bool
    case int
    case uint
    case double
    case string
    case bytes
    case null
    case dyn

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
        }
    }

    var isNumeric: Bool { self == .int || self == .uint || self == .double }
}
