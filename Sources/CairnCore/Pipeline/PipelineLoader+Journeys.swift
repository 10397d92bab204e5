import Yams

extension PipelineLoader {
    static let journeyKeys = ["name", "entry", "key", "reentry", "exit", "hold", "goal", "priority", "steps"]

    mutating func journeySpecs(_ node: Node) -> [JourneySpec] {
        guard let seq = list(node, "'journeys'", of: "journeys") else { return [] }
        if seq.isEmpty {
            error(at: location(node), "'journeys' is empty", hint: "add at least one journey")
        }
        var journeys: [JourneySpec] = []
        var seen: [String: SourceLocation] = [:]
        for (i, item) in seq.enumerated() {
            let what = "journeys[\(i)]"
            let label: String
            if case .mapping(let m) = item, let n = m.value(forKey: "name")?.scalar?.string, !n.isEmpty {
                label = "journey '\(n)'"
            } else {
                label = what
            }
            guard let map = mapping(item, label, allowed: Self.journeyKeys) else { continue }
            let name = requiredString(map, "name", in: what, nonEmpty: true,
                                      hint: "journey names identify records, e.g. name: cart-recovery")
            if let name {
                if let first = seen[name.value] {
                    error(at: name.location, "duplicate journey name '\(name.value)'", length: width(name.value),
                          hint: "first used at line \(first.line); journey names identify records and must be unique")
                } else {
                    seen[name.value] = name.location
                }
            }
            var entry: ExpressionSpec?
            if let node = map["entry"] {
                entry = expression(node, "'entry' of \(label)", kind: .condition, warnIfConstant: true, journey: .unavailable(
                    message: "'journey' is not available in 'entry' of \(label)",
                    hint: "'entry' decides whether an instance starts, so there is none yet; " + ExprJourney.whereAvailable))
            } else {
                error(at: map.location, "missing key 'entry' in \(label)",
                      hint: "a CEL condition on the event, e.g. entry: type == \"add_to_cart\"")
            }
            var key: ExpressionSpec?
            if let node = map["key"] {
                key = expression(node, "'key' of \(label)", kind: .value, journey: .unavailable(
                    message: "'journey' is not available in 'key' of \(label)",
                    hint: "'key' names the instance, so it is evaluated before there is one; " + ExprJourney.whereAvailable))
            }
            var reentry: ReentrySpec?
            if let node = map["reentry"] {
                reentry = reentrySpec(node, "'reentry' of \(label)")
            }
            var exit: ExpressionSpec?
            if let node = map["exit"] {
                exit = expression(node, "'exit' of \(label)", kind: .condition, warnIfConstant: true, journey: .available)
            }
            var hold: HoldSpec?
            if let node = map["hold"] { hold = holdSpec(node, "'hold' of \(label)") }
            var goal: GoalSpec?
            if let node = map["goal"] {
                goal = goalSpec(node, "'goal' of \(label)")
            }
            if let exit, let goal, !goal.continues, goal.within == nil, Self.implies(exit.text, goal.when.text) {
                warning(at: exit.location, "'exit' of \(label) can never fire: its goal ends the instance first",
                        length: width(String(exit.text.prefix { $0 != "\n" })),
                        hint: "the goal is checked before the exit, and every event that meets the exit meets the goal; add 'continue: true' to the goal if the exit should end the instance")
            }
            var priority: Located<Int>?
            if let node = map["priority"] {
                priority = integer(node, "'priority' of \(label)", in: -1_000_000...1_000_000)
            }
            var steps: [StepSpec] = []
            if let node = map["steps"] {
                var ids: [String: SourceLocation] = [:]
                steps = stepList(node, path: "steps", journey: label, depth: 1, ids: &ids)
                if steps.isEmpty, case .sequence(let s) = node, s.isEmpty {
                    error(at: location(node), "'steps' of \(label) is empty", hint: "add a 'send' step")
                }
            } else {
                error(at: map.location, "missing key 'steps' in \(label)",
                      hint: "e.g. steps: [ { send: { channel: email, template: welcome } } ]")
            }
            if let name, let entry {
                var journey = JourneySpec(name: name, entry: entry, steps: steps, location: location(item))
                journey.key = key
                journey.reentry = reentry
                journey.exit = exit
                journey.hold = hold
                journey.goal = goal
                journey.priority = priority
                journeys.append(journey)
            }
        }
        return journeys
    }

    mutating func reentrySpec(_ node: Node, _ what: String) -> ReentrySpec? {
        guard let map = mapping(node, what, allowed: ["mode", "cooldown", "max"]) else { return nil }
        var mode = Located(ReentryMode.afterExit, map.location)
        var valid = true
        if let node = map["mode"], let text = scalar(node, "'mode' of \(what)") {
            if let known = ReentryMode(rawValue: text) {
                mode = Located(known, location(node))
            } else {
                error(at: location(node), "unknown reentry mode '\(text)'", length: width(text),
                      hint: Suggestion.hint(for: text, among: ReentryMode.allCases.map(\.rawValue)))
                valid = false
            }
        }
        var cooldown: Located<PipelineDuration>?
        if let node = map["cooldown"] { cooldown = duration(node, "'cooldown' of \(what)") }
        var max: Located<Int>?
        if let node = map["max"] { max = integer(node, "'max' of \(what)", in: 1...Int(Int32.max)) }
        if mode.value == .never {
            for key in ["cooldown", "max"] {
                guard let keyNode = map.keyNode(key) else { continue }
                error(at: location(keyNode), "'\(key)' does not apply to reentry mode 'never'", length: width(key),
                      hint: "with 'never' a customer enters once; use 'after_exit' or 'always' to allow more entries")
            }
        }
        guard valid else { return nil }
        return ReentrySpec(mode: mode, cooldown: cooldown, max: max)
    }

    mutating func goalSpec(_ node: Node, _ what: String) -> GoalSpec? {
        guard let map = mapping(node, what, allowed: ["when", "within", "continue"]) else { return nil }
        var when: ExpressionSpec?
        if let node = map["when"] {
            when = expression(node, "'when' of \(what)", kind: .condition, warnIfConstant: true, journey: .available)
        } else {
            error(at: map.location, "missing key 'when' in \(what)",
                  hint: "the condition of a conversion, e.g. when: type == \"purchase\"")
        }
        var within: Located<PipelineDuration>?
        if let node = map["within"] { within = duration(node, "'within' of \(what)") }
        var continues = false
        if let node = map["continue"] { continues = boolean(node, "'continue' of \(what)") ?? false }
        guard let when else { return nil }
        return GoalSpec(when: when, within: within, continues: continues)
    }

    /// `hold: COND`, or `hold: { when: COND, mode: wait|skip, max: DURATION }`.
    mutating func holdSpec(_ node: Node, _ what: String) -> HoldSpec? {
        guard case .mapping = node else {
            return expression(node, what, kind: .condition, warnIfConstant: true, journey: .available)
                .map { HoldSpec(when: $0) }
        }
        guard let map = mapping(node, what, allowed: ["when", "mode", "max"]) else { return nil }
        var when: ExpressionSpec?
        if let node = map["when"] {
            when = expression(node, "'when' of \(what)", kind: .condition, warnIfConstant: true, journey: .available)
        } else {
            error(at: map.location, "missing key 'when' in \(what)",
                  hint: "the condition that holds sends back, e.g. when: profile.open_tickets > 0")
        }
        var mode: Located<CompiledPipeline.Hold.Mode>?
        if let node = map["mode"], let text = scalar(node, "'mode' of \(what)") {
            if let known = CompiledPipeline.Hold.Mode(rawValue: text) {
                mode = Located(known, location(node))
            } else {
                error(at: location(node), "unknown hold mode '\(text)'", length: width(text),
                      hint: Suggestion.hint(for: text, among: CompiledPipeline.Hold.Mode.allCases.map(\.rawValue)))
            }
        }
        var max: Located<PipelineDuration>?
        if let node = map["max"] {
            if mode?.value == .skip, let keyNode = map.keyNode("max") {
                error(at: location(keyNode), "'max' does not apply to hold mode 'skip'", length: 3,
                      hint: "with 'skip' a held send is skipped at once; 'max' bounds how long mode 'wait' waits")
            } else {
                max = duration(node, "'max' of \(what)")
            }
        }
        guard let when else { return nil }
        return HoldSpec(when: when, mode: mode, max: max)
    }

    /// Whether condition `a` can only hold where `b` does, as far as their text shows: every
    /// `&&` conjunct of `b` is a conjunct of `a` (so `type == "purchase" && x` implies
    /// `type == "purchase"`). False when either does not parse, or `b` is a literal.
    static func implies(_ a: String, _ b: String) -> Bool {
        guard case .success(let x) = ExprParser.parse(a), case .success(let y) = ExprParser.parse(b) else { return false }
        // A constant is reported as constant already.
        if case .literal = y.kind { return false }
        func conjuncts(_ node: ExprNode) -> [String] {
            if case .binary(.and, let l, let r, _) = node.kind { return conjuncts(l) + conjuncts(r) }
            return [node.description]
        }
        let have = Set(conjuncts(x))
        return conjuncts(y).allSatisfy(have.contains)
    }
}
