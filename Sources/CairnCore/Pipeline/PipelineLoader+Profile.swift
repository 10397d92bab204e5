import Yams

extension PipelineLoader {
    static let aggregateKeys = ["count", "sum", "min", "max", "avg", "last", "first", "distinct"]
    static let profileFieldKeys = aggregateKeys + ["where", "window", "bucket", "minus", "default", "capacity"]
    /// Most buckets in a window: each keeps a partial value per customer.
    public static let maximumBuckets: Int64 = 256
    /// Bounds of `capacity:` of a `distinct` (8 bytes of state each), and its default.
    public static let capacityRange = 2...1024
    public static let defaultCapacity = 16

    // MARK: - profile

    /// The fields of `profile:` and its `ttl:`. Every field name that is an identifier is
    /// also listed in `profileNames`, valid definition or not, so that expressions reading a
    /// broken field are not reported a second time.
    mutating func profileSpecs(_ node: Node) -> ([ProfileFieldSpec], Located<TTLSpec>?) {
        guard let map = namedMapping(node, "'profile'") else { return ([], nil) }
        var fields: [ProfileFieldSpec] = []
        var ttl: Located<TTLSpec>?
        for key in map.order {
            guard let keyNode = map.keyNode(key), let value = map[key] else { continue }
            if key == "ttl" {
                ttl = profileTTL(value, key: keyNode)
                continue
            }
            let name = Located(key, location(keyNode))
            if !Self.isIdentifier(key) {
                error(at: name.location, "profile name '\(key)' is not an identifier", length: width(key),
                      hint: "expressions read it as profile.NAME: use letters, digits and '_', starting with a letter or '_'")
            } else {
                profileNames.append(key)
            }
            readingProfileField = key
            if let field = profileField(value, name: name) { fields.append(field) }
            readingProfileField = nil
        }
        return (fields, ttl)
    }

    /// `ttl: DURATION` or `ttl: never`.
    mutating func profileTTL(_ node: Node, key: Node) -> Located<TTLSpec>? {
        let what = "'ttl' of 'profile'"
        let at = location(node)
        guard case .scalar(let s) = node else {
            if case .mapping = node {
                error(at: location(key), "'ttl' in 'profile' is the time an idle profile is kept, not a profile field",
                      length: 3,
                      hint: "'ttl' is reserved for the idle time ('ttl: 30d' or 'ttl: never'); give the field another name")
            } else {
                error(at: at, "\(what) must be a duration such as 30d, or never, not \(kindName(node))")
            }
            return nil
        }
        let text = s.string
        if text == "never" { return Located(.never, at) }
        switch PipelineDuration.parse(text) {
        case .success(let d) where d.seconds > 0:
            return Located(.after(d), at)
        case .success:
            error(at: at, "\(what) must be longer than 0s", length: width(text),
                  hint: "a customer idle that long is forgotten; write 'ttl: never' to keep profiles for good")
        case .failure(.notADuration):
            error(at: at, "expected a duration such as 30d, or never, got '\(text)'", length: width(text),
                  hint: "how long after a customer's latest event the profile is kept: \(Self.durationUnitsHint), or never")
        case .failure(let why):
            let (message, hint) = Self.durationProblem(text, why)
            error(at: at, message, length: width(text), hint: hint)
        }
        return nil
    }

    mutating func profileField(_ node: Node, name: Located<String>) -> ProfileFieldSpec? {
        let what = "profile '\(name.value)'"
        guard let map = mapping(node, what, allowed: Self.profileFieldKeys) else { return nil }
        let kinds = map.order.filter { Self.aggregateKeys.contains($0) }
        if kinds.isEmpty {
            if map.rejectedKeys == 0 {
                error(at: map.location, "\(what) has no aggregate",
                      hint: "give exactly one of 'count: COND', 'sum: EXPR', 'min: EXPR', 'max: EXPR', 'avg: EXPR', "
                        + "'last: EXPR', 'first: EXPR', 'distinct: EXPR'")
            }
            return nil
        }
        for extra in kinds.dropFirst() {
            let at = map.keyNode(extra).map(location) ?? map.location
            error(at: at, "\(what) has two aggregates, '\(kinds[0])' and '\(extra)'", length: width(extra),
                  hint: "a profile field computes one aggregate; define another field for '\(extra)'")
        }
        let kind = kinds[0]
        guard let kindNode = map[kind] else { return nil }
        let expr = expression(kindNode, "'\(kind)' of \(what)", kind: kind == "count" ? .condition : .value)

        var filter: ExpressionSpec?
        if let node = map["where"] {
            if kind == "count" {
                misplaced(map, "where", what, hint: "the condition of 'count' already selects the events: combine them with '&&'")
            } else {
                filter = expression(node, "'where' of \(what)", kind: .condition)
            }
        }
        var window: Located<PipelineDuration>?
        if let node = map["window"] { window = duration(node, "'window' of \(what)") }
        var bucket: Located<PipelineDuration>?
        if let node = map["bucket"] {
            bucket = duration(node, "'bucket' of \(what)")
            if map["window"] == nil {
                let at = map.keyNode("bucket").map(location) ?? map.location
                error(at: at, "'bucket' of \(what) needs a 'window'", length: width("bucket"),
                      hint: "'bucket' divides a window into steps of time; add 'window: DURATION', or remove 'bucket' to aggregate over all time")
                bucket = nil
            } else if let w = window, let b = bucket, let windowNode = map["window"] {
                if !checkBucket(b, node, of: w.value, windowNode, what) { bucket = nil }
            }
        }
        var minus: ExpressionSpec?
        if let node = map["minus"] {
            if kind != "count" {
                misplaced(map, "minus", what, hint: "'minus' subtracts matching events from a 'count'")
            } else {
                minus = expression(node, "'minus' of \(what)", kind: .condition)
            }
        }
        var defaultValue: Located<ScalarValue>?
        if let node = map["default"] {
            if kind == "count" {
                misplaced(map, "default", what, hint: "a count starts at 0")
            } else if kind == "distinct" {
                misplaced(map, "default", what, hint: "a distinct count starts at 0")
            } else {
                defaultValue = scalarValue(node, "'default' of \(what)")
                if let value = defaultValue, kind == "sum" || kind == "avg" {
                    let found: String? = switch value.value {
                    case .int, .double: nil
                    case .string(let text): "the string '\(text)'"
                    case .bool(let b): "\(b)"
                    case .null: "null"
                    }
                    if let found {
                        error(at: value.location, "'default' of \(what) must be a number, as '\(kind)' is, not \(found)",
                              length: scalarWidth(node),
                              hint: "the value before any event was selected, e.g. default: 0")
                        defaultValue = nil
                    }
                }
            }
        }
        var capacity: Located<Int>?
        if let node = map["capacity"] {
            if kind != "distinct" {
                misplaced(map, "capacity", what,
                          hint: "'capacity' says how many distinct values a 'distinct' counts exactly")
            } else {
                capacity = integer(node, "'capacity' of \(what)", in: Self.capacityRange)
            }
        }
        guard let expr else { return nil }
        let aggregate: ProfileFieldSpec.Aggregate
        switch kind {
        case "count": aggregate = .count(expr)
        case "sum": aggregate = .sum(expr)
        case "min": aggregate = .min(expr)
        case "max": aggregate = .max(expr)
        case "avg": aggregate = .avg(expr)
        case "last": aggregate = .last(expr)
        case "first": aggregate = .first(expr)
        default: aggregate = .distinct(expr)
        }
        return ProfileFieldSpec(name: name, aggregate: aggregate, filter: filter, window: window, bucket: bucket,
                                minus: minus, defaultValue: defaultValue, capacity: capacity)
    }

    /// A bucket divides its window into at most `maximumBuckets`; reports and returns false
    /// otherwise, with a hint at the nearest buckets that fit (preferring lengths of one unit,
    /// such as 6h or 3h, to 2h48m45s).
    mutating func checkBucket(_ bucket: Located<PipelineDuration>, _ bucketNode: Node,
                              of window: PipelineDuration, _ windowNode: Node, _ what: String) -> Bool {
        let w = window.seconds, b = bucket.value.seconds
        let bucketText = bucketNode.scalar?.string ?? bucket.value.description
        let windowText = windowNode.scalar?.string ?? window.description
        // Bucket counts k that divide the window into whole seconds, within bounds.
        let counts = (1...Self.maximumBuckets).filter { w % $0 == 0 }
        // Shown in days rather than weeks unless whole weeks (10d, not 1w3d).
        func shown(_ seconds: Int64) -> String {
            let d = PipelineDuration(seconds: seconds)
            guard seconds % 604_800 != 0, seconds >= 604_800 else { return d.description }
            let rest = PipelineDuration(seconds: seconds % 86_400)
            return "\(seconds / 86_400)d" + (rest.seconds == 0 ? "" : rest.description)
        }
        func isRound(_ k: Int64) -> Bool { shown(w / k).filter(\.isLetter).count == 1 }
        func pick(_ candidates: [Int64]) -> Int64? { candidates.first(where: isRound) ?? candidates.first }
        if w % b != 0 {
            let larger = pick(counts.filter { w / $0 > b }.reversed())     // nearest first
            let smaller = pick(counts.filter { w / $0 < b })
            let divisors = [smaller, larger].compactMap { $0 }.map { shown(w / $0) }
            error(at: bucket.location, "'bucket' \(bucketText) does not divide 'window' \(windowText) of \(what)",
                  length: width(bucketText),
                  hint: "a window is a whole number of buckets: use a divisor such as \(divisors.joined(separator: " or "))")
            return false
        }
        if w / b > Self.maximumBuckets {
            let k = pick(counts.reversed()) ?? 1
            error(at: bucket.location,
                  "'bucket' \(bucketText) makes \(w / b) buckets of 'window' \(windowText) of \(what), more than \(Self.maximumBuckets)",
                  length: width(bucketText),
                  hint: "each bucket keeps a partial value per customer; use a coarser bucket, such as \(shown(w / k)) (\(k) buckets)")
            return false
        }
        return true
    }

    /// The width of a scalar as written, its quotes included.
    func scalarWidth(_ node: Node) -> Int {
        guard case .scalar(let s) = node else { return 1 }
        let quoted = s.style == .singleQuoted || s.style == .doubleQuoted
        return width(s.string) + (quoted ? 2 : 0)
    }

    /// A key that exists but does not apply next to its siblings.
    mutating func misplaced(_ map: CheckedMapping, _ key: String, _ what: String, hint: String) {
        let at = map.keyNode(key).map(location) ?? map.location
        let kind = map.order.first { Self.aggregateKeys.contains($0) } ?? ""
        error(at: at, "'\(key)' does not apply to '\(kind)' in \(what)", length: width(key), hint: hint)
    }

    // MARK: - channels

    /// The channels, and whether the file declares any (then sends must use them).
    mutating func channelSpecs(_ node: Node) -> ([ChannelSpec], Bool) {
        guard let map = namedMapping(node, "'channels'") else { return ([], false) }
        var channels: [ChannelSpec] = []
        for key in map.order {
            guard let keyNode = map.keyNode(key), let value = map[key] else { continue }
            let name = Located(key, location(keyNode))
            _ = checkName(name, "channel name")
            let what = "channel '\(key)'"
            var channel = ChannelSpec(name: name)
            // `push:` with nothing (or null) after it declares a channel without policies.
            if case .scalar(let s) = value, s.style == .plain, ["", "~", "null"].contains(s.string) {
                channels.append(channel)
                continue
            }
            guard let fields = mapping(value, what, allowed: ["cap", "quiet", "timezone", "consent"]) else {
                channels.append(channel)
                continue
            }
            if let node = fields["cap"] { channel.cap = frequencyCap(node, "'cap' of \(what)") }
            if let node = fields["quiet"] { channel.quiet = quietHours(node, "'quiet' of \(what)") }
            if let node = fields["timezone"] {
                channel.timezone = expression(node, "'timezone' of \(what)", kind: .value)
            }
            if let node = fields["consent"] {
                channel.consent = expression(node, "'consent' of \(what)", kind: .condition)
            }
            channels.append(channel)
        }
        return (channels, !map.order.isEmpty)
    }

    /// `3 per 7d` (rolling), `1 per calendar day`, `2 per 7 calendar days`.
    mutating func frequencyCap(_ node: Node, _ what: String) -> Located<FrequencyCap>? {
        guard let text = scalar(node, what) else { return nil }
        let hint = "write 'N per DURATION', at most N sends in any DURATION, e.g. 3 per 7d or 1 per 12h; "
            + "or 'N per K calendar days', counted from local midnight, e.g. 1 per calendar day"
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count >= 3, parts[1] == "per", parts[0].allSatisfy({ $0.isASCII && $0.isNumber }) else {
            error(at: location(node), "expected a cap such as 3 per 7d, got '\(text)'", length: width(text), hint: hint)
            return nil
        }
        // Point at the part that is wrong.
        func at(_ part: Substring) -> SourceLocation {
            location(in: node, utf8Offset: text.utf8.distance(from: text.startIndex, to: part.startIndex))
        }
        guard let count = Int(parts[0]), count >= 1, count <= 1_000_000 else {
            error(at: at(parts[0]), "the count of a cap must be between 1 and 1000000, got \(parts[0])",
                  length: width(String(parts[0])), hint: hint)
            return nil
        }
        let rest = parts.dropFirst(2)
        if rest.contains(where: { $0 == "calendar" }) {
            // `calendar day` or `K calendar days`.
            let words = Array(rest)
            var days: Int?
            if words == ["calendar", "day"] {
                days = 1
            } else if words.count == 3, words[1] == "calendar", words[2] == "days" || words[2] == "day" {
                guard words[0].allSatisfy({ $0.isASCII && $0.isNumber }), let k = Int(words[0]), k >= 1, k <= 366 else {
                    error(at: at(words[0]), "the days of a calendar cap must be between 1 and 366, got \(words[0])",
                          length: width(String(words[0])), hint: hint)
                    return nil
                }
                days = k
            }
            guard let days else {
                error(at: location(node), "expected a cap such as 1 per calendar day or 2 per 7 calendar days, got '\(text)'",
                      length: width(text), hint: hint)
                return nil
            }
            return Located(FrequencyCap(count: count, period: .calendarDays(days)), location(node))
        }
        guard parts.count == 3 else {
            error(at: location(node), "expected a cap such as 3 per 7d, got '\(text)'", length: width(text), hint: hint)
            return nil
        }
        let period = String(parts[2])
        switch PipelineDuration.parse(period) {
        case .success(let per) where per.seconds > 0:
            return Located(FrequencyCap(count: count, period: .rolling(per)), location(node))
        case .success:
            error(at: at(parts[2]), "the period of a cap must be longer than 0s", length: width(period), hint: hint)
        case .failure(let why):
            let (message, hint) = Self.durationProblem(period, why)
            error(at: at(parts[2]), message, length: width(period), hint: hint)
        }
        return nil
    }

    /// `21:00-08:00`, or `{ hours: 21:00-08:00, mode: defer|drop }`.
    mutating func quietHours(_ node: Node, _ what: String) -> Located<QuietHours>? {
        guard case .mapping = node else { return quietRange(node, what) }
        guard let map = mapping(node, what, allowed: ["hours", "mode"]) else { return nil }
        var mode = CompiledPipeline.Quiet.Mode.defer
        var valid = true
        if let node = map["mode"], let text = scalar(node, "'mode' of \(what)") {
            if let known = CompiledPipeline.Quiet.Mode(rawValue: text) {
                mode = known
            } else {
                error(at: location(node), "unknown quiet mode '\(text)'", length: width(text),
                      hint: Suggestion.hint(for: text, among: CompiledPipeline.Quiet.Mode.allCases.map(\.rawValue)))
                valid = false
            }
        } else if map["mode"] != nil {
            valid = false
        }
        guard let hoursNode = map["hours"] else {
            error(at: map.location, "missing key 'hours' in \(what)",
                  hint: "the local hours when nothing is sent, e.g. hours: 21:00-08:00")
            return nil
        }
        guard var range = quietRange(hoursNode, "'hours' of \(what)"), valid else { return nil }
        range.value.mode = mode
        range.location = location(node)
        return range
    }

    /// `21:00-08:00`.
    mutating func quietRange(_ node: Node, _ what: String) -> Located<QuietHours>? {
        guard let text = scalar(node, what) else { return nil }
        let at = location(node)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: " \t") }
        guard parts.count == 2, let start = Self.clockMinutes(parts[0]), let end = Self.clockMinutes(parts[1]) else {
            error(at: at, "expected quiet hours such as 21:00-08:00, got '\(text)'", length: width(text),
                  hint: "local times HH:MM-HH:MM on a 24-hour clock; the range may wrap past midnight")
            return nil
        }
        if start == end {
            error(at: at, "quiet hours '\(text)' start and end at the same time", length: width(text),
                  hint: "give a range such as 21:00-08:00, or leave 'quiet' out")
            return nil
        }
        return Located(QuietHours(start: start, end: end), at)
    }

    /// With `channels:` declared, every `send` must name one of them.
    mutating func checkSentChannels(_ channels: [ChannelSpec]) {
        let names = channels.map(\.name.value)
        for used in sentChannels where !names.contains(used.value) {
            let near = Suggestion.closest(to: used.value, among: names)
            error(at: used.location, "unknown channel '\(used.value)'", length: width(used.value),
                  hint: near.map { "did you mean '\($0)'?" }
                    ?? "declare it under 'channels' (declared: \(names.map { "'\($0)'" }.joined(separator: ", ")))")
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}
