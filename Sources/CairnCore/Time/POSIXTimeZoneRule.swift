/// A POSIX `TZ` rule such as `CET-1CEST,M3.5.0,M10.5.0/3`: the footer of a TZif file, which
/// gives local time for instants after the file's last transition (today's daylight-saving
/// rules, applied to every later year).
///
/// Grammar (POSIX.1-2017 section 8.3, with the TZif v3 extensions of RFC 8536 section 3.3.1):
///
///     std offset [dst [offset] [,start[/time],end[/time]]]
///     name   = 3 or more characters other than digits, ',', '+', '-'  |  '<' ... '>'
///     offset = [+|-]hh[:mm[:ss]]     hours 0...167; POSIX counts west, so "EST5" is UTC-5
///     start, end = Jn (1...365, February 29 never counted) | n (0...365) | Mm.w.d
///                  (month 1...12, week 1...5 where 5 is the last, weekday 0...6 from Sunday)
///     time   = offset, default 02:00:00, in local time of the period that ends
///
/// A missing dst offset is one hour ahead of standard time; a dst name with no rule uses the
/// US rules `M3.2.0,M11.1.0`, as tzcode and Go do.
///
/// Evaluation follows Go's `time` package (the runtime of cel-go, the CEL reference): the
/// year's two switch instants are computed for the instant's UTC year, and daylight time
/// holds between them (or outside them when the end comes first in the year, as in the
/// southern hemisphere).
struct POSIXTimeZoneRule: Sendable, Equatable {
    /// One end of the daylight-saving period.
    struct DateRule: Sendable, Equatable {
        enum Day: Sendable, Equatable {
            /// `Jn`: day 1...365 of the year, February 29 never counted.
            case julianSkippingLeapDay(Int)
            /// `n`: day 0...365 of the year, February 29 counted.
            case zeroBased(Int)
            /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
            case monthWeekDay(month: Int, week: Int, weekday: Int)
        }

        let day: Day
        /// Seconds after local midnight (may be negative or above 24 h in TZif v3).
        let time: Int
    }

    /// Daylight time: its offset and when it starts and ends each year.
    struct Daylight: Sendable, Equatable {
        /// Seconds east of UTC.
        let offset: Int
        let start: DateRule
        let end: DateRule
    }

    /// Seconds east of UTC of standard time.
    let standardOffset: Int
    /// nil when the zone has no daylight-saving time.
    let daylight: Daylight?

    /// Seconds east of UTC at the instant `t` (seconds since the epoch, UTC).
    ///
    /// - Complexity: O(1), no allocation.
    func offset(atUTCSeconds t: Int64) -> Int {
        guard let daylight else { return standardOffset }
        let (days, _) = floorDivide(t, 86400)
        let year = EventTime.civilFromDays(Int(days)).year
        let yearStart = Int64(EventTime.daysFromCivil(year, 1, 1)) * 86400
        let secondOfYear = t - yearStart
        let start = Int64(Self.secondsIntoYear(year, daylight.start, offset: standardOffset))
        let end = Int64(Self.secondsIntoYear(year, daylight.end, offset: daylight.offset))
        let inDaylight =
            start <= end
            ? (start <= secondOfYear && secondOfYear < end)
            : !(end <= secondOfYear && secondOfYear < start)
        return inDaylight ? daylight.offset : standardOffset
    }

    /// Seconds from the start of `year` (UTC) to the instant `rule` names, given the offset of
    /// the local time the rule's time of day is written in.
    static func secondsIntoYear(_ year: Int, _ rule: DateRule, offset: Int) -> Int {
        let dayOfYear: Int
        switch rule.day {
        case .julianSkippingLeapDay(let n):
            dayOfYear = n - 1 + (EventTime.isLeapYear(year) && n >= 60 ? 1 : 0)
        case .zeroBased(let n):
            dayOfYear = n
        case .monthWeekDay(let month, let week, let weekday):
            let firstOfMonth = EventTime.daysFromCivil(year, month, 1)
            // 1970-01-01 was a Thursday (4).
            let firstWeekday = ((firstOfMonth % 7) + 7 + 4) % 7
            var day = ((weekday - firstWeekday) % 7 + 7) % 7
            let length = EventTime.daysInMonth(year, month)
            var w = 1
            while w < week, day + 7 < length {
                day += 7
                w += 1
            }
            dayOfYear = firstOfMonth + day - EventTime.daysFromCivil(year, 1, 1)
        }
        return dayOfYear * 86400 + rule.time - offset
    }

    // MARK: - Parsing

    /// Parses a POSIX TZ string; nil if it does not follow the grammar above.
    static func parse(_ text: ArraySlice<UInt8>) -> POSIXTimeZoneRule? {
        var p = Parser(bytes: text)
        guard p.name(), let west = p.offset() else { return nil }
        let standardOffset = -west
        // Like tzcode and Go, a ',' straight after the standard offset also means no DST.
        if p.atEnd || p.peek == UInt8(ascii: ",") {
            return POSIXTimeZoneRule(standardOffset: standardOffset, daylight: nil)
        }
        guard p.name() else { return nil }
        var daylightOffset = standardOffset + 3600
        if !p.atEnd && p.peek != UInt8(ascii: ",") {
            guard let west = p.offset() else { return nil }
            daylightOffset = -west
        }
        let start: DateRule
        let end: DateRule
        if p.atEnd {
            start = DateRule(day: .monthWeekDay(month: 3, week: 2, weekday: 0), time: 7200)
            end = DateRule(day: .monthWeekDay(month: 11, week: 1, weekday: 0), time: 7200)
        } else {
            guard p.take(UInt8(ascii: ",")), let s = p.dateRule(), p.take(UInt8(ascii: ",")),
                let e = p.dateRule(), p.atEnd
            else { return nil }
            start = s
            end = e
        }
        return POSIXTimeZoneRule(
            standardOffset: standardOffset,
            daylight: Daylight(offset: daylightOffset, start: start, end: end))
    }

    private struct Parser {
        let bytes: ArraySlice<UInt8>
        var i: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.i = bytes.startIndex
        }

        var atEnd: Bool { i >= bytes.endIndex }
        var peek: UInt8 { bytes[i] }

        mutating func take(_ byte: UInt8) -> Bool {
            guard !atEnd, bytes[i] == byte else { return false }
            i += 1
            return true
        }

        /// A zone abbreviation: `<...>` or 3+ bytes other than digits, ',', '+', '-'.
        mutating func name() -> Bool {
            if take(UInt8(ascii: "<")) {
                while !atEnd {
                    if take(UInt8(ascii: ">")) { return true }
                    i += 1
                }
                return false
            }
            let begin = i
            while !atEnd {
                let c = bytes[i]
                if c &- 0x30 < 10 || c == UInt8(ascii: ",") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                    break
                }
                i += 1
            }
            return i - begin >= 3
        }

        /// Digits with a value in `0...max`.
        mutating func number(max: Int) -> Int? {
            let begin = i
            var value = 0
            while !atEnd, bytes[i] &- 0x30 < 10 {
                value = value * 10 + Int(bytes[i] &- 0x30)
                if value > max { return nil }
                i += 1
            }
            return i > begin ? value : nil
        }

        /// `[+|-]hh[:mm[:ss]]` as signed seconds (hours up to 167, the TZif v3 limit).
        mutating func offset() -> Int? {
            var negative = false
            if take(UInt8(ascii: "+")) {
            } else if take(UInt8(ascii: "-")) {
                negative = true
            }
            guard let hours = number(max: 167) else { return nil }
            var seconds = hours * 3600
            if take(UInt8(ascii: ":")) {
                guard let minutes = number(max: 59) else { return nil }
                seconds += minutes * 60
                if take(UInt8(ascii: ":")) {
                    guard let secs = number(max: 59) else { return nil }
                    seconds += secs
                }
            }
            return negative ? -seconds : seconds
        }

        mutating func dateRule() -> DateRule? {
            let day: DateRule.Day
            if take(UInt8(ascii: "J")) {
                guard let n = number(max: 365), n >= 1 else { return nil }
                day = .julianSkippingLeapDay(n)
            } else if take(UInt8(ascii: "M")) {
                guard let month = number(max: 12), month >= 1, take(UInt8(ascii: ".")),
                    let week = number(max: 5), week >= 1, take(UInt8(ascii: ".")),
                    let weekday = number(max: 6)
                else { return nil }
                day = .monthWeekDay(month: month, week: week, weekday: weekday)
            } else {
                guard let n = number(max: 365) else { return nil }
                day = .zeroBased(n)
            }
            var time = 7200
            if take(UInt8(ascii: "/")) {
                guard let t = offset() else { return nil }
                time = t
            }
            return DateRule(day: day, time: time)
        }
    }
}

/// Floor division and its non-negative remainder.
@inline(__always)
func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
    var q = a / b
    var r = a % b
    if r < 0 {
        q -= 1
        r += b
    }
    return (q, r)
}
