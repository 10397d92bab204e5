/// The lines of a text file as YAML and editors count them: a line ends at LF, CRLF or a lone
/// CR, and the terminator is not part of the line.
///
/// Splitting a `String` by the `Character` "\n" is not enough: CRLF is a single `Character`
/// in Swift, and a lone CR is a line break to YAML (so to the positions libyaml reports).
public enum SourceLines {
    public static func split(_ text: String) -> [Substring] {
        let scalars = text.unicodeScalars
        var lines: [Substring] = []
        var start = scalars.startIndex
        var i = start
        while i < scalars.endIndex {
            let c = scalars[i]
            if c == "\n" || c == "\r" {
                lines.append(Substring(scalars[start..<i]))
                var next = scalars.index(after: i)
                if c == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                start = next
                i = next
            } else {
                i = scalars.index(after: i)
            }
        }
        lines.append(Substring(scalars[start..<scalars.endIndex]))
        return lines
    }
}
