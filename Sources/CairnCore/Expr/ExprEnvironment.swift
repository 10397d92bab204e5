/// Compile-time context shared by all expressions of a pipeline.
///
/// The compiler interns every event path an expression reads into `fields` (for
/// `event.props.price`, `["props", "price"]`; for `has(event.a.b)` also the parent `["a"]`),
/// so the scanner extracts exactly those. The variables `type` and `customer` read the fields
/// the pipeline's `events:` mapping names, interned by the caller.
public struct ExprEnvironment {
    public var fields: FieldPaths
    public var typeField: FieldID
    public var customerField: FieldID

    public init(fields: FieldPaths, typeField: FieldID, customerField: FieldID) {
        self.fields = fields
        self.typeField = typeField
        self.customerField = customerField
    }
}
