/// A parsed JSON document, for small texts off the hot path: checkpoint metadata and state
/// layout descriptions. Events never go through it (they use `JSONScanner`).
public indirect enum JSONTree: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's text as written, so integers beyond 2^53 keep every digit.
    case number(String)
    case string(String)
    case array([JSONTree])
    /// Members in document order.
    case object([(String, JSONTree)])

    public static func == (a: JSONTree, b: JSONTree) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Parses one JSON value (surrounding whitespace allowed); nil when the text is not
    /// valid JSON or nests deeper than 64.
    public static func parse(_ bytes: [UInt8]) -> JSONTree? {
        var parser = Parser(bytes: bytes)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        return parser.at == bytes.count ? value : nil
    }

    public subscript(key: String) -> JSONTree? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var int64: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }
    public var double: Double? { if case .number(let n) = self { Double(n) } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONTree]? { if case .array(let a) = self { a } else { nil } }

    /// The value as compact JSON text.
    public var text: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return Self.quoted(s)
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    /// A string as JSON text, quoted and escaped (JSONString's escaping, so this file needs
    /// nothing outside JSON/).
    static func quoted(_ string: String) -> String {
        let bytes = Array(string.utf8)
        let worst = bytes.count * 6 + 2
        return bytes.withUnsafeBytes { raw in
            withUnsafeTemporaryAllocation(byteCount: worst, alignment: 1) { out in
                let n = JSONString.escape(raw, into: out) ?? 0
                return "\"" + String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]), as: UTF8.self) + "\""
            }
        }
    }

    private struct Parser {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 {
                at += 1
            }
        }

        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard at + w.count <= bytes.count, Array(bytes[at..<at + w.count]) == w else { return false }
            at += w.count
            return true
        }

        mutating func value(depth: Int) -> JSONTree? {
            guard depth < 64 else { return nil }
            skipSpace()
            guard at < bytes.count else { return nil }
            switch bytes[at] {
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "\""): return string().map { .string($0) }
            case UInt8(ascii: "["):
                at += 1
                var items: [JSONTree] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    guard let item = value(depth: depth + 1) else { return nil }
                    items.append(item)
                    skipSpace()
                    guard at < bytes.count else { return nil }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "{"):
                at += 1
                var members: [(String, JSONTree)] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\""), let key = string() else { return nil }
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { return nil }
                    at += 1
                    guard let item = value(depth: depth + 1) else { return nil }
                    members.append((key, item))
                    skipSpace()
                    guard at < bytes.count else { return nil }
                    if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    if bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                    return nil
                }
            default:
                return number()
            }
        }

        /// A number in RFC 8259's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> JSONTree? {
            let start = at
            func digits() -> Int {
                let from = at
                while at < bytes.count, bytes[at] >= 0x30, bytes[at] <= 0x39 { at += 1 }
                return at - from
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            let leadingZero = at < bytes.count && bytes[at] == 0x30
            let whole = digits()
            guard whole > 0, !(leadingZero && whole > 1) else { return nil }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { return nil }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { return nil }
            }
            let text = String(decoding: bytes[start..<at], as: UTF8.self)
            return .number(text)
        }

        /// The index after a valid escape whose letter is at `i` (`n`, `u0041`, a surrogate
        /// pair), or nil.
        func escape(_ i: Int) -> Int? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                 UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                return i + 1
            case UInt8(ascii: "u"):
                guard let unit = hex4(i + 1) else { return nil }
                if unit >= 0xDC00 && unit <= 0xDFFF { return nil }
                guard unit >= 0xD800 && unit <= 0xDBFF else { return i + 5 }
                guard i + 6 < bytes.count, bytes[i + 5] == UInt8(ascii: "\\"), bytes[i + 6] == UInt8(ascii: "u"),
                      let low = hex4(i + 7), low >= 0xDC00 && low <= 0xDFFF else { return nil }
                return i + 11
            default:
                return nil
            }
        }

        func hex4(_ i: Int) -> UInt32? {
            guard i + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for c in bytes[i..<i + 4] {
                let digit: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }

        /// A string starting at the opening quote; decoded.
        mutating func string() -> String? {
            at += 1
            let start = at
            var escaped = false
            while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
                if bytes[at] < 0x20 { return nil }
                if bytes[at] == UInt8(ascii: "\\") {
                    escaped = true
                    guard let after = escape(at + 1) else { return nil }
                    at = after
                    continue
                }
                at += 1
            }
            guard at < bytes.count else { return nil }
            let raw = Array(bytes[start..<at])
            at += 1
            guard escaped else { return String(validating: raw, as: UTF8.self) }
            return raw.withUnsafeBytes { src in
                withUnsafeTemporaryAllocation(byteCount: max(raw.count, 1), alignment: 1) { out -> String? in
                    guard let n = JSONString.unescape(src, into: out) else { return nil }
                    return String(validating: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]), as: UTF8.self)
                }
            }
        }
    }
}
