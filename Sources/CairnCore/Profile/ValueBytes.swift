import Glibc

/// Reaches the bytes behind a value's spans during one evaluation: the event line, the
/// activation's extra text, the program's constants and the scratch arena.
struct ValueBytes {
    let line: UnsafeRawBufferPointer
    let variableText: UnsafeRawBufferPointer
    let programBytes: UnsafeRawBufferPointer
    unowned(unsafe) let scratch: EvalScratch

    init(activation: Activation, program: Unmanaged<ProgramStorage>, scratch: EvalScratch) {
        line = activation.line
        variableText = activation.variableText
        programBytes = program._withUnsafeGuaranteedRef { UnsafeRawBufferPointer($0.bytes) }
        self.scratch = scratch
    }

    /// Calls `body` with a span's bytes as stored (escaped JSON text when `span.escaped`).
    func withRaw<R, E: Error>(_ s: StringSpan, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let range = Int(s.start)..<Int(s.start + s.count)
        switch s.origin {
        case .line: return try body(UnsafeRawBufferPointer(rebasing: line[range]))
        case .program: return try body(UnsafeRawBufferPointer(rebasing: programBytes[range]))
        case .variables: return try body(UnsafeRawBufferPointer(rebasing: variableText[range]))
        case .scratch:
            var result: Result<R, E>?
            scratch.bytes.withUnsafeBytes { all in
                result = Result { () throws(E) -> R in try body(UnsafeRawBufferPointer(rebasing: all[range])) }
            }
            return try result!.get()
        }
    }

    /// The JSON text of a list or map read from the event or the extra text.
    func json(_ ref: ValueRef) -> UnsafeRawBufferPointer {
        let range = Int(ref.start)..<Int(ref.start + ref.count)
        return UnsafeRawBufferPointer(rebasing: (ref.origin == .line ? line : variableText)[range])
    }

    /// Calls `body` with a span's decoded bytes.
    func withDecoded<R>(_ s: StringSpan, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withRaw(s) { raw in Self.withDecoded(raw, escaped: s.escaped, body) }
    }

    /// Calls `body` with `raw` decoded when it is escaped JSON string text.
    static func withDecoded<R>(_ raw: UnsafeRawBufferPointer, escaped: Bool, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard escaped else { return body(raw) }
        return withUnsafeTemporaryAllocation(byteCount: max(raw.count, 1), alignment: 1) { out in
            let n = JSONString.unescape(raw, into: out) ?? 0
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]))
        }
    }

    /// Bytewise order (UTF-8 bytes order as code points): -1, 0 or 1.
    static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }
}
