extension Program {
    /// The value as JSON text, for `cairn eval`, `--explain` and tests. Off the hot path:
    /// this allocates.
    ///
    /// - Strings are decoded and re-escaped; bytes are base64 strings.
    /// - Doubles are JSON numbers in Swift's shortest round-trip form, integral ones with
    ///   `.0` (`2.0`, `1e+300`), so that they read as doubles; NaN and the infinities, which
    ///   JSON cannot spell, are the strings `"NaN"`, `"Infinity"`, `"-Infinity"` (protobuf's
    ///   JSON mapping). ints and uints are plain JSON numbers (not quoted, even beyond 2^53).
    /// - Timestamps are RFC 3339 strings in UTC; durations CEL duration strings (`"1.5s"`).
    /// - Lists are arrays; maps are objects, keys that are not strings rendered as their JSON
    ///   text inside the quotes (`{"1": true}`).
    /// - Types are their CEL names as strings (`"int"`).
    /// - Errors are not rendered: the result is nil, and the caller prints
    ///   `{"error": message(for: error)}`. An error cannot occur inside a list or map.
    ///
    /// - Precondition: `value` was produced by this program with this activation and scratch,
    ///   and the scratch was not used for another evaluation since.
    public func jsonText(of value: Value, activation: Activation, scratch: EvalScratch) -> String? {
        var out: [UInt8] = []
        let ok = withEvaluator(activation, scratch) { $0.render(value, into: &out) }
        return ok ? String(decoding: out, as: UTF8.self) : nil
    }

    /// The decoded text of a string value (or the bytes of a bytes value, as UTF-8).
    public func string(_ span: StringSpan, activation: Activation, scratch: EvalScratch) -> String {
        withEvaluator(activation, scratch) { evaluator in
            evaluator.withDecoded(span) { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Runs `body` with an evaluator over this program and `activation`, without resetting
    /// `scratch`.
    func withEvaluator<R>(_ activation: Activation, _ scratch: EvalScratch, _ body: (Evaluator) -> R) -> R {
        storage.withEvaluator(activation, scratch, body)
    }
}

extension ProgramStorage {
    /// `Program.withEvaluator`, on the program's arrays at their fixed addresses: nothing
    /// to borrow (or retain) but the storage itself.
    @inline(__always)
    func withEvaluator<R>(_ activation: Activation, _ scratch: EvalScratch, _ body: (Evaluator) -> R) -> R {
        let p = self
        return withUnsafeTemporaryAllocation(of: Value.self, capacity: p.localCount + 1) { locals in
            body(Evaluator(
                nodes: p.nodes.baseAddress!, constants: p.constants.baseAddress!,
                operands: p.operands.baseAddress!, programBytes: UnsafeRawBufferPointer(p.bytes),
                line: activation.line, fields: activation.fields,
                eventTime: activation.eventTime, variableText: activation.variableText,
                variableValues: activation.variableValues,
                profileValues: activation.profileValues,
                journeyValues: activation.journeyValues,
                typeField: activation.typeField, typeText: activation.typeText, locals: locals.baseAddress!,
                scratch: scratch, zones: p.zonesView, regexes: p.regexesView))
        }
    }
}

extension Evaluator {
    /// Appends the JSON text of `value` to `buffer`, rendered first into `scratch` (emptied
    /// here; a caller that keeps it allocates only while it grows); false for an error,
    /// with nothing appended.
    func render(_ value: Value, into buffer: ByteBuffer, scratch: inout [UInt8]) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        guard render(value, into: &scratch) else { return false }
        buffer.append(scratch)
        return true
    }

    /// Appends the JSON text of `value`; false for an error.
    func render(_ value: Value, into out: inout [UInt8]) -> Bool {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .uint(let u): out += Array(String(u).utf8)
        case .double(let d): JSONText.appendDouble(d, to: &out)
        case .string(let s):
            let decoded = withDecoded(s) { Array($0) }
            out.append(0x22)
            JSONText.appendEscaped(bytes: decoded, to: &out)
            out.append(0x22)
        case .bytes(let s):
            out.append(0x22)
            withRaw(s) { base64(UnsafeRawBufferPointer($0), into: &out) }
            out.append(0x22)
        case .timestamp(let ns):
            out += Array(JSONText.quoted(CELTime.formatTimestamp(ns)).utf8)
        case .duration(let ns):
            out += Array(JSONText.quoted(CELTime.formatDuration(ns)).utf8)
        case .type(let tag):
            out += Array(JSONText.quoted(tag.name).utf8)
        case .list(let list):
            out.append(0x5B)
            var cursor = Cursor(list)
            var first = true
            while let element = nextElement(&cursor) {
                if !first { out.append(0x2C) }
                first = false
                guard render(element, into: &out) else { return false }
            }
            out.append(0x5D)
        case .map(let map):
            out.append(0x7B)
            var cursor = Cursor(map)
            var first = true
            while let (key, element) = nextEntry(&cursor) {
                if !first { out.append(0x2C) }
                first = false
                if case .string = key {
                    guard render(key, into: &out) else { return false }
                } else {
                    var text: [UInt8] = []
                    guard render(key, into: &text) else { return false }
                    out.append(0x22)
                    JSONText.appendEscaped(bytes: text, to: &out)
                    out.append(0x22)
                }
                out.append(0x3A)
                guard render(element, into: &out) else { return false }
            }
            out.append(0x7D)
        case .error:
            return false
        }
        return true
    }
}

/// Standard base64 with padding.
func base64(_ raw: UnsafeRawBufferPointer, into out: inout [UInt8]) {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var i = 0
    while i + 3 <= raw.count {
        let n = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2])
        out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
        i += 3
    }
    let rest = raw.count - i
    if rest == 1 {
        let n = UInt32(raw[i]) << 16
        out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], 0x3D, 0x3D]
    } else if rest == 2 {
        let n = UInt32(raw[i]) << 16 | UInt32(raw[i + 1]) << 8
        out += [alphabet[Int(n >> 18)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], 0x3D]
    }
}
