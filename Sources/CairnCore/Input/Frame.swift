/// What `LineFramer.next()` found.
public enum Frame {
    /// A non-blank line of at most `maxLineLength` bytes.
    case line(Line)
    /// A line longer than `maxLineLength`, skipped without being buffered; `length` is its full
    /// length (without LF and a CR before it).
    case oversized(number: Int, offset: Int64, length: Int64)
    /// The input is exhausted.
    case end
}
