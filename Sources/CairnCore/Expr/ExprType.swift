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

    /// The CEL spelling used in diagnostics: the name of the runtime type, or `dyn`.
    public var name: String { tag?.name ?? "dyn" }

    /// The runtime type a value of this static type has; nil for `dyn` (known per event).
    var tag: TypeTag? {
        switch self {
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .null: .null
        case .dyn: nil
        case .list: .list
        case .map: .map
        case .timestamp: .timestamp
        case .duration: .duration
        case .type: .type
        }
    }

    var isNumeric: Bool { self == .int || self == .uint || self == .double }
}
