import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// How `cairn run` and `cairn state` report a state directory they cannot use.
enum StateFailure {
    /// Prints the error (and a hint) on stderr; returns the exit code to end with.
    static func exit(_ error: StateError, directory: String?) -> ExitCode {
        let dir = directory ?? "memory"
        switch error {
        case .busy(_, let pid):
            StandardError.emit("cairn: error: state directory '\(dir)' is in use by another cairn process"
                + (pid.map { " (pid \($0))" } ?? "") + "\n"
                + "  help: one process writes a state directory at a time; wait for it to end, or use another directory\n")
            return ExitStatus.tempFail.code
        case .layoutChanged(_, let stored, let current):
            let differences = layoutDifferences(stored: stored, current: current)
            StandardError.emit("cairn: error: state directory '\(dir)' keeps profiles in another layout than this pipeline's\n"
                + differences.map { "  \($0)\n" }.joined()
                + "  help: a state directory keeps one layout: undo the change to 'profile', or build a new state by replaying the archives into a fresh directory (cairn run PIPELINE ARCHIVE... --state NEW_DIR > /dev/null)\n")
            return ExitStatus.config.code
        case .corrupt(let file, let detail):
            StandardError.emit("cairn: error: state directory '\(dir)' is damaged: \(file): \(detail)\n"
                + "  help: nothing was read from it; restore the directory from a copy, or replay the archives into a fresh one\n")
            return ExitStatus.ioError.code
        case .io(let file, let operation, let code):
            StandardError.emit("cairn: error: \(operation) '\(file)' failed: \(systemMessage(code))\n")
            return ExitStatus.ioError.code
        case .tooLarge(let what):
            StandardError.emit("cairn: error: state directory '\(dir)': \(what) is too large to keep\n")
            return ExitStatus.ioError.code
        }
    }

    /// What differs between two profile layout descriptions, one line per field.
    static func layoutDifferences(stored: [UInt8], current: [UInt8]) -> [String] {
        func fields(_ bytes: [UInt8]) -> [(String, String)] {
            guard let tree = JSONTree.parse(bytes), let items = tree["fields"]?.array else { return [] }
            return items.compactMap { item in
                guard let name = item["name"]?.string else { return nil }
                return (name, shape(item))
            }
        }
        func shape(_ item: JSONTree) -> String {
            var text = item["kind"]?.string ?? "?"
            if let sum = item["sum"]?.string { text += " of \(sum)s" }
            if let buckets = item["buckets"]?.int64, let width = item["bucket_ns"]?.int64 {
                let seconds = width / 1_000_000_000
                text += " over a window of \(PipelineDuration(seconds: seconds * buckets)) in buckets of \(PipelineDuration(seconds: seconds))"
            }
            if let capacity = item["capacity"]?.int64 { text += " with capacity \(capacity)" }
            if item["counted"]?.bool == true, item["kind"]?.string == "sum" { text += " with a default" }
            return text
        }
        let old = fields(stored), new = fields(current)
        var lines: [String] = []
        let versions = (JSONTree.parse(stored)?["version"]?.int64, JSONTree.parse(current)?["version"]?.int64)
        if versions.0 != versions.1 {
            lines.append("the state was written by another version of cairn, whose state format (\(versions.0.map(String.init) ?? "?")) differs from this one's (\(versions.1.map(String.init) ?? "?"))")
        }
        for (name, shape) in new {
            if let before = old.first(where: { $0.0 == name }) {
                if before.1 != shape { lines.append("profile '\(name)': \(before.1) in the state, \(shape) in the pipeline") }
            } else {
                lines.append("profile '\(name)': new in the pipeline")
            }
        }
        for (name, _) in old where !new.contains(where: { $0.0 == name }) {
            lines.append("profile '\(name)': in the state, no longer in the pipeline")
        }
        if lines.isEmpty && old.map(\.0) != new.map(\.0) {
            lines.append("the profile fields are in another order: \(old.map(\.0).joined(separator: ", ")) in the state")
        }
        return lines
    }
}
