import Yams

/// Reads a pipeline file into a `PipelineSpec`, reporting every problem it finds.
///
/// Every key is checked: a misspelt one is an error with a did-you-mean hint, and a key that
/// belongs to the pipeline language but whose runtime is not built yet is an error saying so;
/// nothing is silently ignored.
public struct PipelineLoader {
    public let file: String
    public let source: String
    private let lines: [Substring]
    private var diagnostics: [Diagnostic] = []

    /// Keys of the pipeline language that this version of cairn does not run yet.
    static let notYetTopLevel: Set<String> = ["profile", "channels", "erase"]
    static let notYetEvents: Set<String> = ["lateness"]
    static let notYetJourney: Set<String> = ["key", "reentry", "exit", "hold", "goal", "priority"]
    static let notYetSteps: Set<String> = ["wait", "wait_for", "branch", "split", "exit"]
    static let notYetSend: Set<String> = ["data"]

    public init(file: String, source: String) {
        self.file = file
        self.source = source
        self.lines = source.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.last == "\r" ? $0.dropLast() : $0
        }
    }

    /// Parses and validates; returns the spec, or all diagnostics if there is any error.
    public static func load(file: String, source: String) -> Result<PipelineSpec, PipelineErrors> {
        var loader = PipelineLoader(file: file, source: source)
        let spec = loader.load()
        if let spec, !loader.diagnostics.contains(where: { $0.severity == .error }) {
            return .success(spec)
        }
        return .failure(PipelineErrors(diagnostics: loader.diagnostics, source: source))
    }

    // MARK: - Document

    private mutating func load() -> PipelineSpec? {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: source) else {
                error(at: SourceLocation(line: 1, column: 1), "pipeline file is empty",
                      hint: "a pipeline needs at least 'name', 'events' and 'journeys'")
                return nil
            }
            root = node
        } catch let yaml as YamlError {
            report(yaml)
            return nil
        } catch {
            self.error(at: SourceLocation(line: 1, column: 1), "cannot parse YAML: \(error)")
            return nil
        }
        guard let top = mapping(root, "the pipeline") else { return nil }
        checkKeys(top, in: "the pipeline",
                  allowed: ["cairn", "name", "description", "events", "journeys"],
                  notYet: Self.notYetTopLevel)

        var version = 1
        if let node = top["cairn"] {
            if let text = scalar(node, "'cairn'"), text != "1" {
                error(at: location(node), "unsupported pipeline format version '\(text)'",
                      hint: "this cairn reads format 1: write 'cairn: 1'")
            }
            version = 1
        }
        let name = requiredString(top, "name", in: "the pipeline")
        var description: String?
        if let node = top["description"] { description = scalar(node, "'description'") }
        let events = top["events"].flatMap { eventsSpec($0) }
        if top["events"] == nil {
            error(at: location(root), "missing key 'events' in the pipeline",
                  hint: "say which fields hold the customer, the time and the type, e.g. events: { customer: user_id, time: ts, type: event }")
        }
        var journeys: [JourneySpec] = []
        if let node = top["journeys"] {
            journeys = journeySpecs(node)
        } else {
            error(at: location(root), "missing key 'journeys' in the pipeline",
                  hint: "add at least one journey with 'name', 'entry' and 'steps'")
        }
        guard let name, let events else { return nil }
        return PipelineSpec(file: file, source: source, version: version, name: name,
                            description: description, events: events, journeys: journeys)
    }

    private mutating func eventsSpec(_ node: Node) -> EventsSpec? {
        guard let map = mapping(node, "'events'") else { return nil }
        checkKeys(map, in: "'events'", allowed: ["customer", "time", "type", "time_format"],
                  notYet: Self.notYetEvents)
        let customer = requiredPath(map, "customer", parent: node)
        let time = requiredPath(map, "time", parent: node)
        let type = requiredPath(map, "type", parent: node)
        var format = TimeFormat.rfc3339
        if let f = map["time_format"], let text = scalar(f, "'time_format'") {
            if let known = TimeFormat(rawValue: text) {
                format = known
            } else {
                error(at: location(f), "unknown time format '\(text)'", length: text.unicodeScalars.count,
                      hint: Suggestion.hint(for: text, among: TimeFormat.allCases.map(\.rawValue)))
            }
        }
        guard let customer, let time, let type else { return nil }
        return EventsSpec(customer: customer, time: time, type: type, timeFormat: format)
    }

    private mutating func journeySpecs(_ node: Node) -> [JourneySpec] {
        guard case .sequence(let seq) = node else {
            error(at: location(node), "'journeys' must be a list of journeys",
                  hint: "write each journey as a list item: '- name: ...'")
            return []
        }
        if seq.isEmpty {
            error(at: location(node), "'journeys' is empty", hint: "add at least one journey")
        }
        var journeys: [JourneySpec] = []
        var seen: [String: SourceLocation] = [:]
        for (i, item) in seq.enumerated() {
            let what = "journeys[\(i)]"
            guard let map = mapping(item, what) else { continue }
            let label = map["name"].flatMap { $0.scalar?.string }.map { "journey '\($0)'" } ?? what
            checkKeys(map, in: label, allowed: ["name", "entry", "steps"], notYet: Self.notYetJourney)
            let name = requiredString(map, "name", in: what)
            if let name {
                if name.value.isEmpty {
                    error(at: name.location, "journey name is empty")
                } else if let first = seen[name.value] {
                    error(at: name.location, "duplicate journey name '\(name.value)'",
                          length: name.value.unicodeScalars.count,
                          hint: "first used at line \(first.line); journey names identify records and must be unique")
                } else {
                    seen[name.value] = name.location
                }
            }
            var entry: ExpressionSpec?
            if let node = map["entry"] {
                entry = expression(node, "'entry' of \(label)")
            } else {
                error(at: location(item), "missing key 'entry' in \(label)",
                      hint: "a CEL condition on the event, e.g. entry: type == \"add_to_cart\"")
            }
            var steps: [StepSpec] = []
            if let node = map["steps"] {
                steps = stepSpecs(node, in: label)
            } else {
                error(at: location(item), "missing key 'steps' in \(label)",
                      hint: "e.g. steps: [ { send: { channel: email, template: welcome } } ]")
            }
            if let name, let entry {
                journeys.append(JourneySpec(name: name, entry: entry, steps: steps))
            }
        }
        return journeys
    }

    private mutating func stepSpecs(_ node: Node, in journey: String) -> [StepSpec] {
        guard case .sequence(let seq) = node else {
            error(at: location(node), "'steps' of \(journey) must be a list of steps")
            return []
        }
        if seq.isEmpty { error(at: location(node), "'steps' of \(journey) is empty", hint: "add a 'send' step") }
        var steps: [StepSpec] = []
        for (i, item) in seq.enumerated() {
            let path = "steps[\(i)]"
            guard let map = mapping(item, "\(path) of \(journey)") else { continue }
            checkKeys(map, in: "\(path) of \(journey)", allowed: ["id", "send"], notYet: Self.notYetSteps)
            var name = path
            if let idNode = map["id"], let id = scalar(idNode, "'id'") {
                if id.isEmpty { error(at: location(idNode), "step id is empty") } else { name = id }
            }
            guard let sendNode = map["send"] else {
                if !map.keys.contains(where: { Self.notYetSteps.contains($0.string ?? "") }) {
                    error(at: location(item), "\(path) of \(journey) has no step kind",
                          hint: "a step is one of 'send' (now), 'wait', 'wait_for', 'branch', 'split', 'exit' (later)")
                }
                continue
            }
            guard let send = mapping(sendNode, "'send' of \(path)") else { continue }
            checkKeys(send, in: "'send' of \(path)", allowed: ["channel", "template"], notYet: Self.notYetSend)
            let channel = requiredString(send, "channel", in: "'send' of \(path)", nonEmpty: true, parent: sendNode)
            let template = requiredString(send, "template", in: "'send' of \(path)", nonEmpty: true, parent: sendNode)
            if let channel, let template {
                steps.append(StepSpec(kind: .send(channel: channel, template: template), path: name,
                                      location: location(item)))
            }
        }
        return steps
    }

    // MARK: - Values

    private mutating func expression(_ node: Node, _ what: String) -> ExpressionSpec? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be a CEL expression (a string)",
                  hint: "quote it if YAML reads it as a list or mapping")
            return nil
        }
        if s.string.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" }) {
            error(at: location(node), "\(what) is empty")
            return nil
        }
        let style: ScalarPosition.Style
        switch s.style {
        case .singleQuoted: style = .singleQuoted
        case .doubleQuoted: style = .doubleQuoted
        case .literal: style = .literal
        case .folded: style = .folded
        default: style = .plain
        }
        let at = location(node)
        return ExpressionSpec(text: s.string, scalar: ScalarPosition(line: at.line, column: at.column, style: style))
    }

    private mutating func requiredString(
        _ map: Node.Mapping, _ key: String, in what: String, nonEmpty: Bool = false, parent: Node? = nil
    ) -> Located<String>? {
        guard let node = map[key] else {
            error(at: parent.map(location) ?? SourceLocation(line: map.mark?.line ?? 1, column: map.mark?.column ?? 1),
                  "missing key '\(key)' in \(what)")
            return nil
        }
        guard let text = scalar(node, "'\(key)'") else { return nil }
        if nonEmpty && text.isEmpty {
            error(at: location(node), "'\(key)' in \(what) is empty")
            return nil
        }
        return Located(text, location(node))
    }

    private mutating func requiredPath(_ map: Node.Mapping, _ key: String, parent: Node) -> Located<[String]>? {
        guard let node = map[key] else {
            error(at: location(parent), "missing key '\(key)' in 'events'",
                  hint: "the dotted path of the event field that holds the \(key), e.g. \(key): \(key == "customer" ? "user_id" : key == "time" ? "ts" : "event")")
            return nil
        }
        guard let text = scalar(node, "'events.\(key)'") else { return nil }
        var path = text
        if path.hasPrefix("event.") { path.removeFirst("event.".count) }
        let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if path.isEmpty || segments.contains(where: \.isEmpty) {
            error(at: location(node), "'\(text)' is not a field path", length: max(1, text.unicodeScalars.count),
                  hint: "write the field's dotted path, e.g. 'user_id' or 'context.user.id'")
            return nil
        }
        return Located(segments, location(node))
    }

    private mutating func scalar(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be a single value, not a \(kindName(node))")
            return nil
        }
        return s.string
    }

    private mutating func mapping(_ node: Node, _ what: String) -> Node.Mapping? {
        guard case .mapping(let map) = node else {
            error(at: location(node), "\(what) must be a mapping of keys to values, not a \(kindName(node))")
            return nil
        }
        return map
    }

    private mutating func checkKeys(_ map: Node.Mapping, in what: String, allowed: [String], notYet: Set<String>) {
        for (keyNode, _) in map {
            guard let key = keyNode.scalar?.string else {
                error(at: location(keyNode), "keys in \(what) must be plain names")
                continue
            }
            if allowed.contains(key) { continue }
            let length = max(1, key.unicodeScalars.count)
            if notYet.contains(key) {
                error(at: location(keyNode), "'\(key)' in \(what) is not supported yet", length: length,
                      hint: "this version of cairn runs \(allowed.map { "'\($0)'" }.joined(separator: ", ")) here; '\(key)' arrives with a later release")
            } else {
                error(at: location(keyNode), "unknown key '\(key)' in \(what)", length: length,
                      hint: Suggestion.hint(for: key, among: allowed + notYet.sorted()))
            }
        }
    }

    // MARK: - Reporting

    private func kindName(_ node: Node) -> String {
        switch node {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "alias"
        }
    }

    private func location(_ node: Node) -> SourceLocation {
        guard let mark = node.mark else { return SourceLocation(line: 1, column: 1) }
        return SourceLocation(line: mark.line, column: mark.column)
    }

    mutating func error(at location: SourceLocation, _ message: String, length: Int = 1, hint: String? = nil) {
        diagnostics.append(Diagnostic(.error, file: file, line: location.line, column: location.column,
                                      length: length, message: message, hint: hint))
    }

    private mutating func report(_ yaml: YamlError) {
        switch yaml {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var hint: String?
            if let context { hint = "\(context.text) at line \(context.mark.line)" }
            error(at: SourceLocation(line: mark.line, column: mark.column), "invalid YAML: \(problem)", hint: hint)
        case .duplicatedKeysInMapping(let duplicates, let context):
            error(at: SourceLocation(line: context.mark.line, column: context.mark.column),
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
        expression.scalar.locate(utf8Offset: utf8Offset, in: expression.text, lines: lines)
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
