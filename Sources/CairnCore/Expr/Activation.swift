/// The per-event bindings an expression reads: the event's bytes and the table of values the
/// scanner found at the pipeline's interned field paths.
///
/// Built by the runner for each event without allocating: it only holds two pointers.
///
/// - Safety: `fields` must point to at least `ExprEnvironment.fields.count` values (one per
///   interned `FieldID`, `.absent` where the event has no value), and every span in them must
///   lie within `line`. Both must stay valid while the program evaluates and while any string
///   `Value` produced from this activation is in use.
public struct Activation {
    /// The event's bytes (one NDJSON line).
    public var line: UnsafeRawBufferPointer
    /// Scanned values indexed by `FieldID`.
    public var fields: UnsafePointer<ScannedValue>

    @inlinable
    public init(line: UnsafeRawBufferPointer, fields: UnsafePointer<ScannedValue>) {
        self.line = line
        self.fields = fields
    }
}
