/// A pipeline file as written: what the YAML says, with where it says it.
///
/// The loader produces a `PipelineSpec` for the whole pipeline language (docs/pipeline-reference.md),
/// every value validated; `PipelineCompiler` turns it into a `CompiledPipeline`, the form the
/// hot path runs.
public struct PipelineSpec: Sendable {
    public var file: String
    public var source: String
    public var version: Int
    public var name: Located<String>
    public var description: String?
    public var events: EventsSpec
    /// `profile:` in file order; empty when absent.
    public var profile: [ProfileFieldSpec] = []
    /// `ttl:` in `profile:`, how long an idle customer's profile is kept; nil when absent.
    public var profileTTL: Located<TTLSpec>?
    /// `channels:` in file order; empty when absent (then any channel name may be sent to).
    public var channels: [ChannelSpec] = []
    /// `erase:`, the condition that purges a customer.
    public var erase: ExpressionSpec?
    /// `timezone: EXPR`: each customer's IANA zone name (for quiet hours, calendar caps and
    /// `wait: { until }`), unless a channel gives its own.
    public var timezone: ExpressionSpec?
    /// `default_timezone: NAME`: the zone of customers without a known zone; a valid IANA
    /// name (checked at load). UTC when absent.
    public var defaultTimezone: Located<String>?
    public var journeys: [JourneySpec]
    /// Findings that do not stop the pipeline (unreachable steps, constant conditions, ...),
    /// in file order.
    public var warnings: [Diagnostic] = []
}

/// A value and the position of the YAML node it came from.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, _ location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Equatable where Value: Equatable {}

/// A position in a pipeline file: 1-based line and column (Unicode scalars).
public struct SourceLocation: Equatable, Hashable, Sendable, Comparable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// How events map onto the engine's notions of customer, time and type (`events:`).
public struct EventsSpec: Sendable {
    public var customer: Located<[String]>
    public var time: Located<[String]>
    public var type: Located<[String]>
    public var timeFormat: TimeFormat
    /// `lateness:`: how far out of time order an event may arrive and still be applied in order.
    public var lateness: Located<PipelineDuration>?
}

/// How the event time field is written.
public enum TimeFormat: String, Sendable, CaseIterable {
    /// RFC 3339 text: `2024-03-01T11:32:00.123Z`, `2024-03-01T12:32:00+01:00`.
    case rfc3339
    /// Seconds since the Unix epoch, as a JSON number (fractions allowed).
    case epochSeconds = "epoch_s"
    /// Milliseconds since the Unix epoch, as a JSON number (fractions allowed).
    case epochMilliseconds = "epoch_ms"
}

/// A CEL expression and the YAML scalar that holds it, so that a diagnostic at a byte offset of
/// the expression can be placed at the right line and column of the file.
public struct ExpressionSpec: Sendable {
    public var text: String
    public var scalar: ScalarPosition
    /// Where it sits, for messages: `'entry' of journey 'cart'`.
    public var role: String = ""
    /// A condition (`COND`: must be a bool) or a value (`EXPR`: any type).
    public var kind: Kind = .condition

    /// Whether it may read `journey.NAME` (inside a journey), or why not.
    public var journey: ExprJourney = .outsideJourney

    public enum Kind: Sendable, Equatable { case condition, value }

    public var location: SourceLocation { SourceLocation(line: scalar.line, column: scalar.column) }
}

// MARK: - Profile and channels

/// One per-customer aggregate of `profile:`, e.g. `carts_24h: { count: type == "add_to_cart", window: 24h }`.
public struct ProfileFieldSpec: Sendable {
    /// What is aggregated: exactly one of these keys per field.
    public enum Aggregate: Sendable {
        /// `count: COND`: the number of events that match.
        case count(ExpressionSpec)
        /// `sum: EXPR`: the sum of a number over the events that match `where`.
        case sum(ExpressionSpec)
        /// `min: EXPR`, `max: EXPR`: the least or greatest value.
        case min(ExpressionSpec)
        case max(ExpressionSpec)
        /// `avg: EXPR`: the mean of the numbers selected (a double).
        case avg(ExpressionSpec)
        /// `last: EXPR`: the value at the latest event that matches `where`.
        case last(ExpressionSpec)
        /// `first: EXPR`: the value at the earliest event that matches `where`.
        case first(ExpressionSpec)
        /// `distinct: EXPR`: the number of distinct values (exact up to `capacity`, then an
        /// estimate).
        case distinct(ExpressionSpec)

        /// The aggregate's key in the file (`count`, `sum`, ...).
        public var keyword: String { kind.rawValue }

        /// The aggregate's own expression: the condition of `count`, the EXPR of the others.
        public var expression: ExpressionSpec {
            switch self {
            case .count(let e), .sum(let e), .min(let e), .max(let e), .avg(let e), .last(let e), .first(let e),
                 .distinct(let e):
                e
            }
        }
    }

    public var name: Located<String>
    public var aggregate: Aggregate
    /// `where: COND` (not with `count`, whose own condition filters).
    public var filter: ExpressionSpec?
    /// `window: DURATION`: only events of the last `window` count; none means all time.
    public var window: Located<PipelineDuration>?
    /// `bucket: DURATION` (only with `window`, which it divides): the time resolution of the
    /// window; none means `window / 8`.
    public var bucket: Located<PipelineDuration>?
    /// `minus: COND` (`count` only): events that decrement the count.
    public var minus: ExpressionSpec?
    /// `default:` the value before any event matched (not with `count` or `distinct`, which
    /// start at 0; a number for `sum` and `avg`).
    public var defaultValue: Located<ScalarValue>?
    /// `capacity: N` (`distinct` only): how many distinct values are counted exactly.
    public var capacity: Located<Int>?
}

/// `ttl:` in `profile:`: how long after a customer's latest event the profile is kept.
public enum TTLSpec: Equatable, Sendable {
    /// Forgotten once the stream's latest event time is this much later than the customer's.
    case after(PipelineDuration)
    /// `ttl: never`: kept for good.
    case never
}

/// A YAML scalar read as a typed value (YAML 1.2 core schema): `true`, `42`, `1.5`, `"UTC"`, `null`.
public enum ScalarValue: Equatable, Sendable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case null
}

/// A delivery channel's policies, `channels: { email: { cap: 3 per 7d, ... } }`.
public struct ChannelSpec: Sendable {
    public var name: Located<String>
    /// `cap: N per DURATION` or `cap: N per K calendar days`.
    public var cap: Located<FrequencyCap>?
    /// `quiet: HH:MM-HH:MM` or `{ hours: HH:MM-HH:MM, mode: defer|drop }`: local hours when
    /// nothing is sent on this channel.
    public var quiet: Located<QuietHours>?
    /// `timezone: EXPR`: the customer's IANA zone name for this channel; the pipeline's
    /// `timezone:` when absent.
    public var timezone: ExpressionSpec?
    /// `consent: COND`: the customer accepts this channel.
    public var consent: ExpressionSpec?
}

/// `3 per 7d` (rolling), `1 per calendar day`, `2 per 7 calendar days`.
public struct FrequencyCap: Equatable, Sendable {
    public enum Period: Equatable, Sendable {
        /// At most `count` sends in any window of this length.
        case rolling(PipelineDuration)
        /// At most `count` sends from local midnight K−1 days before today (K ≥ 1).
        case calendarDays(Int)
    }
    public var count: Int
    public var period: Period
}

/// `21:00-08:00`: from `start` up to (excluding) `end`, in minutes after local midnight; wraps
/// past midnight when `end < start`. `mode`: what a send in them does (default: deferred to
/// their end).
public struct QuietHours: Equatable, Sendable {
    public var start: Int
    public var end: Int
    public var mode: CompiledPipeline.Quiet.Mode = .defer
}

// MARK: - Journeys

/// One journey: who enters (`entry`), the policies around it, and the steps they go through.
public struct JourneySpec: Sendable {
    public var name: Located<String>
    public var entry: ExpressionSpec
    /// `key: EXPR`: one instance per value (default: one per customer).
    public var key: ExpressionSpec?
    public var reentry: ReentrySpec?
    /// `exit: COND`: leave at once when an event matches.
    public var exit: ExpressionSpec?
    /// `hold: COND` or `hold: { when: COND, mode: wait|skip, max: DURATION }`.
    public var hold: HoldSpec?
    public var goal: GoalSpec?
    /// `priority:` higher first when a cap allows only one send; default 0.
    public var priority: Located<Int>?
    public var steps: [StepSpec]
    /// The journey's list item.
    public var location: SourceLocation
}

/// `reentry: { mode: after_exit, cooldown: 1d, max: 10 }`.
public struct ReentrySpec: Sendable {
    public var mode: Located<ReentryMode>
    /// Least time between two entries of the same customer (and key).
    public var cooldown: Located<PipelineDuration>?
    /// Most entries per customer (and key), at least 1.
    public var max: Located<Int>?
}

/// When a customer already in (or once through) a journey may enter it again.
public enum ReentryMode: String, Sendable, CaseIterable {
    /// Once per customer (and key), ever.
    case never
    /// Again after the previous instance has left the journey (the default).
    case afterExit = "after_exit"
    /// Every matching event starts a new instance, even while one is running.
    case always
}

/// `hold:`: while `when` holds, sends wait (at most `max`, then are skipped) or are skipped.
public struct HoldSpec: Sendable {
    public var when: ExpressionSpec
    /// Default `wait`.
    public var mode: Located<CompiledPipeline.Hold.Mode>?
    /// Only with mode `wait`; default 7d.
    public var max: Located<PipelineDuration>?
}

/// `goal: { when: COND, within: DURATION, continue: BOOL }`: conversion tracking.
public struct GoalSpec: Sendable {
    public var when: ExpressionSpec
    /// How long after entry a goal still counts; none means until the instance ends.
    public var within: Located<PipelineDuration>?
    /// `continue: true`: the instance goes on after its goal; default false (it ends).
    public var continues: Bool = false
}

/// One step of a journey.
public struct StepSpec: Sendable {
    public enum Kind: Sendable {
        case send(SendSpec)
        case wait(Located<PipelineDuration>)
        /// `wait: { until: "HH:MM", days: [...] }`.
        case waitUntil(WaitUntilSpec)
        case waitFor(WaitForSpec)
        case branch([BranchArmSpec])
        case split(SplitSpec)
        case exit(reason: Located<String>)

        /// The YAML key of this kind of step.
        public var keyword: String {
            switch self {
            case .send: "send"
            case .wait, .waitUntil: "wait"
            case .waitFor: "wait_for"
            case .branch: "branch"
            case .split: "split"
            case .exit: "exit"
            }
        }
    }
    public var kind: Kind
    /// The step's position from the journey's `steps`, as a YAML path: `steps[0]`,
    /// `steps[3].branch[0].steps[1]`, `steps[4].split.variants.discount.steps[0]`.
    public var path: String
    /// `id:`, which names the step in records instead of its path.
    public var id: Located<String>?
    /// The step's list item.
    public var location: SourceLocation

    /// The step's name in records: its `id`, else its path.
    public var name: String { id?.value ?? path }
}

/// `send: { channel, template, data }`.
public struct SendSpec: Sendable {
    public var channel: Located<String>
    public var template: Located<String>
    /// `data:` name → expression, in file order; empty when absent.
    public var data: [DataFieldSpec] = []
}

/// One `name: EXPR` of a send's `data`.
public struct DataFieldSpec: Sendable {
    public var name: Located<String>
    public var value: ExpressionSpec
}

/// `wait: { until: "HH:MM", days: [mon, fri] }`: until a local time of day, on some days.
public struct WaitUntilSpec: Sendable {
    /// Minutes after local midnight.
    public var minute: Located<Int>
    /// The days (all when `days:` is absent).
    public var days: CompiledPipeline.WeekdaySet
}

/// `wait_for: { event: COND, timeout: DURATION }` with its sibling `then:` and `else:` steps.
public struct WaitForSpec: Sendable {
    public var event: ExpressionSpec
    public var timeout: Located<PipelineDuration>
    /// Run when a matching event arrives in time.
    public var then: [StepSpec]
    /// Run on timeout.
    public var otherwise: [StepSpec]
}

/// One arm of a `branch`: `{ when: COND, steps: [...] }`, or the final `{ else: [...] }`
/// (`when` nil).
public struct BranchArmSpec: Sendable {
    public var when: ExpressionSpec?
    public var steps: [StepSpec]
    public var location: SourceLocation
}

/// `split: { salt, variants }`: a deterministic weighted choice per customer.
public struct SplitSpec: Sendable {
    public var salt: Located<String>
    /// In file order.
    public var variants: [VariantSpec]
}

/// One variant of a split.
public struct VariantSpec: Sendable {
    public var name: Located<String>
    public var weight: Located<Int>
    /// Customers of a holdout variant go on through the rest of the journey, but their sends
    /// become `skip` records (reason `holdout`) while goals are still tracked: measured, not
    /// messaged.
    public var holdout: Bool
    public var steps: [StepSpec]
}
