/// Compile-time context shared by all expressions of a pipeline.
///
/// The compiler interns every event path an expression reads into `fields` (for
/// `event.props.price`, `["props", "price"]`; for `has(event.a.b)` also the parent `["a"]`;
/// for `event` as a whole the empty path), so the scanner extracts exactly those. The
/// variables `type` and `customer` read the fields the pipeline's `events:` mapping names,
/// interned by the caller.
///
/// `variables` declares extra variables by name (for `cairn eval --var NAME=JSON`); their
/// values are JSON texts the caller supplies per activation (`ExprVariables`), in this order.
public struct ExprEnvironment {
    public var fields: FieldPaths
    public var typeField: FieldID
    public var customerField: FieldID
    /// Names of extra variables; they are `dyn` (a JSON value) and shadow nothing built in.
    public var variables: [String]
    /// Whether `type`, `customer`, `time` and `now` are bound (a pipeline's `events:` mapping
    /// is known). Without it they are compile errors that say what is missing, as in
    /// `cairn eval` without `--pipeline`.
    public var hasEventMapping: Bool

    public init(fields: FieldPaths, typeField: FieldID, customerField: FieldID, variables: [String] = [],
                hasEventMapping: Bool = true) {
        self.fields = fields
        self.typeField = typeField
        self.customerField = customerField
        self.variables = variables
        self.hasEventMapping = hasEventMapping
    }
}
