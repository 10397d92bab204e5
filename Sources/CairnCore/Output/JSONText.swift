/// JSON text for output records, off the hot path (pipeline constants, error records).
public enum JSONText {
    /// Appends `string` as JSON string contents (no quotes): `"`, `\` and control characters
    /// escaped; everything else, non-ASCII included, as UTF-8.
    public static func appendEscaped(_ string: String, to out: inout [UInt8]) {
        appendEscaped(bytes: Array(string.utf8), to: &out)
    }

    /// Appends bytes as JSON string contents; invalid UTF-8 becomes U+FFFD so that the
    /// output is always valid JSON (the raw text of a bad line may be anything).
    public static func appendEscaped(bytes: [UInt8], to out: inout [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)  // repairs invalid UTF-8 with U+FFFD
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
    }

    /// `"string"` with escapes.
    public static func quoted(_ string: String) -> String {
        var out: [UInt8] = [0x22]
        appendEscaped(string, to: &out)
        out.append(0x22)
        return String(decoding: out, as: UTF8.self)
    }
}
