/// Where a YAML scalar sits in its file, so that an offset inside its value (a token of a CEL
/// expression) can be reported at the token's own line and column.
///
/// YAML changes text on the way in: quotes, `''` and `\` escapes, folded line breaks and block
/// indentation. `locate` walks the raw source from the scalar's start alongside the decoded
/// value and pairs each decoded character with the raw one it came from.
public struct ScalarPosition: Sendable, Equatable {
    public enum Style: Sendable, Equatable { case plain, singleQuoted, doubleQuoted, literal, folded }

    public var line: Int
    public var column: Int
    public var style: Style

    public init(line: Int, column: Int, style: Style) {
        self.line = line
        self.column = column
        self.style = style
    }

    /// The file position of the character at UTF-8 offset `offset` of `value`.
    ///
    /// - Parameters:
    ///   - value: the scalar's decoded value (what the expression compiler saw).
    ///   - lines: the file's lines, without line terminators.
    public func locate(utf8Offset offset: Int, in value: String, lines: [Substring]) -> SourceLocation {
        let decoded = Array(value.unicodeScalars)
        // Scalar index of the byte offset.
        var target = 0, bytes = 0
        for scalar in decoded {
            if bytes >= offset { break }
            bytes += String(scalar).utf8.count
            target += 1
        }
        // The end of a block scalar's value lies after its kept final line break(s), that is
        // on the line of whatever follows; report it at the end of the last line of text.
        if target == decoded.count, style == .literal || style == .folded {
            while target > 0, decoded[target - 1] == "\n" { target -= 1 }
        }
        var rawLine = line - 1
        var rawColumn = column - 1
        guard rawLine >= 0, rawLine < lines.count else { return SourceLocation(line: line, column: column) }
        var raw = Array(lines[rawLine].unicodeScalars)

        func advanceLine() -> Bool {
            rawLine += 1
            guard rawLine < lines.count else { return false }
            raw = Array(lines[rawLine].unicodeScalars)
            rawColumn = 0
            return true
        }

        switch style {
        case .singleQuoted, .doubleQuoted: rawColumn += 1  // the opening quote
        case .literal, .folded: if !advanceLine() { return SourceLocation(line: line, column: column) }
        case .plain: break
        }

        var index = 0
        while true {
            // Skip raw characters that produced nothing, until the next decoded one lines up.
            while true {
                if rawColumn >= raw.count {
                    if index < decoded.count, decoded[index] == "\n", style == .literal || style == .folded {
                        break
                    }
                    // The end of a plain value that ends its line lies on that line, right
                    // after its last character (so that a token ending the value is marked whole).
                    if index >= decoded.count, style == .plain {
                        return SourceLocation(line: rawLine + 1, column: rawColumn + 1)
                    }
                    if !advanceLine() { return SourceLocation(line: rawLine + 1, column: max(1, rawColumn)) }
                    continue
                }
                if index >= decoded.count { return SourceLocation(line: rawLine + 1, column: rawColumn + 1) }
                let r = raw[rawColumn]
                if style == .doubleQuoted, r == "\\" { break }
                if style == .singleQuoted, r == "'", rawColumn + 1 < raw.count, raw[rawColumn + 1] == "'" { break }
                if r == decoded[index] { break }
                rawColumn += 1
            }
            if index == target { return SourceLocation(line: rawLine + 1, column: rawColumn + 1) }
            // Consume the raw form of decoded[index].
            if rawColumn >= raw.count {
                // A kept line break of a block scalar.
                if !advanceLine() { return SourceLocation(line: rawLine + 1, column: rawColumn + 1) }
            } else if style == .doubleQuoted, raw[rawColumn] == "\\" {
                rawColumn += Self.escapeLength(raw, at: rawColumn)
            } else if style == .singleQuoted, raw[rawColumn] == "'" {
                rawColumn += 2
            } else {
                rawColumn += 1
            }
            index += 1
        }
    }

    /// Length in the source of a double-quoted escape starting at `at` (the backslash).
    private static func escapeLength(_ raw: [Unicode.Scalar], at: Int) -> Int {
        guard at + 1 < raw.count else { return 1 }
        switch raw[at + 1] {
        case "x": return 4
        case "u": return 6
        case "U": return 10
        default: return 2
        }
    }
}
