/// Local civil time for channel policies: quiet hours, waits until a time of day, and
/// frequency caps by calendar day, each in the customer's time zone.
///
/// Everything works in whole seconds: an instant `ns` (nanoseconds since the epoch, UTC) is
/// floored to its second `s` (so instants before 1970 count down correctly), and its local
/// time is `s + zone.offset(atUTCSeconds: s)` seconds since 1970-01-01T00:00 local. Local days
/// are the floor of that over 86 400; minutes after midnight are truncated, never rounded.
///
/// Turning a local time `L` back into an instant needs the offset at the instant, which is
/// what is being looked for. `resolve` probes the zone's offset a day either side of `L`
/// (no real zone changes offset twice within two days), tries each offset seen, and keeps
/// those `u = L - offset` whose own offset is that offset:
///
///     one valid u   the ordinary case
///     two           a DST overlap: L occurs twice (the first uses the earlier offset)
///     none          a DST gap: L does not exist; the gap ends at the transition instant,
///                   found by bisection between the two candidates (at most ~12 lookups
///                   for a one-hour gap)
///
/// Instants whose answer would lie outside Int64 nanoseconds (before
/// 1677-09-21T00:12:43.145224192Z or after 2262-04-11T23:47:16.854775807Z) saturate to
/// `Int64.min` or `Int64.max`: a window that starts before everything, an end or a wait that
/// never comes within the range. No other input is clamped.
///
/// Nothing here allocates; each call does a fixed handful of offset lookups, each O(log n)
/// in the zone's transitions (O(1) past the last one, where the zone's POSIX rule applies).
public enum LocalTime {
    static let nanosPerSecond: Int64 = 1_000_000_000
    static let secondsPerDay: Int64 = 86_400
    /// Bit mask of all seven weekdays, bit 0 Monday ... bit 6 Sunday.
    public static let everyDay: UInt8 = 0x7F

    /// Local wall-clock at instant `ns` in `zone`: minutes after local midnight (0..<1440, seconds
    /// truncated) and weekday (0 = Monday ... 6 = Sunday).
    ///
    /// One nanosecond before the epoch is 23:59 on a Wednesday in UTC (minute 1439, weekday 2).
    ///
    /// - Complexity: one offset lookup, O(log n) in the zone's transitions; no allocation.
    public static func wallClock(at ns: Int64, in zone: CELTimeZone) -> (minute: Int, weekday: Int) {
        let (day, secondOfDay) = localDay(at: ns, in: zone)
        return (Int(secondOfDay / 60), weekday(ofDay: day))
    }

    /// The first instant >= `ns` at which the local time in `zone` is `minute`:00 (0..<1440) on a
    /// day whose weekday is in `days` (bit 0 Monday ... bit 6 Sunday). On a day where that
    /// local time does not exist (a DST gap), the instant the gap ends that day; where it occurs
    /// twice (DST overlap), the first. nil only when `days` is 0.
    ///
    /// Precisely: each day whose weekday is in `days` contributes the instants at which its
    /// local time is exactly `minute`:00.000000000 — one, or two in an overlap, or, in a gap,
    /// the instant the gap ends (whose local time is later than `minute`) — and the answer is
    /// the earliest of these that is >= `ns`. So `ns` itself when it is exactly such an
    /// instant; an instant part-way through the minute (09:00:00.5 asking for 09:00) waits
    /// for the next matching day; and an instant inside an overlap after the first 01:30
    /// but before the second gets the second 01:30 of the same night, since that is the
    /// first instant from `ns` on at which the clock reads 01:30.
    ///
    /// Bit 7 of `days` is ignored: nil when none of bits 0...6 is set. Saturates to
    /// `Int64.max` past the end of the Int64-nanosecond range (see `LocalTime`).
    ///
    /// - Precondition: `0 <= minute < 1440`.
    /// - Complexity: O(log n) in the zone's transitions: at most nine candidate days are
    ///   looked at, and only those whose weekday is in `days` cost offset lookups (usually
    ///   one or two such days); no allocation.
    public static func next(minute: Int, days: UInt8, atOrAfter ns: Int64, in zone: CELTimeZone) -> Int64? {
        precondition(minute >= 0 && minute < 1440, "minute after midnight out of range")
        let mask = days & everyDay
        guard mask != 0 else { return nil }
        let (s, fraction) = floorDivide(ns, nanosPerSecond)
        // The earliest whole second at or after ns: candidates are whole seconds.
        let earliest = fraction == 0 ? s : s + 1
        let today = floorDivide(s + Int64(zone.offset(atUTCSeconds: s)), secondsPerDay).quotient
        // Yesterday too: after a backward jump across midnight, yesterday's local time can
        // come round again after ns. A week after today, every weekday has been seen; the
        // further days only matter for zones that jumped back by most of a day (Alaska, 1867).
        var day = today - 1
        while day <= today + 15 {
            defer { day += 1 }
            guard mask & (1 << UInt8(weekday(ofDay: day))) != 0 else { continue }
            switch resolve(local: day * secondsPerDay + Int64(minute) * 60, in: zone) {
            case .unique(let u):
                if u >= earliest { return nanos(u) }
            case .twice(let first, let second):
                if first >= earliest { return nanos(first) }
                if second >= earliest { return nanos(second) }
            case .gap(let end):
                if end >= earliest { return nanos(end) }
            }
        }
        return Int64.max  // not reached with any zone in the tz database
    }

    /// When local quiet hours [start, end) (minutes after midnight; they wrap past midnight when
    /// end < start) contain `ns`: the instant they end (the first instant >= ns whose local time
    /// is `end`:00, as `next` finds it); nil when `ns` is outside them.
    ///
    /// Whether `ns` is inside is decided on its wall-clock minute (`wallClock`), so 07:59:59.9
    /// is inside 21:00-08:00 and 08:00:00 is not; 21:00:00 is inside. An empty window
    /// (`start == end`, which the pipeline loader rejects) contains nothing.
    ///
    /// The end is always later than `ns`, and local time there is outside the window. When
    /// `end`:00 falls in a DST gap, the end is the instant the gap ends — unless local time
    /// there is still inside the window (only a window that starts inside the gap, such as
    /// 02:45-02:30 on a night that skips 02:00-03:00), in which case the quiet hours last
    /// until `end`:00 the next day. A clock set back that briefly leaves the window (quiet
    /// hours from 01:15 on a night that repeats 01:00-02:00) does not end them early: they
    /// end at `end`:00.
    ///
    /// Saturates to `Int64.max` past the end of the Int64-nanosecond range (see `LocalTime`).
    ///
    /// - Precondition: `0 <= start < 1440` and `0 <= end < 1440`.
    /// - Complexity: O(log n) in the zone's transitions; no allocation.
    public static func quietEnd(start: Int, end: Int, at ns: Int64, in zone: CELTimeZone) -> Int64? {
        precondition(start >= 0 && start < 1440 && end >= 0 && end < 1440, "quiet hours out of range")
        guard isQuiet(wallClock(at: ns, in: zone).minute, start: start, end: end) else { return nil }
        var from = ns
        // The window's end minute is outside it, so only a gap end can land inside; the next
        // day's end is an ordinary one. The bound is for zones with consecutive gap days.
        for _ in 0..<4 {
            guard let candidate = next(minute: end, days: everyDay, atOrAfter: from, in: zone) else { break }
            if candidate == Int64.max || !isQuiet(wallClock(at: candidate, in: zone).minute, start: start, end: end) {
                return candidate
            }
            from = candidate + 1
        }
        return Int64.max  // not reached with any zone in the tz database
    }

    /// The instant of local midnight that starts the local day `days - 1` days before the local
    /// day of `ns` (days >= 1): where a calendar-day cap's window begins. If that midnight does
    /// not exist (a DST gap at 00:00), the first instant of that local day.
    ///
    /// `days == 1` is the start of today (local); `days == 7` of the day six days before today.
    /// If midnight occurs twice (a zone that falls back at 01:00 to 00:00), the first.
    /// Saturates to `Int64.min` before the start of the Int64-nanosecond range (see
    /// `LocalTime`).
    ///
    /// - Precondition: `days >= 1`.
    /// - Complexity: O(log n) in the zone's transitions; no allocation.
    public static func calendarStart(days: Int, at ns: Int64, in zone: CELTimeZone) -> Int64 {
        precondition(days >= 1, "a calendar-day window covers at least one day")
        // Past about 213 000 days the start is before the range anyway; keep the arithmetic
        // far from overflow.
        let back = Int64(min(days - 1, 1_000_000))
        let day = localDay(at: ns, in: zone).day - back
        switch resolve(local: day * secondsPerDay, in: zone) {
        case .unique(let u): return nanos(u)
        case .twice(let first, _): return nanos(first)
        case .gap(let end): return nanos(end)
        }
    }

    // MARK: - Internals

    /// Whether minute `m` is in [start, end), wrapping past midnight when end < start.
    @inline(__always)
    static func isQuiet(_ m: Int, start: Int, end: Int) -> Bool {
        start <= end ? (start <= m && m < end) : (m >= start || m < end)
    }

    /// The local day of `ns` (days since 1970-01-01 local) and the second within it.
    @inline(__always)
    static func localDay(at ns: Int64, in zone: CELTimeZone) -> (day: Int64, second: Int64) {
        let s = floorDivide(ns, nanosPerSecond).quotient
        let (day, second) = floorDivide(s + Int64(zone.offset(atUTCSeconds: s)), secondsPerDay)
        return (day, second)
    }

    /// 0 = Monday ... 6 = Sunday of a day count since 1970-01-01 (a Thursday, 3).
    @inline(__always)
    static func weekday(ofDay day: Int64) -> Int {
        Int(floorDivide(day + 3, 7).remainder)
    }

    /// Seconds since the epoch as nanoseconds, saturating at the ends of Int64.
    @inline(__always)
    static func nanos(_ seconds: Int64) -> Int64 {
        let (product, overflow) = seconds.multipliedReportingOverflow(by: nanosPerSecond)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return product
    }

    /// The instants (whole seconds since the epoch, UTC) at which local time in a zone is a
    /// given local second.
    enum Resolution: Equatable {
        /// It occurs once.
        case unique(Int64)
        /// It occurs twice (a DST overlap): first < second.
        case twice(Int64, Int64)
        /// It does not occur (a DST gap); `end` is the first instant after the gap.
        case gap(end: Int64)
    }

    /// The instants at which local time in `zone` is `local` (seconds since 1970-01-01T00:00
    /// local time).
    ///
    /// An instant `u` shows local time `local` exactly when `u + offset(u) == local`, so the
    /// candidates are `local - o` for the offsets `o` in force near `local`. The offsets a day
    /// before and after bracket every instant that could show `local` (offsets are under 24 h);
    /// each candidate's own offset is tried as well, which also catches two changes within
    /// those two days.
    ///
    /// - Complexity: four offset lookups, plus a bisection over the gap's length in a gap.
    static func resolve(local: Int64, in zone: CELTimeZone) -> Resolution {
        let before = Int64(zone.offset(atUTCSeconds: local - secondsPerDay))
        let after = Int64(zone.offset(atUTCSeconds: local + secondsPerDay))
        var first = Int64.max
        var last = Int64.min
        let seenBefore = consider(before, local: local, in: zone, first: &first, last: &last)
        var seenAfter = seenBefore
        if after != before { seenAfter = consider(after, local: local, in: zone, first: &first, last: &last) }
        // Offsets found at the candidates that were not their own: a second change nearby.
        if seenBefore != before && seenBefore != after {
            _ = consider(seenBefore, local: local, in: zone, first: &first, last: &last)
        }
        if seenAfter != before && seenAfter != after && seenAfter != seenBefore {
            _ = consider(seenAfter, local: local, in: zone, first: &first, last: &last)
        }

        if first <= last {
            return first == last ? .unique(first) : .twice(first, last)
        }
        return .gap(end: gapEnd(local: local, before: before, after: after, in: zone))
    }

    /// Tries the candidate `local - offset`: when the zone's offset there is `offset`, it shows
    /// `local`, and widens [first, last] to include it. Returns the offset found there.
    @inline(__always)
    static func consider(
        _ offset: Int64, local: Int64, in zone: CELTimeZone, first: inout Int64, last: inout Int64
    ) -> Int64 {
        let u = local - offset
        let actual = Int64(zone.offset(atUTCSeconds: u))
        if actual == offset {
            first = min(first, u)
            last = max(last, u)
        }
        return actual
    }

    /// Whether local time at `u` is later than `local`.
    @inline(__always)
    static func isPast(_ u: Int64, _ local: Int64, in zone: CELTimeZone) -> Bool {
        u + Int64(zone.offset(atUTCSeconds: u)) > local
    }

    /// The first instant whose local time is later than `local`, when no instant shows `local`
    /// itself: the end of the gap `local` falls in.
    static func gapEnd(local: Int64, before: Int64, after: Int64, in zone: CELTimeZone) -> Int64 {
        // With one change from `before` to `after` (> before) at T: instants before T show
        // u + before < T + before <= local, instants from T on show u + after > local; so
        // isPast flips exactly at T, which lies in (local - after, local - before].
        var low = local - max(before, after)
        var high = local - min(before, after)
        if isPast(low, local, in: zone) || !isPast(high, local, in: zone) {
            // More than one change nearby: bisect over the whole two days instead.
            low = local - 2 * secondsPerDay
            high = local + 2 * secondsPerDay
        }
        // Invariant: !isPast(low), isPast(high).
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if isPast(middle, local, in: zone) { high = middle } else { low = middle }
        }
        return high
    }
}
