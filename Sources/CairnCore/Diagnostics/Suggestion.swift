/// "Did you mean" suggestions for misspelt keys, variables and functions.
public enum Suggestion {
    /// The candidate closest to `word` by edit distance, if it is close enough to be a likely
    /// typo (at most a third of the word's length, and at least one edit allowed).
    public static func closest(to word: String, among candidates: [String]) -> String? {
        let limit = max(1, word.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(word, candidate)
            if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best?.0
    }

    /// "did you mean 'x'?" or a list of what is allowed when nothing is close.
    public static func hint(for word: String, among candidates: [String]) -> String {
        if let near = closest(to: word, among: candidates) { return "did you mean '\(near)'?" }
        return "expected one of " + candidates.map { "'\($0)'" }.joined(separator: ", ")
    }

    /// Levenshtein distance over Unicode scalars (optimal string alignment: a swap costs 1).
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var rows = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { rows[i][0] = i }
        for j in 0...b.count { rows[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var d = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d = min(d, rows[i - 2][j - 2] + 1) }
                rows[i][j] = d
            }
        }
        return rows[a.count][b.count]
    }
}
