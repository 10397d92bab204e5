import Yams

extension PipelineLoader {
    static let stepKinds = ["send", "wait", "wait_for", "branch", "split", "exit"]
    static let stepKeys = ["id"] + stepKinds + ["then", "else"]

    /// A list of steps at `path` (`steps`, `steps[3].branch[0].steps`, ...), recursing into
    /// nested lists; step ids are unique across the whole journey (`ids`).
    mutating func stepList(
        _ node: Node, path: String, journey: String, depth: Int, ids: inout [String: SourceLocation]
    ) -> [StepSpec] {
        guard let seq = list(node, "'\(path)' of \(journey)", of: "steps") else { return [] }
        if depth > Self.maximumStepDepth {
            error(at: location(node), "steps nest too deeply in \(journey)",
                  hint: "at most \(Self.maximumStepDepth) levels of nested step lists")
            return []
        }
        var steps: [StepSpec] = []
        var exitedAt: String?
        var reportedUnreachable = false
        for (i, item) in seq.enumerated() {
            let stepPath = "\(path)[\(i)]"
            stepBudget -= 1
            if stepBudget == -1 {
                error(at: location(item), "the pipeline has more than \(Self.maximumSteps) steps",
                      hint: "YAML aliases count once per use")
            }
            if stepBudget < 0 { return steps }
            if let exitedAt, !reportedUnreachable {
                reportedUnreachable = true
                warning(at: location(item), "\(stepPath) of \(journey) is unreachable",
                        hint: "\(exitedAt) before it is an 'exit' step, which ends the journey")
            }
            guard let step = step(item, path: stepPath, journey: journey, depth: depth, ids: &ids) else { continue }
            if case .exit = step.kind, exitedAt == nil { exitedAt = stepPath }
            steps.append(step)
        }
        return steps
    }

    mutating func step(
        _ item: Node, path: String, journey: String, depth: Int, ids: inout [String: SourceLocation]
    ) -> StepSpec? {
        let what = "\(path) of \(journey)"
        guard let map = mapping(item, what, allowed: Self.stepKeys) else { return nil }
        var id: Located<String>?
        if let node = map["id"], let located = string(node, "id", in: what) {
            let text = located.value
            if checkName(located, "step id") {
                if let first = ids[text] {
                    error(at: located.location, "duplicate step id '\(text)' in \(journey)", length: width(text),
                          hint: "first used at line \(first.line); step ids name steps in records and must be unique in a journey")
                } else {
                    ids[text] = located.location
                    id = located
                }
            }
        }
        let kinds = map.order.filter { Self.stepKinds.contains($0) }
        guard let kind = kinds.first else {
            if map.rejectedKeys == 0 {
                error(at: map.location, "\(what) has no step kind",
                      hint: "a step is one of 'send', 'wait', 'wait_for', 'branch', 'split', 'exit'")
            }
            return nil
        }
        for extra in kinds.dropFirst() {
            let at = map.keyNode(extra).map(location) ?? map.location
            error(at: at, "\(what) has two kinds, '\(kind)' and '\(extra)'", length: width(extra),
                  hint: "a step does one thing: write each as its own list item")
        }
        if kind != "wait_for" {
            for key in ["then", "else"] {
                guard let keyNode = map.keyNode(key) else { continue }
                error(at: location(keyNode), "'\(key)' in \(what) belongs beside 'wait_for'", length: width(key),
                      hint: kind == "branch" ? "give each branch arm its own 'steps', and a last arm { else: [...] }"
                          : "'then' and 'else' are the outcomes of a 'wait_for'")
            }
        }
        guard let body = map[kind] else { return nil }
        let at = location(item)
        func make(_ kind: StepSpec.Kind) -> StepSpec { StepSpec(kind: kind, path: path, id: id, location: at) }

        switch kind {
        case "send":
            return sendSpec(body, path: path, journey: journey).map { make(.send($0)) }
        case "wait":
            if case .mapping = body {
                return waitUntil(body, "'wait' of \(path) of \(journey)").map { make(.waitUntil($0)) }
            }
            return duration(body, "'wait' of \(path) of \(journey)").map { make(.wait($0)) }
        case "exit":
            guard let reason = string(body, "exit", in: what) else { return nil }
            guard checkName(reason, "exit reason") else { return nil }
            return make(.exit(reason: reason))
        case "wait_for":
            return waitFor(body, map, path: path, journey: journey, depth: depth, ids: &ids).map { make(.waitFor($0)) }
        case "branch":
            return branch(body, path: path, journey: journey, depth: depth, ids: &ids).map { make(.branch($0)) }
        default:
            return split(body, path: path, journey: journey, depth: depth, ids: &ids).map { make(.split($0)) }
        }
    }

    /// The day names of `days:`, Monday first (bit 0 of `WeekdaySet`).
    static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// `{ until: "HH:MM", days: [mon, ...] }`.
    mutating func waitUntil(_ node: Node, _ what: String) -> WaitUntilSpec? {
        guard let map = mapping(node, what, allowed: ["until", "days"]) else { return nil }
        var minute: Located<Int>?
        if let node = map["until"], let text = scalar(node, "'until' of \(what)") {
            if let m = Self.clockMinutes(text) {
                minute = Located(m, location(node))
            } else {
                error(at: location(node), "expected a time of day such as 09:00, got '\(text)'", length: width(text),
                      hint: "local time HH:MM on a 24-hour clock; quote it: until: \"09:00\"")
            }
        } else if map["until"] == nil {
            error(at: map.location, "missing key 'until' in \(what)",
                  hint: "the local time of day to wait for, e.g. until: \"09:00\"; or write wait: DURATION")
        }
        var days = CompiledPipeline.WeekdaySet.all
        var daysValid = true
        if let node = map["days"] {
            daysValid = false
            if let items = list(node, "'days' of \(what)", of: "days (mon, tue, wed, thu, fri, sat, sun)") {
                if items.isEmpty {
                    error(at: location(node), "'days' of \(what) is empty",
                          hint: "list at least one day, or leave 'days' out to wait for any day")
                } else {
                    var set = CompiledPipeline.WeekdaySet()
                    var ok = true
                    for item in items {
                        guard let text = scalar(item, "a day in 'days' of \(what)") else { ok = false; continue }
                        guard let index = Self.weekdays.firstIndex(of: text) else {
                            error(at: location(item), "unknown day '\(text)'", length: width(text),
                                  hint: Suggestion.hint(for: text.lowercased(), among: Self.weekdays))
                            ok = false
                            continue
                        }
                        let bit = CompiledPipeline.WeekdaySet(rawValue: 1 << index)
                        if set.contains(bit) {
                            error(at: location(item), "day '\(text)' appears twice in 'days' of \(what)",
                                  length: width(text), hint: "list each day once")
                            ok = false
                        }
                        set.insert(bit)
                    }
                    if ok { days = set; daysValid = true }
                }
            }
        }
        guard let minute, daysValid else { return nil }
        return WaitUntilSpec(minute: minute, days: days)
    }

    /// `HH:MM` (or `H:MM`) on a 24-hour clock, in minutes after midnight.
    static func clockMinutes(_ clock: String) -> Int? {
        let hm = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, (1...2).contains(hm[0].count), hm[1].count == 2,
              hm.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(hm[0]), let m = Int(hm[1]), h < 24, m < 60 else { return nil }
        return h * 60 + m
    }

    mutating func sendSpec(_ node: Node, path: String, journey: String) -> SendSpec? {
        let what = "'send' of \(path) of \(journey)"
        guard let map = mapping(node, what, allowed: ["channel", "template", "data"]) else { return nil }
        let channel = requiredString(map, "channel", in: what, nonEmpty: true,
                                     hint: "the delivery channel, e.g. channel: email")
        let template = requiredString(map, "template", in: what, nonEmpty: true,
                                      hint: "the message template's name, e.g. template: cart-reminder")
        if let channel { sentChannels.append(channel) }
        var data: [DataFieldSpec] = []
        if let node = map["data"] {
            if let fields = namedMapping(node, "'data' of \(path) of \(journey)") {
                for key in fields.order {
                    guard let keyNode = fields.keyNode(key), let value = fields[key] else { continue }
                    if let expr = expression(value, "'\(key)' in 'data' of \(path) of \(journey)", kind: .value,
                                             journey: .available) {
                        data.append(DataFieldSpec(name: Located(key, location(keyNode)), value: expr))
                    }
                }
            }
        }
        guard let channel, let template else { return nil }
        return SendSpec(channel: channel, template: template, data: data)
    }

    mutating func waitFor(
        _ node: Node, _ step: CheckedMapping, path: String, journey: String, depth: Int,
        ids: inout [String: SourceLocation]
    ) -> WaitForSpec? {
        let what = "'wait_for' of \(path)"
        let map = mapping(node, what, allowed: ["event", "timeout"])
        var event: ExpressionSpec?
        var timeout: Located<PipelineDuration>?
        if let map {
            if let e = map["event"] {
                event = expression(e, "'event' of \(what)", kind: .condition, warnIfConstant: true, journey: .available)
            } else {
                error(at: map.location, "missing key 'event' in \(what)",
                      hint: "the condition of the awaited event, e.g. event: type == \"checkout_started\"")
            }
            if let t = map["timeout"] {
                timeout = duration(t, "'timeout' of \(what)")
            } else {
                error(at: map.location, "missing key 'timeout' in \(what)",
                      hint: "how long to wait before going on with 'else', e.g. timeout: 1d")
            }
        }
        var then: [StepSpec] = []
        if let node = step["then"] {
            then = stepList(node, path: "\(path).then", journey: journey, depth: depth + 1, ids: &ids)
        }
        var otherwise: [StepSpec] = []
        if let node = step["else"] {
            otherwise = stepList(node, path: "\(path).else", journey: journey, depth: depth + 1, ids: &ids)
        }
        guard let event, let timeout else { return nil }
        return WaitForSpec(event: event, timeout: timeout, then: then, otherwise: otherwise)
    }

    mutating func branch(
        _ node: Node, path: String, journey: String, depth: Int, ids: inout [String: SourceLocation]
    ) -> [BranchArmSpec]? {
        guard let seq = list(node, "'branch' of \(path)", of: "arms ({ when: COND, steps: [...] })") else { return nil }
        if seq.isEmpty {
            error(at: location(node), "'branch' of \(path) has no arms",
                  hint: "add arms such as - when: CONDITION\n        steps: [ ... ]")
            return nil
        }
        var arms: [BranchArmSpec] = []
        var conditions: [(text: String, arm: String)] = []
        for (j, item) in seq.enumerated() {
            let armPath = "\(path).branch[\(j)]"
            guard let map = mapping(item, armPath, allowed: ["when", "steps", "else"]) else { continue }
            if map["else"] != nil {
                for key in ["when", "steps"] {
                    guard let keyNode = map.keyNode(key) else { continue }
                    error(at: location(keyNode), "'\(key)' in \(armPath) cannot sit beside 'else'", length: width(key),
                          hint: "an arm is either { when: COND, steps: [...] } or the last { else: [...] }")
                }
                if j != seq.count - 1, let keyNode = map.keyNode("else") {
                    error(at: location(keyNode), "'else' must be the last arm of the branch in \(path)", length: 4,
                          hint: "arms after 'else' would never run")
                }
                let steps = map["else"].map {
                    stepList($0, path: "\(armPath).else", journey: journey, depth: depth + 1, ids: &ids)
                } ?? []
                arms.append(BranchArmSpec(when: nil, steps: steps, location: location(item)))
                continue
            }
            var when: ExpressionSpec?
            if let node = map["when"] {
                when = expression(node, "'when' of \(armPath)", kind: .condition, warnIfConstant: true,
                                  journey: .available)
            } else if map.rejectedKeys == 0 {
                error(at: map.location, "missing key 'when' in \(armPath)",
                      hint: "the arm's condition, e.g. when: event.props.total > 100.0; a last arm { else: [...] } takes the rest")
            }
            var steps: [StepSpec] = []
            if let node = map["steps"] {
                steps = stepList(node, path: "\(armPath).steps", journey: journey, depth: depth + 1, ids: &ids)
            } else if map.rejectedKeys == 0 {
                error(at: map.location, "missing key 'steps' in \(armPath)",
                      hint: "the steps to run when 'when' holds; write steps: [] for none")
            }
            if let when {
                let canonical = Self.canonical(when.text)
                if let earlier = conditions.first(where: { $0.text == canonical }) {
                    warning(at: when.location, "'when' of \(armPath) repeats the condition of \(earlier.arm)",
                            length: width(String(when.text.prefix { $0 != "\n" })),
                            hint: "the first arm whose condition holds is taken, so this arm never runs")
                } else {
                    conditions.append((canonical, armPath))
                }
                arms.append(BranchArmSpec(when: when, steps: steps, location: location(item)))
            }
        }
        return arms
    }

    /// An expression's text with insignificant spacing removed, for comparing conditions: the
    /// parsed tree when it parses, else the text without whitespace runs.
    static func canonical(_ text: String) -> String {
        if case .success(let tree) = ExprParser.parse(text) { return tree.description }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }

    mutating func split(
        _ node: Node, path: String, journey: String, depth: Int, ids: inout [String: SourceLocation]
    ) -> SplitSpec? {
        let what = "'split' of \(path)"
        guard let map = mapping(node, what, allowed: ["salt", "variants"]) else { return nil }
        let salt = requiredString(map, "salt", in: what, nonEmpty: true,
                                  hint: "a fixed text mixed into the customer hash, e.g. salt: cart-2024-03; change it to reshuffle")
        guard let variantsNode = map["variants"] else {
            error(at: map.location, "missing key 'variants' in \(what)",
                  hint: "e.g. variants: { a: { weight: 50, steps: [...] }, control: { weight: 50, holdout: true } }")
            return nil
        }
        guard let variantsMap = namedMapping(variantsNode, "'variants' of \(path)") else { return nil }
        var variants: [VariantSpec] = []
        var total = 0
        var complete = true
        for key in variantsMap.order {
            guard let keyNode = variantsMap.keyNode(key), let value = variantsMap[key] else { continue }
            let name = Located(key, location(keyNode))
            _ = checkName(name, "variant name")
            let vwhat = "variant '\(key)' of \(path)"
            guard let vmap = mapping(value, vwhat, allowed: ["weight", "steps", "holdout"]) else {
                complete = false
                continue
            }
            var weight: Located<Int>?
            if let w = vmap["weight"] {
                weight = integer(w, "'weight' of \(vwhat)", in: 0...1_000_000)
            } else {
                error(at: vmap.location, "missing key 'weight' in \(vwhat)",
                      hint: "the variant's share, e.g. weight: 50 (weights are relative)")
            }
            var holdout = false
            if let h = vmap["holdout"] { holdout = boolean(h, "'holdout' of \(vwhat)") ?? false }
            var steps: [StepSpec] = []
            if let s = vmap["steps"] {
                if holdout, let keyNode = vmap.keyNode("steps") {
                    error(at: location(keyNode), "holdout variant '\(key)' has steps", length: 5,
                          hint: "a holdout is measured, not messaged: remove 'steps' or 'holdout: true'")
                }
                steps = stepList(s, path: "\(path).split.variants.\(key).steps", journey: journey,
                                 depth: depth + 1, ids: &ids)
            }
            guard let weight else {
                complete = false
                continue
            }
            total += weight.value
            variants.append(VariantSpec(name: name, weight: weight, holdout: holdout, steps: steps))
        }
        if variantsMap.order.count < 2 {
            error(at: location(variantsNode), "the split in \(path) has \(variantsMap.order.count == 0 ? "no variants" : "one variant")",
                  hint: "a split chooses between at least two variants; add a holdout to measure a single one")
        } else if complete && total == 0 {
            error(at: location(variantsNode), "the weights of the split in \(path) sum to 0",
                  hint: "give at least one variant a positive weight")
        }
        guard let salt else { return nil }
        return SplitSpec(salt: salt, variants: variants)
    }
}
