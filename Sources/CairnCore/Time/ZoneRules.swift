/// The offsets of an IANA time zone over time, as loaded from a TZif file: flat arrays for
/// binary search, and the footer rule for instants after the last transition.
///
/// Immutable after loading, so one instance is shared by every copy of its `CELTimeZone`
/// and across threads.
final class ZoneRules: Sendable {
    /// Instants (seconds since the epoch, UTC) at which the offset changes, strictly
    /// ascending.
    let transitions: [Int64]
    /// `offsets[i]` (seconds east of UTC) holds from `transitions[i]` until the next one.
    let offsets: [Int32]
    /// The offset before the first transition: local time type 0 (RFC 8536 section 3.2).
    let initialOffset: Int32
    /// The rule for instants at or after the last transition (the TZif v2+ footer); nil when
    /// the file has none or it does not parse, in which case the last offset holds forever.
    let footer: POSIXTimeZoneRule?

    init(transitions: [Int64], offsets: [Int32], initialOffset: Int32, footer: POSIXTimeZoneRule?) {
        precondition(transitions.count == offsets.count, "one offset per transition")
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.footer = footer
    }

    /// Seconds east of UTC at the instant `t` (seconds since the epoch, UTC).
    ///
    /// Before the first transition: type 0. From the last transition on: the footer rule if
    /// there is one (also when there are no transitions at all, as RFC 8536 says), else the
    /// last transition's offset. In between: the offset of the last transition at or before
    /// `t`.
    ///
    /// - Complexity: O(log n) in the number of transitions (binary search), O(1) for the
    ///   footer rule; no allocation.
    func offset(atUTCSeconds t: Int64) -> Int {
        transitions.withUnsafeBufferPointer { times in
            let count = times.count
            if count == 0 {
                return footer?.offset(atUTCSeconds: t) ?? Int(initialOffset)
            }
            if t < times[0] { return Int(initialOffset) }
            if t >= times[count - 1] {
                return footer?.offset(atUTCSeconds: t) ?? Int(offsets[count - 1])
            }
            // Invariant: times[low] <= t < times[high].
            var low = 0
            var high = count - 1
            while high - low > 1 {
                let middle = low + (high - low) / 2
                if times[middle] <= t { low = middle } else { high = middle }
            }
            return Int(offsets[low])
        }
    }
}
