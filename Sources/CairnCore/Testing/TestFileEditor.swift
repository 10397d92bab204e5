/// Rewrites the expectations of a test file in place for `cairn test --update`, line by line,
/// so that everything else in the file (comments, layout, other tests) stays as written.
///
/// It works on block YAML: a key's value is the rest of the key's line and the lines after it
/// that are blank, comments, or indented deeper than the key (or list items at the key's own
/// indentation). Flow mappings (`expect: { records: [...] }`) are not rewritten.
public struct TestFileEditor {
    public private(set) var lines: [String]
    let lineBreak: String
    let endsWithBreak: Bool
    /// Pending edits: lines [start, end) (0-based) replaced by `text`.
    var edits: [(start: Int, end: Int, text: [String])] = []

    public init(source: String) {
        lines = SourceLines.split(source).map(String.init)
        // By scalars: Swift reads CR LF as one Character, so hasSuffix("\n") misses it.
        lineBreak = source.utf8.contains(13) && source.utf8.contains(10) ? "\r\n" : "\n"
        endsWithBreak = source.unicodeScalars.last == "\n" || source.unicodeScalars.last == "\r"
        if endsWithBreak, lines.last == "" { lines.removeLast() }
    }

    /// Replaces the value of the block key at `key` (1-based line and column) with `items`:
    /// a list (`- item` lines) or, with `mapping`, `name: value` lines.
    public mutating func replaceValue(ofKeyAt key: SourceLocation, name: String, with items: [String], mapping: Bool = false) {
        let start = key.line - 1
        let indent = key.column - 1
        let end = valueEnd(after: start, indent: indent)
        edits.append((start, end, block(name, items, indent: indent, mapping: mapping)))
    }

    /// Inserts `name:` with `items` before line `line` (1-based), at `column`.
    public mutating func insert(before line: Int, column: Int, name: String, items: [String], mapping: Bool = false) {
        edits.append((line - 1, line - 1, block(name, items, indent: column - 1, mapping: mapping)))
    }

    /// Inserts `expect:` with `records:` at the end of the block mapping that starts at `mapping`
    /// (a test), before any blank or comment lines that end it.
    public mutating func appendExpect(toMappingAt mapping: SourceLocation, records: [String]) {
        let indent = mapping.column - 1
        var end = valueEnd(after: mapping.line - 1, indent: indent - 1)
        while end > mapping.line, isBlankOrComment(lines[end - 1]) { end -= 1 }
        let pad = String(repeating: " ", count: indent)
        let text = [pad + "expect:"] + block("records", records, indent: indent + 2, mapping: false)
        edits.append((end, end, text))
    }

    /// The file with every edit applied.
    public func text() -> String {
        var out = lines
        for edit in edits.sorted(by: { $0.start > $1.start }) {
            out.replaceSubrange(edit.start..<edit.end, with: edit.text)
        }
        return out.joined(separator: lineBreak) + (endsWithBreak ? lineBreak : "")
    }

    /// The text of a flow mapping that starts at `location` and ends on the same line
    /// (`{ kind: action }`, a trailing comment left out); nil for any other shape.
    public func flowMapping(at location: SourceLocation) -> String? {
        guard location.line >= 1, location.line <= lines.count else { return nil }
        let rest = String(lines[location.line - 1].unicodeScalars.dropFirst(location.column - 1))
        guard rest.hasPrefix("{") else { return nil }
        var depth = 0
        var quote: Character?
        var escaped = false
        for (i, c) in rest.enumerated() {
            if let q = quote {
                if escaped { escaped = false } else if c == "\\" && q == "\"" { escaped = true } else if c == q { quote = nil }
                continue
            }
            switch c {
            case "\"", "'": quote = c
            case "{", "[": depth += 1
            case "}", "]":
                depth -= 1
                if depth == 0 { return String(rest.prefix(i + 1)) }
            default: break
            }
        }
        return nil
    }

    func block(_ name: String, _ items: [String], indent: Int, mapping: Bool) -> [String] {
        let pad = String(repeating: " ", count: indent)
        guard !items.isEmpty else { return [pad + name + (mapping ? ": {}" : ": []")] }
        return [pad + name + ":"] + items.map { pad + "  " + (mapping ? "" : "- ") + $0 }
    }

    /// The first line (0-based) after `start` that is not part of the value of a key at
    /// `indent`: blank lines and comments inside the value belong to it, trailing ones do not.
    func valueEnd(after start: Int, indent: Int) -> Int {
        var end = start + 1
        var i = start + 1
        while i < lines.count {
            let line = lines[i]
            if isBlankOrComment(line) { i += 1; continue }
            let own = line.prefix { $0 == " " }.count
            let rest = line.dropFirst(own)
            guard own > indent || own == indent && (rest.hasPrefix("- ") || rest == "-") else { break }
            i += 1
            end = i
        }
        return end
    }

    func isBlankOrComment(_ line: String) -> Bool {
        let rest = line.drop { $0 == " " || $0 == "\t" }
        return rest.isEmpty || rest.hasPrefix("#")
    }
}
