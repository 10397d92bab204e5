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
        let text = Array(String(decoding: bytes, as: UTF8.self).utf8)  // repairs invalid UTF-8
        let start = out.count
        let room = text.count * 6  // what JSONString.escape needs at most
        out.append(contentsOf: repeatElement(0, count: room))
        let written = text.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { target in
                JSONString.escape(source, into: UnsafeMutableRawBufferPointer(rebasing: target[start...]))!
            }
        }
        out.removeLast(room - written)
    }

    /// Appends a double as cairn writes doubles everywhere (`cairn eval`, records, profiles):
    /// Swift's shortest round-trip form, integral ones with `.0` (`2.0`, `1e+300`) so they
    /// read back as doubles; NaN and the infinities, which JSON cannot spell, as the strings
    /// `"NaN"`, `"Infinity"`, `"-Infinity"` (protobuf's JSON mapping).
    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isNaN {
            out += Array("\"NaN\"".utf8)
        } else if d.isInfinite {
            out += Array((d < 0 ? "\"-Infinity\"" : "\"Infinity\"").utf8)
        } else {
            out += Array("\(d)".utf8)
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
