/// How `cairn test` compares what a test expects with what a run wrote (docs/testing.md,
/// "Expectations"): matchers, the alignment of an expected list with the records, and the
/// YAML a matcher is shown and re-recorded as.
public enum RecordMatch {
    /// Whether `actual` has what `expected` asks: an object every field of the expected object
    /// with a matching value (a subset), an array the same number of matching elements, a number
    /// an equal value, a string the same text or, when both are RFC 3339 times, the same instant.
    public static func matches(_ expected: JSONTree, _ actual: JSONTree) -> Bool {
        switch (expected, actual) {
        case let (.object(want), .object(_)):
            return want.allSatisfy { key, value in actual[key].map { matches(value, $0) } ?? false }
        case let (.array(want), .array(got)):
            return want.count == got.count && zip(want, got).allSatisfy { matches($0, $1) }
        case let (.number(want), .number(got)):
            return sameNumber(want, got)
        case let (.string(want), .string(got)):
            return want == got || sameInstant(want, got)
        default:
            return expected == actual
        }
    }

    /// What differs, one phrase per field: `template: expected "a", got "b"`,
    /// `no field 'reason'`; empty when `actual` matches.
    public static func differences(_ expected: JSONTree, _ actual: JSONTree, path: String = "") -> [String] {
        if case let (.object(want), .object(_)) = (expected, actual) {
            return want.flatMap { key, value -> [String] in
                let at = path.isEmpty ? key : "\(path).\(key)"
                guard let got = actual[key] else { return ["no field '\(at)'"] }
                return differences(value, got, path: at)
            }
        }
        if matches(expected, actual) { return [] }
        let name = path.isEmpty ? "" : "\(path): "
        return ["\(name)expected \(expected.text), got \(actual.text)"]
    }

    /// A step of the alignment of expected matchers with actual records.
    public enum Step: Equatable, Sendable {
        /// Expected `i` matches record `j`.
        case match(Int, Int)
        /// Expected `i` has no record.
        case missing(Int)
        /// Record `j` was not expected.
        case extra(Int)
    }

    /// The longest alignment of `expected` with `actual` in order (a longest common
    /// subsequence under `matches`), the rest as missing and extra, in list order. Lists too
    /// long for that (over 4M pairs) are aligned position by position.
    public static func align(_ expected: [JSONTree], _ actual: [JSONTree]) -> [Step] {
        let m = expected.count, n = actual.count
        guard m * n <= 4_000_000 else {
            return (0..<max(m, n)).flatMap { i -> [Step] in
                if i < m, i < n { return matches(expected[i], actual[i]) ? [.match(i, i)] : [.missing(i), .extra(i)] }
                return i < m ? [.missing(i)] : [.extra(i)]
            }
        }
        // lengths[i][j]: the longest alignment of expected[i...] with actual[j...].
        var lengths = [Int32](repeating: 0, count: (m + 1) * (n + 1))
        func at(_ i: Int, _ j: Int) -> Int { i * (n + 1) + j }
        var same = [Bool](repeating: false, count: m * n)
        for i in stride(from: m - 1, through: 0, by: -1) {
            for j in stride(from: n - 1, through: 0, by: -1) {
                same[i * n + j] = matches(expected[i], actual[j])
                lengths[at(i, j)] = same[i * n + j] ? lengths[at(i + 1, j + 1)] + 1
                    : max(lengths[at(i + 1, j)], lengths[at(i, j + 1)])
            }
        }
        var steps: [Step] = []
        var i = 0, j = 0
        while i < m || j < n {
            if i < m, j < n, same[i * n + j] {
                steps.append(.match(i, j)); i += 1; j += 1
            } else if j < n, i == m || lengths[at(i, j + 1)] >= lengths[at(i + 1, j)] {
                steps.append(.extra(j)); j += 1
            } else {
                steps.append(.missing(i)); i += 1
            }
        }
        return steps
    }

    /// `record` with only `fields`, in their order (those it lacks left out); the whole record
    /// when `fields` is empty.
    public static func project(_ record: JSONTree, onto fields: [String]) -> JSONTree {
        guard !fields.isEmpty, case .object = record else { return record }
        return .object(fields.compactMap { name in record[name].map { (name, $0) } })
    }

    /// A value as one line of YAML flow: `{ kind: action, time: "2024-03-04T11:00:00.000Z" }`.
    /// Strings stay plain only where YAML cannot read them as anything else; the others are
    /// quoted as JSON quotes them (a JSON string is a YAML double-quoted scalar).
    public static func yamlFlow(_ value: JSONTree) -> String {
        switch value {
        case .object(let members):
            if members.isEmpty { return "{}" }
            return "{ " + members.map { "\(yamlString($0.0)): \(yamlFlow($0.1))" }.joined(separator: ", ") + " }"
        case .array(let items):
            return "[" + items.map(yamlFlow).joined(separator: ", ") + "]"
        case .string(let s):
            return yamlString(s)
        default:
            return value.text
        }
    }

    /// A string as a YAML scalar that `cairn test` reads back as the same string: plain when
    /// it is a word of letters, digits and `_-./:+` that YAML 1.2 cannot take for a number,
    /// boolean or null; otherwise quoted as JSON quotes it.
    static func yamlString(_ s: String) -> String {
        let reserved: Set<String> = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"]
        func isWordScalar(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))
        }
        guard let first = s.unicodeScalars.first, isWordScalar(first) || first == "_", !PipelineLoader.isYAMLNumber(s),
              s.unicodeScalars.allSatisfy({ isWordScalar($0) || "_-./:+".unicodeScalars.contains($0) }),
              s.unicodeScalars.last != ":", !reserved.contains(s.lowercased()) else { return JSONText.quoted(s) }
        return s
    }

    static func sameNumber(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if let x = Int64(a), let y = Int64(b) { return x == y }
        guard let x = Double(a), let y = Double(b) else { return false }
        return x == y
    }

    static func sameInstant(_ a: String, _ b: String) -> Bool {
        guard let x = Array(a.utf8).withUnsafeBytes({ EventTime.parseRFC3339($0) }),
              let y = Array(b.utf8).withUnsafeBytes({ EventTime.parseRFC3339($0) }) else { return false }
        return x == y
    }
}
