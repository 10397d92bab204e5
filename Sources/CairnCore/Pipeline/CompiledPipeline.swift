/// A pipeline compiled for the hot path: interned field paths, expression programs and the
/// constant bytes of every record, computed once.
public struct CompiledPipeline: Sendable {
    public var name: String
    /// Every field path that the event mapping and the expressions read; the scanner extracts
    /// exactly these.
    public var fields: FieldPaths
    public var customerField: FieldID
    public var timeField: FieldID
    public var typeField: FieldID
    public var timeFormat: TimeFormat
    /// `events.lateness` in nanoseconds (0 when absent): how far behind the latest event time
    /// seen an event may arrive and still be applied in time order.
    public var lateness: Int64 = 0
    public var journeys: [Journey]
    /// Every channel sends name, declared ones first in file order (see `Channel`).
    public var channels: [Channel] = []
    /// `erase:`: an event that matches purges its customer.
    public var erase: Program?
    /// The pipeline's `timezone:`: each customer's IANA zone name, for `wait: { until }` (a
    /// channel's own `timezone:` already folds it in, see `Channel.timezone`). nil: the
    /// default zone for everyone.
    public var timezone: Program?
    /// The zone of customers for whom `timezone:` gives no known zone name (and of all
    /// customers without `timezone:`): `default_timezone:`, else UTC.
    public var defaultZone: CELTimeZone = .utc
    /// The profile fields in file order: the runner keeps one value per field and customer,
    /// and hands them to expressions in this order (`Activation.profileValues`).
    public var profile: [ProfileField] = []
    /// How long (ns) after a customer's latest event, measured in the stream's latest event
    /// time, the profile is kept; nil = never. Default when `ttl:` is absent: the longest
    /// window; nil when no field has a window.
    public var profileTTL: Int64?
    /// Dotted names of the mapped fields, for messages about bad lines.
    public var customerPath: String
    public var timePath: String
    public var typePath: String
    /// Warnings found while compiling (the pipeline still runs).
    public var warnings: [Diagnostic]
}
