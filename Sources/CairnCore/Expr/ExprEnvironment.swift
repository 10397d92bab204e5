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
///
/// `profile` says what `profile.NAME` reads: the pipeline's profile fields (their values are
/// supplied per activation in `Activation.profileValues`, in this order), or why there is no
/// profile to read.
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
    /// What `profile.NAME` reads. Default: a pipeline without profile fields.
    public var profile: ExprProfile

    public init(fields: FieldPaths, typeField: FieldID, customerField: FieldID, variables: [String] = [],
                hasEventMapping: Bool = true, profile: ExprProfile = .fields([])) {
        self.fields = fields
        self.typeField = typeField
        self.customerField = customerField
        self.variables = variables
        self.hasEventMapping = hasEventMapping
        self.profile = profile
    }
}

/// The profile an expression may read as `profile.NAME`.
public enum ExprProfile: Sendable {
    /// The profile fields, in the order of `Activation.profileValues` (file order): field `k`
    /// compiles to a load of `profileValues[k]` with static type `fields[k].type`.
    case fields([Field])
    /// No profile here: any use of `profile` is an error with this message (and hint), at the
    /// `profile` token. For aggregate expressions (a profile field cannot read the profile it
    /// is part of) and for `cairn eval` (which keeps no profile).
    case unavailable(message: String, hint: String?)

    /// One profile field as expressions see it.
    public struct Field: Equatable, Sendable {
        public var name: String
        /// The static type of `profile.NAME`.
        public var type: ExprType

        public init(name: String, type: ExprType) {
            self.name = name
            self.type = type
        }
    }
}
