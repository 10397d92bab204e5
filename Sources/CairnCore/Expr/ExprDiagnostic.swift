/// A half-open range of UTF-8 byte offsets into the text of one expression.
///
/// Offsets count bytes, not characters, so a caller that embeds the expression in a larger
/// file (a YAML value) adds the expression's own offset to get a file position.
public struct SourceRange: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// The smallest range that covers both `self` and `other`.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(start: Swift.min(start, other.start), end: Swift.max(end, other.end))
    }

    public var description: String { "\(start)..<\(end)" }
}

/// One problem found while parsing or compiling an expression.
///
/// Messages follow the house style of compiler diagnostics: lowercase, no final period,
/// names in single quotes. `hint` is the text of a `help:` line, when there is one.
public struct ExprDiagnostic: Equatable, Sendable, Error, CustomStringConvertible {
    public enum Severity: Sendable {
        case error
        case warning
    }

    public var severity: Severity
    public var message: String
    public var range: SourceRange
    public var hint: String?

    public init(severity: Severity = .error, message: String, range: SourceRange, hint: String? = nil) {
        self.severity = severity
        self.message = message
        self.range = range
        self.hint = hint
    }

    public var description: String {
        let kind = severity == .error ? "error" : "warning"
        var text = "\(kind): \(range.start): \(message)"
        if let hint { text += " (help: \(hint))" }
        return text
    }
}

/// All diagnostics of one expression, in source order.
public struct ExprDiagnostics: Error, Sendable, CustomStringConvertible {
    public var items: [ExprDiagnostic]

    public init(items: [ExprDiagnostic]) {
        self.items = items
    }

    public var description: String { items.map(\.description).joined(separator: "\n") }
}
