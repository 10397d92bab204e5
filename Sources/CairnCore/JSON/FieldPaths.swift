/// The set of field paths that a compiled pipeline reads from each event.
///
/// Built once at compile time: every expression and the event mapping intern the dotted paths
/// they use (`event.props.price` interns `["props", "price"]`), and the scanner extracts only
/// these. The empty path `[]` is the whole event.
///
/// A path may be a prefix of another (`props` and `props.price`): both are extracted.
/// Paths do not descend into arrays; an expression that indexes a list reads the list's span.
public struct FieldPaths: Sendable, Equatable {
    /// The interned paths; the index of a path is its `FieldID`.
    public private(set) var paths: [[String]] = []

    public init() {}

    /// Number of interned paths, that is the size of the table of scanned values per event.
    public var count: Int { paths.count }

    /// Returns the id of `path`, interning it on first use.
    ///
    /// - Complexity: O(n) in the number of paths; called at compile time only.
    @discardableResult
    public mutating func intern(_ path: [String]) -> FieldID {
        if let id = paths.firstIndex(of: path) { return id }
        paths.append(path)
        return paths.count - 1
    }

    /// The id of `path` if it was interned.
    public func id(of path: [String]) -> FieldID? { paths.firstIndex(of: path) }
}
