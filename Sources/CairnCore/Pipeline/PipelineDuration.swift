/// A length of time written in a pipeline file: `90s`, `10m`, `1h`, `7d`, `2w`, or a compound
/// of those in decreasing unit order, `1h30m`, `1d12h`.
///
/// Whole numbers only (`1.5h` is written `1h30m`); each unit at most once, largest first; no
/// sign (a negative length of time means nothing in a pipeline) and no spaces. The longest
/// accepted duration is 100 years (`5218w` is more), so that adding one to any event time
/// cannot overflow.
public struct PipelineDuration: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The length in seconds; never negative.
    public var seconds: Int64

    public init(seconds: Int64) {
        self.seconds = seconds
    }

    /// The units, largest first, with their length in seconds.
    public static let units: [(unit: Character, seconds: Int64)] = [
        ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// 100 years of 365.25 days.
    public static let maximumSeconds: Int64 = 3_155_760_000

    /// What is wrong with a duration's text, for a diagnostic.
    public enum ParseError: Error, Equatable, Sendable {
        /// Not a duration at all (`soon`, an empty value).
        case notADuration
        /// A bare number (`90`): the unit is missing.
        case missingUnit
        /// A fraction (`1.5h`).
        case fraction
        /// A sign (`-1h`, `+1h`).
        case signed
        /// A unit that is not one of s, m, h, d, w (`3y`, `10min`).
        case unknownUnit(String)
        /// Units out of order or repeated (`30m1h`, `1h1h`).
        case unitOrder
        /// Longer than `maximumSeconds`.
        case tooLong
    }

    /// Parses the pipeline form of a duration.
    public static func parse(_ text: String) -> Result<PipelineDuration, ParseError> {
        let chars = Array(text)
        if chars.isEmpty { return .failure(.notADuration) }
        if chars[0] == "-" || chars[0] == "+" {
            return .failure(.signed)
        }
        var total: Int64 = 0
        var index = 0
        var lastUnit = -1
        var sawUnit = false
        while index < chars.count {
            var digits = ""
            while index < chars.count, chars[index].isASCII, chars[index].isNumber {
                digits.append(chars[index])
                index += 1
            }
            if digits.isEmpty { return .failure(.notADuration) }
            if index < chars.count, chars[index] == "." || chars[index] == "," {
                let rest = chars[(index + 1)...]
                if let first = rest.first, first.isASCII, first.isNumber { return .failure(.fraction) }
                return .failure(.notADuration)
            }
            var unitText = ""
            while index < chars.count, chars[index].isLetter {
                unitText.append(chars[index])
                index += 1
            }
            if unitText.isEmpty {
                return .failure(index == chars.count && !sawUnit ? .missingUnit : .notADuration)
            }
            guard unitText.count == 1,
                  let unitIndex = units.firstIndex(where: { String($0.unit) == unitText })
            else { return .failure(.unknownUnit(unitText)) }
            if unitIndex <= lastUnit { return .failure(.unitOrder) }
            lastUnit = unitIndex
            sawUnit = true
            // Digits beyond 10 would overflow any unit; the bound check below then applies.
            guard digits.count <= 12, let n = Int64(digits) else { return .failure(.tooLong) }
            total += n * units[unitIndex].seconds
            if total > maximumSeconds { return .failure(.tooLong) }
        }
        return .success(PipelineDuration(seconds: total))
    }

    /// The canonical text: the largest units first, `1h30m`; `0s` for zero.
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (unit, length) in Self.units where rest >= length {
            out += "\(rest / length)\(unit)"
            rest %= length
        }
        return out
    }
}
