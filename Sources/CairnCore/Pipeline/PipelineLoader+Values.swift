import Yams

extension Node.Mapping {
    /// The value of the first key whose text is `key`. (Yams' own subscript compares resolved
    /// tags, and builds its key with the default resolver, which cairn does not load.)
    func value(forKey key: String) -> Node? {
        first { $0.key.scalar?.string == key }?.value
    }
}

/// A YAML mapping whose keys have been checked, looked up by key text.
struct CheckedMapping {
    var node: Node
    var entries: [String: (key: Node, value: Node)]
    /// Keys in file order.
    var order: [String]
    /// How many keys were reported as unknown or malformed.
    var rejectedKeys: Int

    subscript(key: String) -> Node? { entries[key]?.value }

    func keyNode(_ key: String) -> Node? { entries[key]?.key }

    var location: SourceLocation {
        guard let mark = node.mark else { return SourceLocation(line: 1, column: 1) }
        return SourceLocation(line: mark.line, column: mark.column)
    }
}

extension PipelineLoader {
    // MARK: - Shapes

    /// What a node is, for "must be a mapping, not a list".
    func kindName(_ node: Node) -> String {
        switch node {
        case .scalar(let s):
            if s.string.isEmpty && s.style == .plain { return "an empty value" }
            return "a single value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    /// A mapping with only `allowed` keys; others are reported (with a did-you-mean hint) and
    /// left out.
    mutating func mapping(_ node: Node, _ what: String, allowed: [String]) -> CheckedMapping? {
        guard case .mapping(let map) = node else {
            error(at: location(node), "\(what) must be a mapping of keys to values, not \(kindName(node))")
            return nil
        }
        return checked(map, node: node, what, allowed: allowed)
    }

    /// A mapping whose keys are names chosen by the user (profile fields, channels, variants):
    /// every key must be a plain, non-empty name.
    mutating func namedMapping(_ node: Node, _ what: String) -> CheckedMapping? {
        guard case .mapping(let map) = node else {
            error(at: location(node), "\(what) must be a mapping of names to definitions, not \(kindName(node))")
            return nil
        }
        return checked(map, node: node, what, allowed: nil)
    }

    private mutating func checked(_ map: Node.Mapping, node: Node, _ what: String, allowed: [String]?) -> CheckedMapping {
        var result = CheckedMapping(node: node, entries: [:], order: [], rejectedKeys: 0)
        for (keyNode, value) in map {
            guard case .scalar(let s) = keyNode else {
                error(at: location(keyNode), "keys in \(what) must be plain names, not \(kindName(keyNode))")
                result.rejectedKeys += 1
                continue
            }
            let key = s.string
            if let allowed, !allowed.contains(key) {
                error(at: location(keyNode), "unknown key '\(key)' in \(what)", length: width(key),
                      hint: Suggestion.hint(for: key, among: allowed))
                result.rejectedKeys += 1
                continue
            }
            if key.isEmpty {
                error(at: location(keyNode), "empty key in \(what)")
                result.rejectedKeys += 1
                continue
            }
            if result.entries[key] != nil {
                // Yams reports most duplicates; keys that differ only in quoting reach here.
                error(at: location(keyNode), "duplicate key '\(key)' in \(what)", length: width(key),
                      hint: "each key may appear once")
                result.rejectedKeys += 1
                continue
            }
            result.entries[key] = (keyNode, value)
            result.order.append(key)
        }
        return result
    }

    mutating func list(_ node: Node, _ what: String, of items: String) -> [Node]? {
        guard case .sequence(let seq) = node else {
            error(at: location(node), "\(what) must be a list of \(items), not \(kindName(node))",
                  hint: "write each item on its own line starting with '- '")
            return nil
        }
        return Array(seq)
    }

    // MARK: - Scalars

    mutating func scalar(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be a single value, not \(kindName(node))")
            return nil
        }
        return s.string
    }

    mutating func requiredString(
        _ map: CheckedMapping, _ key: String, in what: String, nonEmpty: Bool = true, hint: String? = nil
    ) -> Located<String>? {
        guard let node = map[key] else {
            error(at: map.location, "missing key '\(key)' in \(what)", hint: hint)
            return nil
        }
        return string(node, key, in: what, nonEmpty: nonEmpty)
    }

    mutating func string(_ node: Node, _ key: String, in what: String, nonEmpty: Bool = true) -> Located<String>? {
        guard let text = scalar(node, "'\(key)' in \(what)") else { return nil }
        if case .scalar(let s) = node, s.style == .plain, ["null", "Null", "NULL", "~"].contains(text) {
            error(at: location(node), "'\(key)' in \(what) is null, not text",
                  length: width(text), hint: "quote it if you mean the word: '\(key): \"\(text)\"'")
            return nil
        }
        if nonEmpty && text.isEmpty {
            error(at: location(node), "'\(key)' in \(what) is empty")
            return nil
        }
        return Located(text, location(node))
    }

    /// A name chosen by the user that ends up in records or in expressions: letters, digits,
    /// `_`, `-` and `.`, starting with a letter, a digit or `_`.
    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isNameStart(first) else { return false }
        return text.unicodeScalars.allSatisfy { isNameStart($0) || $0 == "-" || $0 == "." }
    }

    private static func isNameStart(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_")
    }

    /// A CEL identifier: `[A-Za-z_][A-Za-z0-9_]*`, so that `profile.NAME` can read it.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII,
              first.properties.isAlphabetic || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
        }
    }

    /// Checks a user-chosen name; reports and returns false when it is not one.
    mutating func checkName(_ name: Located<String>, _ what: String) -> Bool {
        if Self.isName(name.value) { return true }
        error(at: name.location, "\(what) '\(name.value)' is not a valid name", length: width(name.value),
              hint: "use letters, digits, '_', '-' and '.', starting with a letter, a digit or '_'")
        return false
    }

    /// A YAML integer in `range`.
    mutating func integer(_ node: Node, _ what: String, in range: ClosedRange<Int>) -> Located<Int>? {
        let bounds = range.upperBound == Int.max ? "\(range.lowerBound) or more"
            : "between \(range.lowerBound) and \(range.upperBound)"
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be an integer \(bounds), not \(kindName(node))")
            return nil
        }
        let text = s.string
        var digits = Substring(text)
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            error(at: location(node), "\(what) must be an integer \(bounds), got '\(text)'", length: width(text))
            return nil
        }
        guard let value = Int(text), range.contains(value) else {
            error(at: location(node), "\(what) must be an integer \(bounds), got \(text)", length: width(text))
            return nil
        }
        return Located(value, location(node))
    }

    /// A YAML boolean: `true` or `false` (YAML 1.2; `yes`, `on` and friends are refused).
    mutating func boolean(_ node: Node, _ what: String) -> Bool? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be true or false, not \(kindName(node))")
            return nil
        }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            error(at: location(node), "\(what) must be true or false, got '\(s.string)'", length: width(s.string))
            return nil
        }
    }

    /// A YAML scalar as a typed value under the YAML 1.2 core schema; quoted text is a string.
    mutating func scalarValue(_ node: Node, _ what: String) -> Located<ScalarValue>? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be a single value (a number, a string, true, false or null), not \(kindName(node))")
            return nil
        }
        let at = location(node)
        let text = s.string
        if s.style != .plain { return Located(.string(text), at) }
        switch text {
        case "", "~", "null", "Null", "NULL": return Located(.null, at)
        case "true", "True", "TRUE": return Located(.bool(true), at)
        case "false", "False", "FALSE": return Located(.bool(false), at)
        default: break
        }
        if let i = Int64(text) { return Located(.int(i), at) }
        // A YAML number (Double accepts exactly the decimal forms here) that CEL cannot hold:
        // an integer beyond 64 bits or a float beyond the double range.
        let decimal = text.unicodeScalars.allSatisfy { "0123456789+-.eE".unicodeScalars.contains($0) }
            && text.unicodeScalars.contains { ("0"..."9").contains($0) }
        if decimal, let d = Double(text) {
            let integral = text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || $0 == "-" || $0 == "+" }
            if d.isFinite && !integral { return Located(.double(d), at) }
            error(at: at, "\(what) is not a number CEL can hold, got \(text)", length: width(text),
                  hint: "integers are 64-bit and decimals must be finite; quote the value to make it a string")
            return nil
        }
        // What YAML reads as a number but JSON and CEL write otherwise is an error, as in a
        // test file (rather than the string it would silently become).
        if Self.isYAMLNumber(text) {
            error(at: at, "\(what) is \(text), a number in YAML but not in JSON", length: width(text),
                  hint: "write it as JSON writes numbers (e.g. 0.5, 10, -3, 1e3), or quote it to make it a string")
            return nil
        }
        return Located(.string(text), at)
    }

    /// Whether a plain scalar is a number under the YAML 1.2 core schema: `+1`, `.5`, `1.`,
    /// `007`, `0x1F`, `0o17`, `.inf`, `.nan` (and the JSON forms). `5.1.0` and `1_000` are
    /// strings there.
    static func isYAMLNumber(_ text: String) -> Bool {
        var s = Substring(text)
        func take(_ set: String) -> Int {
            let n = s.prefix { set.contains($0) }.count
            s = s.dropFirst(n)
            return n
        }
        let digits = "0123456789"
        if text.hasPrefix("0x") { s = s.dropFirst(2); return take(digits + "abcdefABCDEF") > 0 && s.isEmpty }
        if text.hasPrefix("0o") { s = s.dropFirst(2); return take("01234567") > 0 && s.isEmpty }
        if s.first == "-" || s.first == "+" { s = s.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(String(s)) { return true }
        if [".nan", ".NaN", ".NAN"].contains(text) { return true }
        let whole = take(digits)
        var fraction = 0
        if s.first == "." {
            s = s.dropFirst()
            fraction = take(digits)
        } else if whole == 0 {
            return false
        }
        guard whole + fraction > 0 else { return false }
        if s.first == "e" || s.first == "E" {
            s = s.dropFirst()
            if s.first == "-" || s.first == "+" { s = s.dropFirst() }
            guard take(digits) > 0 else { return false }
        }
        return s.isEmpty
    }

    // MARK: - Durations

    /// A duration (`30m`, `1h30m`, `7d`); zero only where `allowZero`.
    mutating func duration(_ node: Node, _ what: String, allowZero: Bool = false) -> Located<PipelineDuration>? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(what) must be a duration such as 30m, 1h or 7d, not \(kindName(node))")
            return nil
        }
        let text = s.string
        let at = location(node)
        switch PipelineDuration.parse(text) {
        case .success(let d):
            if d.seconds == 0 && !allowZero {
                error(at: at, "\(what) must be longer than 0s", length: width(text),
                      hint: "a zero duration has no effect here; leave the key out or give a length")
                return nil
            }
            return Located(d, at)
        case .failure(let why):
            let (message, hint) = Self.durationProblem(text, why)
            error(at: at, message, length: width(text), hint: hint)
            return nil
        }
    }

    static let durationUnitsHint = "a whole number and a unit: s, m, h, d or w (seconds, minutes, hours, days, weeks), e.g. 90s, 10m, 7d, or 1h30m"

    static func durationProblem(_ text: String, _ why: PipelineDuration.ParseError) -> (String, String) {
        let expected = "expected a duration such as 30m, 1h or 7d, got '\(text)'"
        switch why {
        case .notADuration: return (expected, durationUnitsHint)
        case .missingUnit: return (expected, "add a unit: s, m, h, d or w, e.g. \(text)s or \(text)m")
        case .fraction: return (expected, "use whole numbers of a smaller unit, e.g. 1h30m rather than 1.5h")
        case .signed: return (expected, "a duration has no sign; " + durationUnitsHint)
        case .unknownUnit(let unit):
            let near: String
            switch unit.lowercased() {
            case "sec", "secs", "second", "seconds": near = "s"
            case "min", "mins", "minute", "minutes": near = "m"
            case "hr", "hrs", "hour", "hours": near = "h"
            case "day", "days": near = "d"
            case "wk", "wks", "week", "weeks": near = "w"
            default: near = ""
            }
            if !near.isEmpty { return (expected, "unknown unit '\(unit)': did you mean '\(near)'? units are s, m, h, d, w") }
            return (expected, "unknown unit '\(unit)'; units are s, m, h, d, w (no months or years: write 30d or 52w)")
        case .unitOrder: return (expected, "write units largest first and each once, e.g. 1h30m or 1d12h")
        case .tooLong: return ("duration '\(text)' is longer than 100 years", "durations are at most 100 years")
        }
    }

    // MARK: - Expressions

    /// A CEL expression held by a scalar; it is compiled with the rest once the file is read.
    ///
    /// `journey`: whether it may read `journey.NAME`; by default not, with a message naming
    /// `role`.
    mutating func expression(
        _ node: Node, _ role: String, kind: ExpressionSpec.Kind, warnIfConstant: Bool = false,
        journey: ExprJourney? = nil
    ) -> ExpressionSpec? {
        guard case .scalar(let s) = node else {
            error(at: location(node), "\(role) must be a CEL expression (a string), not \(kindName(node))",
                  hint: "quote it if YAML reads it as a list or mapping")
            return nil
        }
        if s.string.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r\n" }) {
            error(at: location(node), "\(role) is empty",
                  hint: kind == .condition ? "write a CEL condition, e.g. type == \"purchase\"" : "write a CEL expression, e.g. event.props.sku")
            return nil
        }
        var spec = ExpressionSpec(text: s.string, scalar: scalarPosition(node, s), role: role, kind: kind)
        spec.journey = journey ?? Self.noJourney(role)
        expressions.append((spec, warnIfConstant, readingProfileField))
        return spec
    }

    func scalarPosition(_ node: Node, _ scalar: Node.Scalar) -> ScalarPosition {
        let style: ScalarPosition.Style
        switch scalar.style {
        case .singleQuoted: style = .singleQuoted
        case .doubleQuoted: style = .doubleQuoted
        case .literal: style = .literal
        case .folded: style = .folded
        default: style = .plain
        }
        let at = location(node)
        return ScalarPosition(line: at.line, column: at.column, style: style)
    }

    /// The file position of a part of a scalar's value (`7days` in `3 per 7days`).
    func location(in node: Node, utf8Offset offset: Int) -> SourceLocation {
        guard case .scalar(let s) = node else { return location(node) }
        return clamped(scalarPosition(node, s).locate(utf8Offset: offset, in: s.string, lines: lines))
    }
}
