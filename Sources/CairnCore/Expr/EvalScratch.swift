/// The per-evaluation arena for values built at runtime: lists from `map`/`filter` and from
/// list literals with computed elements, map literals, string and bytes concatenation,
/// `string(x)`, decoded event strings.
///
/// One per runner (or thread), reused across events: `Program.evaluate` resets it at the
/// start of each evaluation, keeping its capacity, so after warm-up evaluation does not
/// allocate. Values that point into it (`origin == .scratch`) are valid until the next
/// evaluation with the same scratch.
///
/// Conditions that only compare, combine and compute over scanned fields and literals (and
/// `in` over literal lists, `has`) never touch it.
public final class EvalScratch {
    /// Elements of runtime-built lists and maps (maps as key, value pairs).
    public internal(set) var values: [Value] = []
    /// Bytes of runtime-built strings and bytes.
    public internal(set) var bytes: [UInt8] = []
    /// Elements being collected for a list or map under construction (LIFO: nested
    /// constructions push above their parent's mark and copy out to `values` when done).
    var stack: [Value] = []

    public init() {
        values.reserveCapacity(64)
        bytes.reserveCapacity(256)
        stack.reserveCapacity(64)
    }

    /// Forgets every value built so far, keeping the capacity.
    ///
    /// - Complexity: O(1); no allocation.
    public func reset() {
        // Most evaluations build nothing: skip the calls then.
        if !values.isEmpty { values.removeAll(keepingCapacity: true) }
        if !bytes.isEmpty { bytes.removeAll(keepingCapacity: true) }
        if !stack.isEmpty { stack.removeAll(keepingCapacity: true) }
    }
}
