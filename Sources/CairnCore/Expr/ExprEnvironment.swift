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
///
/// `journey` says whether `journey.NAME` can be read (inside a journey, where an instance
/// runs; the values are supplied per activation in `Activation.journeyValues`, in the order of
/// `ExprJourney.Field`), or why not.
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
    /// Whether `journey.NAME` reads an instance. Default: unavailable, as outside a journey.
    public var journey: ExprJourney

    public init(fields: FieldPaths, typeField: FieldID, customerField: FieldID, variables: [String] = [],
                hasEventMapping: Bool = true, profile: ExprProfile = .fields([]),
                journey: ExprJourney = .outsideJourney) {
        self.fields = fields
        self.typeField = typeField
        self.customerField = customerField
        self.variables = variables
        self.hasEventMapping = hasEventMapping
        self.profile = profile
        self.journey = journey
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

/// Whether an expression may read the journey instance it runs for as `journey.NAME`.
public enum ExprJourney: Sendable {
    /// Inside a journey: `journey.NAME` compiles to a load of `Activation.journeyValues[k]`,
    /// `k` the field's `rawValue`.
    case available
    /// No instance here: any use of `journey` is an error with this message (and hint), at the
    /// `journey` token.
    case unavailable(message: String, hint: String?)

    /// The fields of `journey`, in the order of `Activation.journeyValues`.
    public enum Field: Int, CaseIterable, Sendable {
        /// The instance's key (a string), null for a journey without `key:`.
        case key
        /// When the instance entered (a timestamp).
        case enteredAt
        /// The variant its latest split chose (a string), null before any split.
        case variant
        /// The name of the current step (its `id:` or its path).
        case step
        /// How many times the customer (and key) has entered the journey, this entry included.
        case entries

        /// The name expressions use: `journey.entered_at`.
        public var name: String {
            switch self {
            case .key: "key"
            case .enteredAt: "entered_at"
            case .variant: "variant"
            case .step: "step"
            case .entries: "entries"
            }
        }

        /// The static type of `journey.NAME`.
        public var type: ExprType {
            switch self {
            case .key, .variant: .dyn
            case .enteredAt: .timestamp
            case .step: .string
            case .entries: .int
            }
        }
    }

    /// The fields in the order of `Activation.journeyValues`: key, entered_at, variant, step,
    /// entries.
    public static let fields: [Field] = Field.allCases

    /// Where `journey` can be read, for hints.
    public static let whereAvailable =
        "'journey' is read in a journey's 'exit', 'hold' and 'goal', and in its steps ('wait_for' event, branch 'when', send 'data')"

    /// The default outside any journey.
    public static let outsideJourney = ExprJourney.unavailable(
        message: "'journey' is only available inside a journey", hint: whereAvailable)
}
