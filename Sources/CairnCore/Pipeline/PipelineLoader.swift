import Yams

/// Reads a pipeline file into a `PipelineSpec`, reporting every problem it finds.
///
/// The whole pipeline language is validated (docs/pipeline-reference.md): every key is checked
/// (a misspelt one is an error with a did-you-mean hint), every value has its type checked at
/// its own line and column, and every CEL expression is compiled so that its errors point
/// inside the YAML scalar; nothing is silently ignored. Warnings (unreachable steps, constant conditions, repeated branch conditions) do
/// not stop a load; they travel in `PipelineSpec.warnings`.
public struct PipelineLoader {
    public let file: String
    public let source: String
    let lines: [Substring]
    var diagnostics: [Diagnostic] = []
    /// Every expression seen, to be compiled once the whole file has been read.
    /// With the name of the profile field it defines, for an aggregate expression (which
    /// cannot read the profile).
    var expressions: [(spec: ExpressionSpec, warnIfConstant: Bool, profileField: String?)] = []
    /// The profile field being read, while reading one.
    var readingProfileField: String?
    /// Every profile field name that is an identifier, in file order, valid definition or not.
    var profileNames: [String] = []
    /// Steps left to read before the file is declared too large (aliases can multiply them).
    var stepBudget = PipelineLoader.maximumSteps
    /// Channels named by `send` steps, checked against `channels:` when it declares any.
    var sentChannels: [Located<String>] = []

    /// Most steps in a pipeline, counting nested ones (and each expansion of a YAML alias).
    public static let maximumSteps = 10_000
    /// Deepest nesting of step lists (`branch` in `branch` ...).
    public static let maximumStepDepth = 32

    public init(file: String, source: String) {
        self.file = file
        self.source = source
        self.lines = SourceLines.split(source)
    }

    /// Parses and validates; returns the spec (with its warnings), or all diagnostics, errors and
    /// warnings, if there is any error.
    public static func load(file: String, source: String) -> Result<PipelineSpec, PipelineErrors> {
        var loader = PipelineLoader(file: file, source: source)
        let spec = loader.load()
        if var loaded = spec, !loader.diagnostics.contains(where: { $0.severity == .error }) {
            let warnings = loader.diagnostics.filter { $0.severity == .warning }
            loaded.warnings = PipelineErrors(diagnostics: warnings, source: source).diagnostics
            return .success(loaded)
        }
        return .failure(PipelineErrors(diagnostics: loader.diagnostics, source: source))
    }

    // MARK: - Document

    mutating func load() -> PipelineSpec? {
        guard let root = composeDocument(empty: "pipeline file is empty",
                                         hint: "a pipeline needs at least 'name', 'events' and 'journeys'") else { return nil }
        if case .mapping(let map) = root, map.value(forKey: "tests") != nil, map.value(forKey: "journeys") == nil {
            error(at: location(root), "this is a test file, not a pipeline",
                  hint: "run its tests with: cairn test \(file)")
            return nil
        }
        guard let top = mapping(root, "the pipeline", allowed: Self.topLevelKeys) else { return nil }

        // Format 1 is the only one; without 'cairn' a file is format 1.
        let version = 1
        if let node = top["cairn"], let text = scalar(node, "'cairn'"), text != "1" {
            error(at: location(node), "unsupported pipeline format version '\(text)'", length: width(text),
                  hint: "this cairn reads format 1: write 'cairn: 1'")
        }
        let name = requiredString(top, "name", in: "the pipeline", nonEmpty: true,
                                  hint: "the pipeline's name, e.g. name: cart-recovery")
        var description: String?
        if let node = top["description"] { description = scalar(node, "'description'") }
        var events: EventsSpec?
        if let node = top["events"] {
            events = eventsSpec(node)
        } else {
            error(at: location(root), "missing key 'events' in the pipeline",
                  hint: "say which fields hold the customer, the time and the type, e.g. events: { customer: user_id, time: ts, type: event }")
        }
        var profile: [ProfileFieldSpec] = []
        var profileTTL: Located<TTLSpec>?
        if let node = top["profile"] { (profile, profileTTL) = profileSpecs(node) }
        var channels: [ChannelSpec] = []
        var channelsDeclared = false
        if let node = top["channels"] { (channels, channelsDeclared) = channelSpecs(node) }
        var erase: ExpressionSpec?
        if let node = top["erase"] {
            erase = expression(node, "'erase'", kind: .condition, warnIfConstant: true, journey: .unavailable(
                message: "'journey' is not available in 'erase'",
                hint: "erasure purges the customer from every journey; " + ExprJourney.whereAvailable))
        }
        var timezone: ExpressionSpec?
        if let node = top["timezone"] {
            timezone = expression(node, "'timezone'", kind: .value, journey: Self.noJourney("'timezone'"))
        }
        var defaultTimezone: Located<String>?
        if let node = top["default_timezone"], let name = string(node, "default_timezone", in: "the pipeline") {
            if CELTimeZone.named(name.value) != nil {
                defaultTimezone = name
            } else {
                error(at: name.location, "unknown time zone '\(name.value)'", length: width(name.value),
                      hint: "an IANA zone name such as Europe/Paris or America/New_York, 'UTC', or an offset such as +02:00")
            }
        }
        var journeys: [JourneySpec] = []
        if let node = top["journeys"] {
            journeys = journeySpecs(node)
        } else {
            error(at: location(root), "missing key 'journeys' in the pipeline",
                  hint: "add at least one journey with 'name', 'entry' and 'steps'")
        }
        if channelsDeclared { checkSentChannels(channels) }
        checkExpressions(events: events, profile: profile)
        guard let name, let events else { return nil }
        var spec = PipelineSpec(file: file, source: source, version: version, name: name,
                                description: description, events: events, journeys: journeys)
        spec.profile = profile
        spec.profileTTL = profileTTL
        spec.channels = channels
        spec.erase = erase
        spec.timezone = timezone
        spec.defaultTimezone = defaultTimezone
        return spec
    }

    static let topLevelKeys = ["cairn", "name", "description", "events", "profile", "channels", "erase", "timezone",
                               "default_timezone", "journeys"]

    /// Where `journey` cannot be read because no instance is running: its message and hint.
    static func noJourney(_ role: String) -> ExprJourney {
        .unavailable(message: "'journey' is not available in \(role)",
                     hint: "it is evaluated outside any journey instance; " + ExprJourney.whereAvailable)
    }

    mutating func eventsSpec(_ node: Node) -> EventsSpec? {
        guard let map = mapping(node, "'events'", allowed: ["customer", "time", "type", "time_format", "lateness"])
        else { return nil }
        let customer = requiredPath(map, "customer")
        let time = requiredPath(map, "time")
        let type = requiredPath(map, "type")
        var format = TimeFormat.rfc3339
        if let f = map["time_format"], let text = scalar(f, "'time_format'") {
            if let known = TimeFormat(rawValue: text) {
                format = known
            } else {
                error(at: location(f), "unknown time format '\(text)'", length: width(text),
                      hint: Suggestion.hint(for: text, among: TimeFormat.allCases.map(\.rawValue)))
            }
        }
        var lateness: Located<PipelineDuration>?
        if let node = map["lateness"] {
            lateness = duration(node, "'lateness'", allowZero: true)
        }
        guard let customer, let time, let type else { return nil }
        return EventsSpec(customer: customer, time: time, type: type, timeFormat: format, lateness: lateness)
    }

    mutating func requiredPath(_ map: CheckedMapping, _ key: String) -> Located<[String]>? {
        guard let node = map[key] else {
            error(at: map.location, "missing key '\(key)' in 'events'",
                  hint: "the dotted path of the event field that holds the \(key), e.g. \(key): \(key == "customer" ? "user_id" : key == "time" ? "ts" : "event")")
            return nil
        }
        guard let text = scalar(node, "'events.\(key)'") else { return nil }
        var path = text
        if path.hasPrefix("event.") { path.removeFirst("event.".count) }
        let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.isEmpty || segments.contains(where: \.isEmpty) {
            error(at: location(node), "'\(text)' is not a field path", length: max(1, width(text)),
                  hint: "write the field's dotted path, e.g. 'user_id' or 'context.user.id'")
            return nil
        }
        return Located(segments, location(node))
    }

    // MARK: - Reporting

    func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(line: 1, column: 1) }
        return clamped(SourceLocation(line: mark.line, column: mark.column))
    }

    /// A position past the last line (an empty node at the very end of a file without a
    /// final line break, such as a file of only '---'; the end of an expression that ends
    /// the file) is placed at the end of the last line, which is where it is.
    func clamped(_ location: SourceLocation) -> SourceLocation {
        guard location.line > lines.count, let last = lines.last else { return location }
        return SourceLocation(line: lines.count, column: last.unicodeScalars.count + 1)
    }

    func width(_ text: String) -> Int { max(1, text.unicodeScalars.count) }

    mutating func error(at location: SourceLocation, _ message: String, length: Int = 1, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, file: file, line: location.line, column: location.column,
                                      length: length, message: message, hint: hint))
    }

    mutating func warning(at location: SourceLocation, _ message: String, length: Int = 1, hint: String? = nil) {
        diagnostics.append(Diagnostic(.warning, file: file, line: location.line, column: location.column,
                                      length: length, message: message, hint: hint))
    }

    /// A libyaml position; one past the last line (the end of a file without a final newline)
    /// becomes the end of the last line, so that the line can be quoted.
    func yamlLocation(_ mark: Mark) -> SourceLocation {
        guard mark.line > lines.count, let last = lines.last else {
            return SourceLocation(line: max(1, mark.line), column: max(1, mark.column))
        }
        return SourceLocation(line: lines.count, column: last.unicodeScalars.count + 1)
    }

    mutating func report(_ yaml: YamlError) {
        switch yaml {
        case .scanner(let context, let problem, let yamlMark, _),
             .parser(let context, let problem, let yamlMark, _),
             .composer(let context, let problem, let yamlMark, _):
            let mark = yamlLocation(yamlMark)
            if problem.contains("another document") {
                error(at: mark,
                      "a pipeline file holds one YAML document, but another starts here",
                      length: 3, hint: "remove the '---' and what follows, or move it to a file of its own")
                return
            }
            var hint: String?
            if let context { hint = "\(context.text) at line \(context.mark.line)" }
            error(at: mark, "invalid YAML: \(problem)", hint: hint)
        case .duplicatedKeysInMapping(let duplicates, let context):
            error(at: yamlLocation(context.mark),
                  "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                  hint: "each key may appear once")
        case .reader(let problem, let offset, _, _):
            error(at: SourceLocation(line: 1, column: 1),
                  "cannot read the file as YAML: \(problem)" + (offset.map { " at byte \($0)" } ?? ""))
        default:
            error(at: SourceLocation(line: 1, column: 1), "cannot parse YAML: \(yaml)")
        }
    }

    /// The location of an offset inside an expression, for the compiler's diagnostics.
    func locate(_ expression: ExpressionSpec, utf8Offset: Int) -> SourceLocation {
        clamped(expression.scalar.locate(utf8Offset: utf8Offset, in: expression.text, lines: lines))
    }

    /// An expression's diagnostics placed in the file, at the token each one is about.
    func place(_ errors: ExprDiagnostics, of expression: ExpressionSpec) -> [Diagnostic] {
        errors.items.map { item in
            let at = locate(expression, utf8Offset: item.range.start)
            let end = locate(expression, utf8Offset: max(item.range.start, item.range.end))
            let length = end.line == at.line ? max(1, end.column - at.column) : 1
            return Diagnostic(item.severity == .error ? .error : .warning, file: file,
                              line: at.line, column: at.column, length: length,
                              message: item.message, hint: item.hint)
        }
    }
}

/// The errors (and warnings) of a pipeline that could not be loaded or compiled.
public struct PipelineErrors: Error, Sendable {
    /// In file order (line, then column; stable for findings at the same place).
    public var diagnostics: [Diagnostic]
    public var source: String

    public init(diagnostics: [Diagnostic], source: String) {
        self.diagnostics = diagnostics.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
        self.source = source
    }

    /// All diagnostics rendered for a terminal, in file order.
    public func rendered() -> String {
        diagnostics.map { $0.rendered(source: source) }.joined()
    }
}
