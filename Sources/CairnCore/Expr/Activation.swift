/// The per-event bindings an expression reads: the event's bytes, the table of values the
/// scanner found at the pipeline's interned field paths, the event time (`time`, `now`), the
/// extra variables declared in `ExprEnvironment.variables`, the customer's profile
/// (`profile.NAME`) and the journey instance (`journey.NAME`).
///
/// Built by the runner for each event without allocating: it only holds pointers.
///
/// - Safety: `fields` must point to at least `ExprEnvironment.fields.count` values (one per
///   interned `FieldID`, `.absent` where the event has no value), and every span in them must
///   lie within `line`. `variableValues` must point to one value per declared extra variable,
///   with spans into `variableText` (see `ExprVariables`). `profileValues`, when not nil, must
///   point to one value per profile field of `ExprEnvironment.profile`, and its strings,
///   bytes, lists and maps must be spans of origin `.variables` into `variableText` (JSON
///   string contents, `escaped` when they hold a `\`; JSON arrays and objects).
///   `journeyValues`, when not nil, must point to one value per `ExprJourney.fields`, its
///   strings spans of origin `.variables` into `variableText` likewise. All must
///   stay valid while the program evaluates and while any `Value` produced from this
///   activation is in use.
public struct Activation {
    /// The event's bytes (one NDJSON line).
    public var line: UnsafeRawBufferPointer
    /// Scanned values indexed by `FieldID`.
    public var fields: UnsafePointer<ScannedValue>
    /// The event time in nanoseconds since the Unix epoch: the value of `time` and `now`.
    public var eventTime: Int64
    /// The JSON text that the values of the extra variables (`cairn eval --var`) and of the
    /// profile point into: for `cairn eval`, the `--var` texts (`ExprVariables`); for
    /// `cairn run`, a buffer of the customer's stored profile values, set by the runner for
    /// each event.
    public var variableText: UnsafeRawBufferPointer
    /// One scanned value per extra variable, in the order of `ExprEnvironment.variables`;
    /// nil when none are declared.
    public var variableValues: UnsafePointer<ScannedValue>?
    /// One value per profile field, in the order of `ExprEnvironment.profile` (file order),
    /// after the current event has been applied; set by the runner for each event. Strings,
    /// lists and maps among them are spans of origin `.variables` into `variableText`. nil
    /// when there is no profile: `profile.NAME` then evaluates to an error.
    public var profileValues: UnsafePointer<Value>?
    /// The journey instance the expression runs for: one value per `ExprJourney.fields`
    /// (key, entered_at, variant, step, entries), strings as spans of origin `.variables` into
    /// `variableText`; set by the journey runtime. nil outside an instance: `journey.NAME`
    /// then evaluates to an error.
    public var journeyValues: UnsafePointer<Value>?
    /// The event's type as the scan numbered it (`EventTypes`), for the type gates;
    /// `EventTypes.unnumbered` when it did not (the gates then compare the type's bytes).
    /// Whoever points `line` and `fields` at another event resets it, and the two below.
    var typeNumber: UInt8 = .max
    /// When the scan numbered the type as one of its literals: the field `type` reads, and
    /// the type's text in the scan's table of literals, which the evaluator compares instead
    /// of the line's bytes (not in this core's cache when the helper thread scanned the line).
    /// Otherwise -1 and empty.
    var typeField: Int32 = -1
    var typeText = UnsafeRawBufferPointer(start: nil, count: 0)

    @inlinable
    public init(line: UnsafeRawBufferPointer, fields: UnsafePointer<ScannedValue>, eventTime: Int64 = 0,
                variableText: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                variableValues: UnsafePointer<ScannedValue>? = nil,
                profileValues: UnsafePointer<Value>? = nil, journeyValues: UnsafePointer<Value>? = nil) {
        self.line = line
        self.fields = fields
        self.eventTime = eventTime
        self.variableText = variableText
        self.variableValues = variableValues
        self.profileValues = profileValues
        self.journeyValues = journeyValues
    }
}

/// Values of extra variables (`cairn eval --var NAME=JSON`), parsed and validated once.
///
/// Build it from the JSON texts in the order of `ExprEnvironment.variables`, keep it alive
/// for the run, and pass its parts to each `Activation` with `withActivationParts`.
public struct ExprVariables: Sendable {
    /// `{"0":J0,"1":J1,...}`: the texts, wrapped so that one scan validates them all.
    let text: [UInt8]
    let values: [ScannedValue]

    /// Validates each text as one JSON value; on failure, the index of the first invalid text.
    public static func make(json: [String]) -> Result<ExprVariables, VariableError> {
        var text: [UInt8] = [0x7B]
        var paths = FieldPaths()
        for (i, item) in json.enumerated() {
            // Each text is checked alone first, so an error names the right variable.
            var alone = Array("{\"v\":".utf8)
            alone += Array(item.utf8)
            alone.append(0x7D)
            var single = FieldPaths()
            single.intern(["v"])
            var slot = [ScannedValue.absent]
            let outcome = alone.withUnsafeBytes { raw in
                slot.withUnsafeMutableBufferPointer { JSONScanner(paths: single).scan(raw, into: $0.baseAddress!) }
            }
            guard case .event = outcome, slot[0].isPresent else { return .failure(VariableError(index: i)) }
            if i > 0 { text.append(0x2C) }
            text += Array("\"\(i)\":".utf8)
            text += Array(item.utf8)
            paths.intern([String(i)])
        }
        text.append(0x7D)
        var values = [ScannedValue](repeating: .absent, count: max(1, json.count))
        let outcome = text.withUnsafeBytes { raw in
            values.withUnsafeMutableBufferPointer { JSONScanner(paths: paths).scan(raw, into: $0.baseAddress!) }
        }
        guard case .event = outcome else { return .failure(VariableError(index: 0)) }
        return .success(ExprVariables(text: text, values: values))
    }

    /// Calls `body` with the `variableText` and `variableValues` of an `Activation`.
    public func withActivationParts<R>(
        _ body: (UnsafeRawBufferPointer, UnsafePointer<ScannedValue>) throws -> R
    ) rethrows -> R {
        try text.withUnsafeBytes { raw in
            try values.withUnsafeBufferPointer { try body(raw, $0.baseAddress!) }
        }
    }

    /// The JSON text at `index` of `make(json:)` is not one valid JSON value.
    public struct VariableError: Error, Sendable, Equatable {
        public var index: Int
    }
}
