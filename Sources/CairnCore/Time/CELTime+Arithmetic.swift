/// Range-checked timestamp and duration arithmetic for the evaluator.
///
/// CEL raises an error when a result leaves the timestamp or duration range (langdef
/// "Overflow"); these return nil then, and the evaluator reports the error. The range is the
/// Int64 nanosecond range for both (see `CELTime`).
///
/// - Complexity: O(1), no allocation.
extension CELTime {
    /// `timestamp + duration` (and `duration + timestamp`); nil on overflow.
    public static func add(timestamp: Int64, duration: Int64) -> Int64? {
        let (sum, overflow) = timestamp.addingReportingOverflow(duration)
        return overflow ? nil : sum
    }

    /// `timestamp - duration`; nil on overflow.
    public static func subtract(timestamp: Int64, duration: Int64) -> Int64? {
        let (difference, overflow) = timestamp.subtractingReportingOverflow(duration)
        return overflow ? nil : difference
    }

    /// `timestamp - timestamp`: the duration from `b` to `a`; nil on overflow (instants more
    /// than about 292 years apart).
    public static func subtract(timestamp a: Int64, timestamp b: Int64) -> Int64? {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? nil : difference
    }

    /// `duration + duration`; nil on overflow.
    public static func add(duration a: Int64, duration b: Int64) -> Int64? {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : sum
    }

    /// `duration - duration`; nil on overflow.
    public static func subtract(duration a: Int64, duration b: Int64) -> Int64? {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        return overflow ? nil : difference
    }

    /// `-duration`; nil for the one duration without a negation (`Int64.min` nanoseconds).
    public static func negate(duration: Int64) -> Int64? {
        duration == Int64.min ? nil : -duration
    }
}
