import CairnCore

/// A one-line progress display on stderr: share of the input read, throughput, events/s and
/// bad lines so far. Redrawn in place with a carriage return; cleared before any other message.
final class ProgressBar {
    private var visible = false

    func show(_ p: RunProgress) {
        let seconds = max(Double(p.elapsed) / 1e9, 1e-9)
        var line = "\r"
        let done = p.finishedBytes + p.sourceConsumed
        if let total = p.totalBytes, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            line += "\(Int(fraction * 100))% \(Self.bytes(done))/\(Self.bytes(total))"
        } else {
            line += "\(Self.bytes(p.stats.bytes)) read"
        }
        line += "  \(Self.count(Double(p.stats.events) / seconds)) events/s"
        line += "  \(Self.bytes(Int64(Double(p.stats.bytes) / seconds)))/s"
        line += "  \(p.stats.records) records  \(p.stats.badLines) bad"
        if p.inputCount > 1 { line += "  [\(p.inputIndex + 1)/\(p.inputCount)] \(p.source)" }
        line += "\u{1B}[K"
        StandardError.emit(line)
        visible = true
    }

    func clear() {
        if visible {
            StandardError.emit("\r\u{1B}[K")
            visible = false
        }
    }

    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : "\(oneDecimal(value)) \(units[unit])"
    }

    static func count(_ x: Double) -> String {
        if x >= 1e9 { return "\(oneDecimal(x / 1e9))G" }
        if x >= 1e6 { return "\(oneDecimal(x / 1e6))M" }
        if x >= 1e3 { return "\(oneDecimal(x / 1e3))k" }
        return "\(Int(x))"
    }

    static func oneDecimal(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
