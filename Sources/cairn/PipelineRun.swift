import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// A run whose records are kept rather than written: what `cairn diff` compares and
/// `cairn test` checks. The records go to a temporary file (the runner writes to a file
/// descriptor) and are read back as lines.
struct PipelineRun {
    var records: [String] = []
    var bad: [BadLine] = []
    var late: [BadLine] = []

    /// A run that could not finish: its message (without `cairn: error: `) and exit status.
    struct Failure: Error {
        var message: String
        var status: ExitStatus
    }

    /// Runs `pipeline` over `inputs` (nil is standard input) with the state in `directory`
    /// (nil: fresh state in memory) and appends what it writes to `self`.
    mutating func run(_ pipeline: CompiledPipeline, fingerprint: UInt64 = 0, inputs: [String?],
                      options: RunOptions, directory: String? = nil) throws(Failure) {
        var template = Array("/tmp/cairn-records-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure(message: "cannot make a temporary file: \(systemMessage(errno))", status: .ioError) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer {
            close(fd)
            unlink(path)
        }
        let end: RunEnd
        do {
            let state = try RunState(directory: directory, pipeline: pipeline, fingerprint: fingerprint)
            let collector = CollectingObserver()
            var options = options
            options.checkpointInterval = nil
            end = Runner(pipeline: pipeline, options: options, output: OutputSink(fd: fd, flushEachRecord: false),
                         observer: collector, state: state).run(inputs: inputs)
            bad += collector.bad
            late += collector.late
        } catch {
            throw Failure(message: "the state cannot be kept: \(error)", status: .ioError)
        }
        switch end {
        case .finished: break
        case .inputFailed(let error): throw Failure(message: "\(error)", status: .ioError)
        default: throw Failure(message: "the run ended early: \(end)", status: .software)
        }
        guard let file = fopen(path, "r") else {
            throw Failure(message: "cannot read back the records: \(systemMessage(errno))", status: .ioError)
        }
        defer { fclose(file) }
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(buffer) }
        while getline(&buffer, &capacity, file) > 0 {
            var line = String(cString: buffer!)
            if line.hasSuffix("\n") { line.removeLast() }
            records.append(line)
        }
    }
}

/// Keeps what a run skips.
final class CollectingObserver: RunObserver {
    var bad: [BadLine] = []
    var late: [BadLine] = []
    func badLine(_ bad: BadLine) { self.bad.append(bad) }
    func lateEvent(_ late: BadLine) { self.late.append(late) }
    func progress(_ progress: RunProgress) {}
}
