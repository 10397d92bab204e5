import CairnCore

/// Reports bad input lines: the first few on stderr, every one to `--errors FILE` as NDJSON,
/// and a count at the end.
final class BadLineReporter: RunObserver {
    /// Bad lines printed to stderr before the rest are only counted.
    static let shownLimit = 10

    private let errorsSink: OutputSink?
    private let progress: ProgressBar?
    private var shown = 0
    private(set) var errorsFileFailure: String?

    init(errorsSink: OutputSink?, progress: ProgressBar?) {
        self.errorsSink = errorsSink
        self.progress = progress
    }

    func badLine(_ bad: BadLine) {
        if shown < Self.shownLimit {
            progress?.clear()
            StandardError.emit("cairn: warning: \(bad.source):\(bad.line): \(bad.reason)\n")
        } else if shown == Self.shownLimit {
            progress?.clear()
            StandardError.emit("cairn: warning: further bad lines are counted, not shown"
                + (errorsSink == nil ? " (--errors FILE records every one)\n" : " (see the --errors file)\n"))
        }
        shown += 1
        guard let errorsSink, errorsFileFailure == nil else { return }
        var record: [UInt8] = Array(#"{"source":""#.utf8)
        JSONText.appendEscaped(bad.source, to: &record)
        record.append(contentsOf: Array(#"","line":\#(bad.line),"offset":\#(bad.offset),"reason":""#.utf8))
        JSONText.appendEscaped(bad.reason, to: &record)
        record.append(contentsOf: Array(#"","raw":""#.utf8))
        JSONText.appendEscaped(bytes: bad.raw, to: &record)
        record.append(contentsOf: Array("\"}\n".utf8))
        do {
            try errorsSink.append(record)
            try errorsSink.endRecord()
        } catch {
            errorsFileFailure = "\(error)"
        }
    }

    func note(_ message: String) {
        progress?.clear()
        StandardError.emit("cairn: note: \(message)\n")
    }

    func progress(_ progress: RunProgress) {
        self.progress?.show(progress)
    }

    /// Writes what is buffered for the errors file.
    func finish() {
        guard let errorsSink, errorsFileFailure == nil else { return }
        do { try errorsSink.flush() } catch { errorsFileFailure = "\(error)" }
    }
}
