/// A finding about a pipeline file, located like a compiler's: file, line, column, length.
///
/// The library returns diagnostics; only the executable prints them. `rendered(source:)` gives
/// the familiar shape:
///
///     pipelines/cart.yaml:12:5: error: unknown key 'windw' in journey 'cart'
///         windw: 24h
///         ^~~~~
///       help: did you mean 'window'?
public struct Diagnostic: Equatable, Sendable, Error {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var file: String
    /// 1-based line; 0 when the finding is about the file as a whole.
    public var line: Int
    /// 1-based column in Unicode scalars, as editors count; 0 when unknown.
    public var column: Int
    /// Length of the marked token in Unicode scalars (at least 1 when a column is known).
    public var length: Int
    public var message: String
    public var hint: String?

    public init(
        _ severity: Severity, file: String, line: Int, column: Int, length: Int = 1,
        message: String, hint: String? = nil
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.length = length
        self.message = message
        self.hint = hint
    }

    /// `file:line:col: error: message`, the source line, a caret under the token and the hint.
    ///
    /// - Parameter source: the text of `file`, to quote the offending line; nil quotes nothing.
    public func rendered(source: String?) -> String {
        var out = file
        if line > 0 { out += ":\(line)" }
        if line > 0 && column > 0 { out += ":\(column)" }
        out += ": \(severity.rawValue): \(message)\n"
        if line > 0, column > 0, let source, let text = Self.line(line, of: source) {
            let shown = text.replacingTabs()
            out += "    \(shown)\n"
            let prefix = text.unicodeScalars.prefix(column - 1)
            var pad = ""
            for scalar in prefix { pad += scalar == "\t" ? "    " : " " }
            let available = max(1, text.unicodeScalars.count - (column - 1))
            let marks = max(1, min(length, available))
            out += "    \(pad)^\(String(repeating: "~", count: marks - 1))\n"
        }
        if let hint { out += "  help: \(hint)\n" }
        return out
    }

    /// Line `number` (1-based) of `source`, without its terminator; lines end at LF, CRLF or
    /// a lone CR, as YAML counts them.
    public static func line(_ number: Int, of source: String) -> String? {
        let lines = SourceLines.split(source)
        guard number >= 1, number <= lines.count else { return nil }
        return String(lines[number - 1])
    }
}

extension String {
    fileprivate func replacingTabs() -> String {
        var out = ""
        for scalar in unicodeScalars { if scalar == "\t" { out += "    " } else { out.unicodeScalars.append(scalar) } }
        return out
    }
}
