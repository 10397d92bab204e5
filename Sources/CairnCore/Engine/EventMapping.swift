/// How a scanned line becomes an event: the pipeline's `events:` mapping of customer, time
/// and type, with the rules that make a line bad and the words that say why.
///
/// Shared by `cairn run` (Runner) and `cairn eval`, so both judge a line the same way.
public struct EventMapping: Sendable {
    public var customerField: FieldID
    public var timeField: FieldID
    public var typeField: FieldID
    public var timeFormat: TimeFormat
    /// Dotted names of the mapped fields, for messages.
    public var customerPath: String
    public var timePath: String
    public var typePath: String

    public init(_ pipeline: CompiledPipeline) {
        customerField = pipeline.customerField
        timeField = pipeline.timeField
        typeField = pipeline.typeField
        timeFormat = pipeline.timeFormat
        customerPath = pipeline.customerPath
        timePath = pipeline.timePath
        typePath = pipeline.typePath
    }

    public init(customerField: FieldID, timeField: FieldID, typeField: FieldID, timeFormat: TimeFormat,
                customerPath: String, timePath: String, typePath: String) {
        self.customerField = customerField
        self.timeField = timeField
        self.typeField = typeField
        self.timeFormat = timeFormat
        self.customerPath = customerPath
        self.timePath = timePath
        self.typePath = typePath
    }

    /// Why a line is not a usable event.
    public enum Problem: Equatable, Sendable {
        case json(ScanError)
        case notObject(JSONKind)
        case missing(Field)
        case invalid(Field, JSONKind)
        case invalidTime(JSONKind)
        /// A well-formed RFC 3339 time outside 1677-09-21 ... 2262-04-11 (nanoseconds in Int64).
        case timeOutOfRange
    }

    public enum Field: Equatable, Sendable { case customer, time, type }

    public enum Mapped {
        /// A usable event and its time in nanoseconds since the epoch.
        case event(Int64)
        case bad(Problem)
    }

    /// Checks the scan outcome and the mapped fields of one line and parses its time.
    ///
    /// - Parameter scratch: room for an escaped time string, decoded (at least the line's
    ///   length).
    /// - Complexity: O(length of the time text); no allocation.
    @inline(__always)
    public func map(
        _ line: UnsafeRawBufferPointer, outcome: ScanOutcome, values: UnsafePointer<ScannedValue>,
        scratch: UnsafeMutableRawBufferPointer
    ) -> Mapped {
        var days = EventTime.DayCache()
        return map(line, outcome: outcome, values: values, scratch: scratch, days: &days)
    }

    /// `map`, keeping the date of the time it parses in `days` for the next event (see
    /// `EventTime.parseRFC3339(_:days:)`).
    @inline(__always)
    public func map(
        _ line: UnsafeRawBufferPointer, outcome: ScanOutcome, values: UnsafePointer<ScannedValue>,
        scratch: UnsafeMutableRawBufferPointer, days: inout EventTime.DayCache
    ) -> Mapped {
        switch outcome {
        case .event: break
        case .notObject(let kind): return .bad(.notObject(kind))
        case .invalid(let error): return .bad(.json(error))
        }
        let customer = values[customerField]
        let time = values[timeField]
        let type = values[typeField]
        guard customer.isPresent else { return .bad(.missing(.customer)) }
        guard customer.count > 0, customer.kind == .string || (customer.kind == .number && customer.isInteger) else {
            return .bad(.invalid(.customer, customer.kind))
        }
        guard time.isPresent else { return .bad(.missing(.time)) }
        guard let ns = eventTime(time, line, scratch: scratch, days: &days) else {
            if timeFormat == .rfc3339, time.kind == .string, !time.hasEscapes,
               EventTime.isOutOfRange(UnsafeRawBufferPointer(rebasing: line[Int(time.start)..<Int(time.end)])) {
                return .bad(.timeOutOfRange)
            }
            return .bad(.invalidTime(time.kind))
        }
        guard type.isPresent else { return .bad(.missing(.type)) }
        guard type.kind == .string, type.count > 0 else { return .bad(.invalid(.type, type.kind)) }
        return .event(ns)
    }

    @inline(__always)
    func eventTime(
        _ value: ScannedValue, _ line: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer,
        days: inout EventTime.DayCache
    ) -> Int64? {
        let span = UnsafeRawBufferPointer(rebasing: line[Int(value.start)..<Int(value.end)])
        switch timeFormat {
        case .rfc3339:
            guard value.kind == .string else { return nil }
            if value.hasEscapes {
                let n = JSONString.unescape(span, into: scratch) ?? 0
                return EventTime.parseRFC3339(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
            }
            return EventTime.parseRFC3339(span, days: &days)
        case .epochSeconds:
            guard value.kind == .number else { return nil }
            return EventTime.parseEpochSeconds(span)
        case .epochMilliseconds:
            guard value.kind == .number else { return nil }
            return EventTime.parseEpochMilliseconds(span)
        }
    }

    /// Why a line is not a JSON object, which needs no mapping to say; nil for the problems
    /// of mapped fields.
    public static func describeShape(_ problem: Problem) -> String? {
        switch problem {
        case .json(let error): return "invalid JSON at column \(error.offset + 1): \(error.message)"
        case .notObject(let kind): return "not an event: the line is a JSON \(name(kind)), not an object"
        default: return nil
        }
    }

    public func describe(_ problem: Problem) -> String {
        func path(_ field: Field) -> String {
            switch field {
            case .customer: return customerPath
            case .time: return timePath
            case .type: return typePath
            }
        }
        switch problem {
        case .json, .notObject: return Self.describeShape(problem)!
        case .missing(let field): return "no \(field) field '\(path(field))'"
        case .invalid(.customer, let kind):
            let got = kind == .number ? "a number with a fraction or exponent" : Self.article(kind)
            return "invalid customer '\(customerPath)': expected a non-empty string or an integer, got \(got)"
        case .invalid(let field, let kind):
            return "invalid \(field) '\(path(field))': expected a non-empty string, got \(Self.article(kind))"
        case .timeOutOfRange:
            return "invalid time '\(timePath)': outside the times cairn keeps, 1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z"
        case .invalidTime(let kind):
            switch timeFormat {
            case .rfc3339:
                return kind == .string
                    ? "invalid time '\(timePath)': not an RFC 3339 timestamp such as 2024-03-01T11:32:00Z"
                    : "invalid time '\(timePath)': expected an RFC 3339 string, got \(Self.article(kind))"
            case .epochSeconds, .epochMilliseconds:
                let unit = timeFormat == .epochSeconds ? "seconds" : "milliseconds"
                return kind == .number
                    ? "invalid time '\(timePath)': \(unit) since the epoch out of range"
                    : "invalid time '\(timePath)': expected a number of \(unit) since the epoch, got \(Self.article(kind, emptyString: false))"
            }
        }
    }

    public static func name(_ kind: JSONKind) -> String {
        switch kind {
        case .absent: return "nothing"
        case .null: return "null"
        case .false, .true: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .object: return "object"
        case .array: return "array"
        }
    }

    /// "an empty string", "an object", "null": what a mapped field held instead.
    static func article(_ kind: JSONKind, emptyString: Bool = true) -> String {
        switch kind {
        case .string: return emptyString ? "an empty string" : "a string"
        case .null: return "null"
        case .object, .array: return "an \(name(kind))"
        default: return "a \(name(kind))"
        }
    }

}
