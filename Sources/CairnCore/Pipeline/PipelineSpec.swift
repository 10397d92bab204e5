/// A pipeline file as written: what the YAML says, with where it says it.
///
/// The loader produces a `PipelineSpec`; `PipelineCompiler` turns it into a
/// `CompiledPipeline`, the form the hot path runs.
public struct PipelineSpec: Sendable {
    public var file: String
    public var source: String
    public var version: Int
    public var name: Located<String>
    public var description: String?
    public var events: EventsSpec
    public var journeys: [JourneySpec]
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

/// A position in a pipeline file: 1-based line and column (Unicode scalars).
public struct SourceLocation: Equatable, Sendable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// How events map onto the engine's notions of customer, time and type (`events:`).
public struct EventsSpec: Sendable {
    public var customer: Located<[String]>
    public var time: Located<[String]>
    public var type: Located<[String]>
    public var timeFormat: TimeFormat
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

/// One journey: who enters (`entry`), and the steps they go through.
public struct JourneySpec: Sendable {
    public var name: Located<String>
    public var entry: ExpressionSpec
    public var steps: [StepSpec]
}

/// A CEL expression and the YAML scalar that holds it, so that a diagnostic at a byte offset of
/// the expression can be placed at the right line and column of the file.
public struct ExpressionSpec: Sendable {
    public var text: String
    public var scalar: ScalarPosition
}

/// One step of a journey.
public struct StepSpec: Sendable {
    public enum Kind: Sendable {
        case send(channel: Located<String>, template: Located<String>)
    }
    public var kind: Kind
    /// `steps[0]`, `steps[1]`: the step's name in records.
    public var path: String
    public var location: SourceLocation
}
