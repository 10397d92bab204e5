/// What `cairn run` does with a bad input line.
public enum OnError: String, Sendable, CaseIterable {
    /// Report it (stderr, `--errors FILE`), skip it and go on.
    case skip
    /// Stop at the first one; the command exits with 65.
    case fail
}

/// Settings of one run.
public struct RunOptions: Sendable {
    public var onError: OnError = .skip
    /// Longest line accepted, in bytes, without its line terminator.
    public var maxLineLength: Int = 1 << 20
    /// Size of each read from an input; tests vary it to prove output does not depend on it.
    public var chunkSize: Int = 1 << 20
    /// How many bytes of a bad line's text a `BadLine` carries.
    public var rawLimit: Int = 256
    /// Nesting depth limit of event JSON.
    public var maxDepth: Int = 128
    /// Bytes of line text framed per batch (beyond room for one longest line).
    public var batchBytes: Int = 1 << 19
    /// Most lines per batch.
    public var batchLines: Int = 4096
    /// Batches the helper frames and scans ahead of the one being processed, when the input
    /// is a file (from a pipe, one: lines are processed as they arrive). Output is the same
    /// for any number.
    public var batchesAhead: Int = 2
    /// Whether a second thread helps scan; output is the same either way.
    public var parallelScan: Bool = true
    /// Nanoseconds between progress reports; nil: none.
    public var progressInterval: Int64?
    /// With a state directory: checkpoint when this many nanoseconds (wall clock) or events
    /// have passed since the last checkpoint, at the next batch boundary; nil: never for
    /// that reason. A run always checkpoints when its input ends.
    public var checkpointInterval: Int64? = 10_000_000_000
    public var checkpointEvents: Int?
    /// For crash tests: the process kills itself (SIGKILL, as `kill -9` would) once this many
    /// events of the run have been applied.
    public var killAfterEvents: Int?
    /// The kinds of records written (`--emit`).
    public var emit: RecordKinds = .action
    /// `--explain`: send records say which checks decided them.
    public var explain = false
    /// `--clock wall`: while a pipe is idle, the clock follows the wall clock, so that timers
    /// fire (and buffered events are applied) when their time comes.
    public var wallClock = false
    /// `--until`: at the end of input, the clock moves on to this time (ns) and the timers due
    /// by then fire.
    public var until: Int64?

    public init() {}
}

/// One input line that could not be used, with where and why.
public struct BadLine: Sendable, Equatable {
    public var source: String
    public var line: Int
    /// Byte offset of the line's start in the (decompressed) input.
    public var offset: Int64
    public var reason: String
    /// The line's first `rawLimit` bytes (empty for a line too long to buffer).
    public var raw: [UInt8]
    public var rawTruncated: Bool
}

/// Counters of a run, for progress and the closing summary.
public struct RunStats: Sendable, Equatable {
    public var lines: Int = 0
    public var events: Int = 0
    public var records: Int = 0
    public var badLines: Int = 0
    /// Events that arrived behind the watermark and were not applied.
    public var lateEvents: Int = 0
    /// Entries refused because the customer already ran the most instances of the journey
    /// (`JourneyEngine.instanceLimit`).
    public var refusedEntries: Int = 0
    /// Where the first late event was.
    public var firstLate: (source: String, line: Int)? {
        get { firstLateSource.map { ($0, firstLateLine) } }
        set { firstLateSource = newValue?.source; firstLateLine = newValue?.line ?? 0 }
    }
    private var firstLateSource: String?
    private var firstLateLine = 0
    /// Bytes of input consumed, decompressed.
    public var bytes: Int64 = 0
    /// Checkpoints written (with a state directory).
    public var checkpoints: Int = 0
    /// Where the first bad line was.
    public var firstBad: (source: String, line: Int)? {
        get { firstBadSource.map { ($0, firstBadLine) } }
        set { firstBadSource = newValue?.source; firstBadLine = newValue?.line ?? 0 }
    }
    private var firstBadSource: String?
    private var firstBadLine = 0

    public init() {}
}

/// Where a run is, for a progress display.
public struct RunProgress: Sendable {
    public var stats: RunStats
    public var source: String
    /// Index of the current input and how many there are.
    public var inputIndex: Int
    public var inputCount: Int
    /// Bytes of the current input's file consumed and its size (compressed for `.zst`).
    public var sourceConsumed: Int64
    public var sourceTotal: Int64?
    /// Sizes of all inputs that are files (nil if any is a pipe), and what the finished ones took.
    public var totalBytes: Int64?
    public var finishedBytes: Int64
    /// Monotonic nanoseconds since the run started.
    public var elapsed: Int64
}

/// How a run ended.
public enum RunEnd: Sendable, Equatable {
    /// Every input was read to its end.
    case finished
    /// Standard output was closed by its reader (`| head`); nothing is wrong.
    case brokenPipe
    /// `--on-error fail` and a bad line was found.
    case stoppedAtBadLine(BadLine)
    /// `--on-error fail` and an event arrived behind the watermark (its reason says so).
    case stoppedAtLateEvent(BadLine)
    /// An input could not be opened, read or decompressed.
    case inputFailed(InputError)
    /// Writing records failed.
    case outputFailed(String)
    /// The state could not be kept (a checkpoint or a growth of the files failed).
    case stateFailed(StateError)
}

/// Receives what a run reports while it goes; the executable prints, the library does not.
public protocol RunObserver: AnyObject {
    func badLine(_ bad: BadLine)
    /// An event that arrived behind the watermark: not applied. `reason` says by how much.
    func lateEvent(_ late: BadLine)
    func progress(_ progress: RunProgress)
    /// Something the user should know that is not an error (an input skipped on resume).
    func note(_ message: String)
}

extension RunObserver {
    /// Notes are dropped unless the observer shows them.
    public func note(_ message: String) {}
}
