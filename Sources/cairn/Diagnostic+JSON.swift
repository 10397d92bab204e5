import CairnCore

extension Diagnostic {
    /// The diagnostic as one NDJSON line, for editors and CI (`cairn check --format json`):
    ///
    ///     {"file":"a.yaml","line":12,"column":5,"end_column":10,"severity":"error","message":"...","hint":null}
    ///
    /// Keys always in this order. `line` and `column` are 1-based, columns counted in Unicode
    /// scalars (a tab is one column); both are 0 for a finding about the whole file.
    /// `end_column` is the column just past the marked token (the token spans
    /// `column..<end_column` on `line`), clamped to the line as the caret is: at least
    /// `column + 1`, 0 when `column` is 0. `severity` is `error` or `warning`; `hint` is the
    /// text of the `help:` line, or null.
    ///
    /// - Parameter source: the text of `file`, to clamp `end_column` to its line.
    func jsonLine(source: String) -> [UInt8] {
        var out: [UInt8] = Array(#"{"file":"#.utf8)
        out.append(contentsOf: JSONText.quoted(file).utf8)
        out.append(contentsOf: #","line":\#(line),"column":\#(column),"end_column":\#(endColumn(source: source)),"severity":"#.utf8)
        out.append(contentsOf: JSONText.quoted(severity.rawValue).utf8)
        out.append(contentsOf: #","message":"#.utf8)
        out.append(contentsOf: JSONText.quoted(message).utf8)
        out.append(contentsOf: #","hint":"#.utf8)
        out.append(contentsOf: (hint.map(JSONText.quoted) ?? "null").utf8)
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// The column just past the marked token, as many columns on as the rendered caret has marks.
    func endColumn(source: String) -> Int {
        guard column > 0 else { return 0 }
        let lineLength = line > 0 ? Diagnostic.line(line, of: source)?.unicodeScalars.count : nil
        guard let lineLength else { return column + max(1, length) }
        let available = max(1, lineLength - (column - 1))
        return column + max(1, min(length, available))
    }
}
