/// The standard functions: size, string predicates, conversions, time accessors.
extension Evaluator {
    /// Calls a function on the argument nodes `operands[start ..< start + count]`; the first
    /// error among the arguments (left to right) is the result.
    func call(_ function: BuiltinFunction, _ start: Int32, _ count: Int32) -> Value {
        let first = eval(operands[Int(start)])
        if case .error = first { return first }
        var second = Value.null
        if count > 1 {
            second = eval(operands[Int(start) + 1])
            if case .error = second { return second }
        }
        switch function {
        case .size:
            switch first {
            case .string(let s): return .int(withDecoded(s) { codePointCount($0) })
            case .bytes(let s): return .int(Int64(s.count))
            case .list(let l): return .int(size(l, isMap: false))
            case .map(let m): return .int(size(m, isMap: true))
            default: return .error(.noSuchOverload)
            }
        case .contains, .startsWith, .endsWith:
            guard case .string(let s) = first, case .string(let t) = second else { return .error(.noSuchOverload) }
            return withDecoded(s) { text in
                withDecoded(t) { part in
                    .bool(Self.find(part, in: text, function))
                }
            }
        case .matches:
            guard case .string(let s) = first, case .string(let p) = second else { return .error(.noSuchOverload) }
            let pattern = withDecoded(p) { String(decoding: $0, as: UTF8.self) }
            guard let regex = CELRegex(pattern) else { return .error(.invalidRegex) }
            return .bool(regex.matches(withDecoded(s) { String(decoding: $0, as: UTF8.self) }))
        case .toInt: return toInt(first)
        case .toUInt: return toUInt(first)
        case .toDouble: return toDouble(first)
        case .toString: return toString(first)
        case .toBytes:
            switch first {
            case .bytes: return first
            case .string(let s):
                guard s.escaped else { return .bytes(s) }
                let at = scratch.bytes.count
                appendToScratch(s)
                return .bytes(scratchSpan(from: at))
            default: return .error(.noSuchOverload)
            }
        case .toBool:
            switch first {
            case .bool: return first
            case .string(let s):
                let parsed: Bool? = withDecoded(s) { raw in
                    switch String(decoding: raw, as: UTF8.self) {
                    case "true", "True", "TRUE", "t", "T", "1": true
                    case "false", "False", "FALSE", "f", "F", "0": false
                    default: nil
                    }
                }
                return parsed.map(Value.bool) ?? .error(.invalidConversion(from: .string, to: .bool))
            default: return .error(.noSuchOverload)
            }
        case .toTimestamp:
            switch first {
            case .timestamp: return first
            case .string(let s):
                let ns = withDecoded(s) { EventTime.parseRFC3339($0) }
                return ns.map(Value.timestamp) ?? .error(.invalidConversion(from: .string, to: .timestamp))
            case .int(let seconds):
                let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                return overflow ? .error(.timestampOverflow) : .timestamp(ns)
            default: return .error(.noSuchOverload)
            }
        case .toDuration:
            switch first {
            case .duration: return first
            case .string(let s):
                let ns = CELTime.parseDuration(withDecoded(s) { String(decoding: $0, as: UTF8.self) })
                return ns.map(Value.duration) ?? .error(.invalidConversion(from: .string, to: .duration))
            case .int(let ns): return .duration(ns)
            default: return .error(.noSuchOverload)
            }
        case .dyn:
            return first
        case .typeOf:
            return .type(first.typeTag)
        default:
            guard count > 1 else { return timeAccessor(function, first, .utc) }
            guard case .string(let name) = second else { return .error(.noSuchOverload) }
            guard let zone = CELTimeZone.named(withDecoded(name) { String(decoding: $0, as: UTF8.self) }) else {
                return .error(.unknownTimeZone)
            }
            return timeAccessor(function, first, zone)
        }
    }

    /// `getHours()` and friends: calendar fields of a timestamp in `zone`, or the whole
    /// hours, minutes, seconds of a duration and its milliseconds component.
    func timeAccessor(_ function: BuiltinFunction, _ value: Value, _ zone: CELTimeZone) -> Value {
        switch value {
        case .timestamp(let ns):
            return .int(CELTime.field(function.timeField!, of: ns, in: zone))
        case .duration(let ns):
            switch function {
            case .getHours: return .int(ns / 3_600_000_000_000)
            case .getMinutes: return .int(ns / 60_000_000_000)
            case .getSeconds: return .int(ns / 1_000_000_000)
            // The milliseconds component (cel-spec's conformance suite), not the total.
            case .getMilliseconds: return .int(ns % 1_000_000_000 / 1_000_000)
            default: return .error(.noSuchOverload)
            }
        case .error: return value
        default: return .error(.noSuchOverload)
        }
    }

    static func find(_ part: UnsafeRawBufferPointer, in text: UnsafeRawBufferPointer, _ function: BuiltinFunction) -> Bool {
        let n = part.count, m = text.count
        guard n <= m else { return false }
        if n == 0 { return true }
        switch function {
        case .startsWith:
            return memcmpEqual(part, UnsafeRawBufferPointer(rebasing: text[0..<n]))
        case .endsWith:
            return memcmpEqual(part, UnsafeRawBufferPointer(rebasing: text[(m - n)..<m]))
        default:
            for i in 0...(m - n) where text[i] == part[0]
            && memcmpEqual(part, UnsafeRawBufferPointer(rebasing: text[i..<(i + n)])) {
                return true
            }
            return false
        }
    }

    // MARK: Conversions

    func toInt(_ value: Value) -> Value {
        switch value {
        case .int: return value
        case .uint(let u): return u > UInt64(Int64.max) ? .error(.integerOverflow) : .int(Int64(u))
        case .double(let d):
            // Truncates toward zero; the result must lie in [-2^63, 2^63).
            guard d.isFinite, d > -9_223_372_036_854_777_856.0, d < 9_223_372_036_854_775_808.0 else {
                return .error(.integerOverflow)
            }
            return .int(Int64(d.rounded(.towardZero)))
        case .string(let s):
            let parsed = withDecoded(s) { parseInteger($0) }
            guard let (negative, magnitude) = parsed else { return .error(.invalidConversion(from: .string, to: .int)) }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return .error(.integerOverflow) }
                return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
            }
            return magnitude > UInt64(Int64.max) ? .error(.integerOverflow) : .int(Int64(magnitude))
        case .timestamp(let ns):
            // Unix seconds, rounded toward negative infinity.
            return .int(ns >= 0 ? ns / 1_000_000_000 : (ns + 1) / 1_000_000_000 - 1)
        case .duration(let ns):
            return .int(ns)
        default: return .error(.noSuchOverload)
        }
    }

    func toUInt(_ value: Value) -> Value {
        switch value {
        case .uint: return value
        case .int(let i): return i < 0 ? .error(.unsignedOverflow) : .uint(UInt64(i))
        case .double(let d):
            guard d.isFinite, d >= 0, d < 18_446_744_073_709_551_616.0 else { return .error(.unsignedOverflow) }
            return .uint(UInt64(d.rounded(.towardZero)))
        case .string(let s):
            // Digits only, no sign (as Go's ParseUint, which cel-go uses).
            let parsed = withDecoded(s) { raw in raw.first.map { $0 >= 0x30 && $0 <= 0x39 } == true ? parseInteger(raw) : nil }
            guard let (_, magnitude) = parsed else { return .error(.invalidConversion(from: .string, to: .uint)) }
            return .uint(magnitude)
        default: return .error(.noSuchOverload)
        }
    }

    func toDouble(_ value: Value) -> Value {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            let parsed = withDecoded(s) { raw -> Double? in
                let text = String(decoding: raw, as: UTF8.self)
                switch text {
                case "inf", "+inf", "Inf", "+Inf", "Infinity", "+Infinity": return .infinity
                case "-inf", "-Inf", "-Infinity": return -.infinity
                case "NaN", "nan": return .nan
                default:
                    guard !text.isEmpty, text.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x20 }),
                          !text.lowercased().contains("x"), !text.lowercased().contains("n") else { return nil }
                    return Double(text)
                }
            }
            return parsed.map(Value.double) ?? .error(.invalidConversion(from: .string, to: .double))
        default: return .error(.noSuchOverload)
        }
    }

    func toString(_ value: Value) -> Value {
        switch value {
        case .string: return value
        case .int(let i): return .string(scratchDecimal(i.magnitude, negative: i < 0))
        case .uint(let u): return .string(scratchDecimal(u, negative: false))
        case .double(let d): return .string(scratchString(celDoubleText(d)))
        case .bool(let b): return .string(scratchString(b ? "true" : "false"))
        case .bytes(let s):
            let valid = withRaw(s) { raw in
                var iterator = raw.makeIterator()
                var decoder = UTF8()
                while true {
                    switch decoder.decode(&iterator) {
                    case .scalarValue: continue
                    case .emptyInput: return true
                    case .error: return false
                    }
                }
            }
            return valid ? .string(s) : .error(.invalidConversion(from: .bytes, to: .string))
        case .timestamp(let ns):
            // Formatted in place: at most 30 bytes (`-yyyy-mm-ddThh:mm:ss.nnnnnnnnnZ`).
            let start = scratch.bytes.count
            scratch.bytes.append(contentsOf: repeatElement(0, count: 32))
            let n = scratch.bytes.withUnsafeMutableBytes { all in
                CELTime.formatTimestamp(ns, into: UnsafeMutableRawBufferPointer(rebasing: all[start...]))
            }
            scratch.bytes.removeLast(32 - n)
            return .string(scratchSpan(from: start))
        case .duration(let ns): return .string(scratchString(CELTime.formatDuration(ns)))
        case .null, .type: return .error(.noSuchOverload)
        default: return .error(.noSuchOverload)
        }
    }
}

extension Evaluator {
    /// Appends the decimal digits of a number to the scratch, without building a String.
    func scratchDecimal(_ magnitude: UInt64, negative: Bool) -> StringSpan {
        let start = scratch.bytes.count
        if negative { scratch.bytes.append(0x2D) }
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        let first = scratch.bytes.count
        scratch.bytes.append(contentsOf: repeatElement(0x30, count: digits))
        var value = magnitude
        var k = first + digits - 1
        repeat {
            scratch.bytes[k] = 0x30 + UInt8(value % 10)
            value /= 10
            k -= 1
        } while value > 0
        return scratchSpan(from: start)
    }
}

/// Number of Unicode code points in valid UTF-8 (bytes that do not continue a sequence).
func codePointCount(_ raw: UnsafeRawBufferPointer) -> Int64 {
    var n: Int64 = 0
    for byte in raw where byte & 0xC0 != 0x80 { n += 1 }
    return n
}

/// A decimal integer with an optional sign: the sign and magnitude, nil when malformed or
/// above 2^64 - 1.
func parseInteger(_ raw: UnsafeRawBufferPointer) -> (negative: Bool, magnitude: UInt64)? {
    var i = 0
    var negative = false
    if i < raw.count, raw[i] == 0x2D || raw[i] == 0x2B {
        negative = raw[i] == 0x2D
        i += 1
    }
    guard i < raw.count else { return nil }
    var magnitude: UInt64 = 0
    while i < raw.count {
        let d = raw[i] &- 0x30
        guard d < 10 else { return nil }
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(d))
        guard !o1, !o2 else { return nil }
        magnitude = s
        i += 1
    }
    return (negative, magnitude)
}

/// CEL's text of a double (`string(1.5)`): the shortest text that reads back the same value,
/// integral values without a fraction (`"3"`), `"NaN"`, `"+Inf"`, `"-Inf"`.
func celDoubleText(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
    let text = d.description
    return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}
