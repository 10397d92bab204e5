extension Program {
    /// The value as JSON text, for `cairn eval`, `--explain` and tests; nil for errors (use
    /// `message(for:)`). Off the hot path: this allocates.
    ///
    /// Doubles that JSON cannot spell follow the protobuf JSON mapping: `"NaN"`,
    /// `"Infinity"`, `"-Infinity"`. Strings from the event are decoded and re-escaped.
    ///
    /// - Parameter line: the event line the value was evaluated against (for strings read
    ///   from the event).
    public func jsonText(of value: Value, line: UnsafeRawBufferPointer) -> String? {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d):
            if d.isNaN { return "\"NaN\"" }
            if d.isInfinite { return d < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
            return "\(d)"
        case .string(let span):
            return JSONText.quoted(string(span, line: line))
        case .error:
            return nil
        }
    }

    /// The decoded text of a string value.
    public func string(_ span: StringSpan, line: UnsafeRawBufferPointer) -> String {
        switch span.origin {
        case .program:
            return String(decoding: bytes[Int(span.start)..<Int(span.start + span.count)], as: UTF8.self)
        case .line:
            let raw = UnsafeRawBufferPointer(rebasing: line[Int(span.start)..<Int(span.start + span.count)])
            guard span.escaped else { return String(decoding: raw, as: UTF8.self) }
            var decoded = [UInt8](repeating: 0, count: raw.count)
            let n = decoded.withUnsafeMutableBytes { JSONString.unescape(raw, into: $0) } ?? 0
            return String(decoding: decoded[0..<n], as: UTF8.self)
        }
    }
}
