/// Reading JSON text that the scanner has already validated: the kind and span of the value
/// at an offset, and walking the elements of an array or the members of an object.
///
/// Used by the expression evaluator to read event objects and arrays lazily, in place. The
/// input must be valid JSON (as the scanner left it); nothing here re-validates it.
///
/// - Complexity: each call is O(length of the value it skips); no allocation.
enum JSONSkipper {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    @inline(__always)
    static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    @inline(__always)
    static func skipSpace(_ text: UnsafeRawBufferPointer, _ i: Int) -> Int {
        var i = i
        while i < text.count, isSpace(text[i]) { i &+= 1 }
        return i
    }

    /// `i` is just after an opening quote: the index of the closing quote and whether a `\`
    /// escape occurs in between.
    @inline(__always)
    static func skipString(_ text: UnsafeRawBufferPointer, _ i: Int) -> (end: Int, escaped: Bool) {
        var i = i
        var escaped = false
        while i < text.count {
            let c = text[i]
            if c == quote { return (i, escaped) }
            if c == backslash {
                escaped = true
                i &+= 2
            } else {
                i &+= 1
            }
        }
        return (text.count, escaped)
    }

    /// The value starting at `i` (no leading whitespace) and the index just after it.
    static func value(_ text: UnsafeRawBufferPointer, at i: Int) -> (value: ScannedValue, next: Int) {
        switch text[i] {
        case quote:
            let (end, escaped) = skipString(text, i + 1)
            return (ScannedValue(kind: .string, flags: escaped ? ScannedValue.flagEscapes : 0,
                                 start: Int32(i + 1), end: Int32(end)), end + 1)
        case 0x7B, 0x5B:  // { [
            var depth = 0
            var j = i
            while j < text.count {
                let c = text[j]
                if c == quote {
                    j = skipString(text, j + 1).end
                } else if c == 0x7B || c == 0x5B {
                    depth += 1
                } else if c == 0x7D || c == 0x5D {
                    depth -= 1
                    if depth == 0 { break }
                }
                j += 1
            }
            let kind: JSONKind = text[i] == 0x7B ? .object : .array
            return (ScannedValue(kind: kind, start: Int32(i), end: Int32(j + 1)), j + 1)
        case 0x74:  // t
            return (ScannedValue(kind: .true, start: Int32(i), end: Int32(i + 4)), i + 4)
        case 0x66:  // f
            return (ScannedValue(kind: .false, start: Int32(i), end: Int32(i + 5)), i + 5)
        case 0x6E:  // n
            return (ScannedValue(kind: .null, start: Int32(i), end: Int32(i + 4)), i + 4)
        default:
            var j = i
            var integer = true
            while j < text.count {
                let c = text[j]
                if c == 0x2C || c == 0x5D || c == 0x7D || isSpace(c) { break }
                if c == 0x2E || c == 0x65 || c == 0x45 { integer = false }
                j += 1
            }
            return (ScannedValue(kind: .number, flags: integer ? ScannedValue.flagInteger : 0,
                                 start: Int32(i), end: Int32(j)), j)
        }
    }

    /// The next element of an array (or the next member's value start, for objects use
    /// `nextMember`): `i` starts just after `[` and is advanced past the element.
    @inline(__always)
    static func nextElement(_ text: UnsafeRawBufferPointer, _ i: inout Int) -> ScannedValue? {
        var j = skipSpace(text, i)
        if j < text.count, text[j] == 0x2C { j = skipSpace(text, j + 1) }
        guard j < text.count, text[j] != 0x5D else { return nil }
        let (value, next) = value(text, at: j)
        i = next
        return value
    }

    /// The next member of an object: `i` starts just after `{` and is advanced past the member.
    @inline(__always)
    static func nextMember(_ text: UnsafeRawBufferPointer, _ i: inout Int) -> (key: ScannedValue, value: ScannedValue)? {
        var j = skipSpace(text, i)
        if j < text.count, text[j] == 0x2C { j = skipSpace(text, j + 1) }
        guard j < text.count, text[j] == quote else { return nil }
        let (key, afterKey) = value(text, at: j)
        j = skipSpace(text, afterKey)
        j = skipSpace(text, j + 1)  // past ':'
        let (value, next) = value(text, at: j)
        i = next
        return (key, value)
    }
}
