import CairnCore

/// Reports bad input lines and late events: the first few of each on stderr, every one to
/// `--errors FILE` as NDJSON, and a count of each at the end.
///
/// Late events have their own limit of `shownLimit`, so a burst of late events does not hide
/// the first bad lines, nor the other way round.
final class BadLineReporter: RunObserver {
    /// Bad lines (and, apart, late events) printed to stderr before the rest are only counted.
    static let shownLimit = 10

    private let errorsSink: OutputSink?
    private let progress: ProgressBar?
    private var shown = 0
    private var lateShown = 0
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
        record(bad)
    }

    func lateEvent(_ late: BadLine) {
        if lateShown < Self.shownLimit {
            progress?.clear()
            StandardError.emit("cairn: warning: \(late.source):\(late.line): \(late.reason)\n")
        } else if lateShown == Self.shownLimit {
            progress?.clear()
            StandardError.emit("cairn: warning: further late events are counted, not shown"
                + (errorsSink == nil ? " (--errors FILE records every one)\n" : " (see the --errors file)\n"))
        }
        lateShown += 1
        record(late)
    }

    /// One line of the errors file: `{source, line, offset, reason, raw}`.
    private func record(_ bad: BadLine) {
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
