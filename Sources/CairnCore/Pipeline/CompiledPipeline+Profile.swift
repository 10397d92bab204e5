extension CompiledPipeline {
    /// A profile field as the runtime computes it: the aggregate, its compiled programs and
    /// its window, every default resolved. Its semantics are in docs/pipeline-reference.md
    /// (`profile`).
    public struct ProfileField: Sendable {
        /// The raw value is the aggregate's key in the pipeline language (`count`, `sum`, ...).
        public enum Kind: String, Sendable { case count, sum, min, max, avg, last, first, distinct }

        public var name: String
        public var kind: Kind
        /// count: its condition; others: the EXPR.
        public var value: Program
        /// `where`.
        public var filter: Program?
        /// `minus`, count only.
        public var minus: Program?
        /// ns; nil = all time.
        public var window: Int64?
        /// ns; non-nil exactly when `window` is: `bucket:`, default `window / 8`. It divides
        /// `window`, at most `PipelineLoader.maximumBuckets` times.
        public var bucket: Int64?
        /// distinct: `capacity:`, default 16; 0 for other kinds.
        public var capacity: Int
        /// `default:` (sum, avg, min, max, last, first). For a `sum` or `avg` of static type
        /// double, an integer default is given as a double.
        public var defaultValue: ScalarValue?
        /// Static type of `profile.NAME`.
        public var type: ExprType

        /// The static type of `profile.NAME` for an aggregate whose EXPR has static type
        /// `valueType` (nil when unknown): count and distinct are int; sum is int for an int
        /// EXPR, else double; avg is double; min, max, last and first are dyn.
        public static func type(of kind: Kind, valueType: ExprType?) -> ExprType {
            switch kind {
            case .count, .distinct: .int
            case .sum: valueType == .int ? .int : .double
            case .avg: .double
            case .min, .max, .last, .first: .dyn
            }
        }

        /// What the expressions of profile field `name` see as `profile`: nothing, since they
        /// compute it.
        public static func unreadableProfile(_ name: String) -> ExprProfile {
            .unavailable(message: "'profile' cannot be read in profile '\(name)': profile fields are computed from the event",
                         hint: "select what to aggregate from the event, e.g. event.props.price")
        }
    }
}

extension ProfileFieldSpec.Aggregate {
    /// The compiled kind of this aggregate.
    public var kind: CompiledPipeline.ProfileField.Kind {
        switch self {
        case .count: .count
        case .sum: .sum
        case .min: .min
        case .max: .max
        case .avg: .avg
        case .last: .last
        case .first: .first
        case .distinct: .distinct
        }
    }
}
