import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline's journeys over events and write decision records.",
        discussion: """
            Reads NDJSON events from the INPUT files in the order given, or from standard \
            input when there is none or for '-'. zstd-compressed input is recognised by its \
            magic bytes, whatever its name; multi-frame and concatenated .zst files work.

            Each customer moves through the journeys on event time: an event matching a \
            journey's 'entry' starts an instance, which runs its steps (send, wait, \
            wait_for, branch, split, exit) until it waits or ends; exits and goals are \
            checked on every event, timers fire when event time reaches them. Records are \
            JSON objects, one per line on standard output: 'action' (send this message), \
            'skip' (a send not made, with its reason), 'enter', 'exit', 'goal', 'erased'; \
            --emit chooses the kinds (default: action). docs/journeys.md has the exact \
            semantics and the keys of each record.

            A bad input line (invalid JSON, not an object, a missing or invalid customer, \
            time or type, a line over --max-line-length) is reported on stderr as \
            'source:line: reason' (the first \(BadLineReporter.shownLimit), then only counted) \
            and skipped; nothing malformed reaches standard output.

            Events are applied in event-time order. With the pipeline's 'events.lateness' \
            (default 0s) an event may arrive that much behind the latest time seen: it \
            waits in a reorder buffer and is applied in time order (equal times in input \
            order), so records come out in event-time order. An event further behind is \
            late: reported like a bad line ('source:line: late event: ...', counted apart) \
            and not applied. At the end of the input every buffered event is applied.

            With --state DIR, the customers' profiles and journeys persist in DIR across runs, and the \
            run checkpoints (see --checkpoint-interval): after a crash or kill -9, the \
            same command continues from the last checkpoint, skipping what was applied; \
            checkpoints carry the events held in the reorder buffer. \
            A file read to its end by an earlier run on DIR is skipped; a file that has \
            grown since continues where it stopped. Standard input cannot be re-read: \
            after a crash, events sent after the last checkpoint must be sent again. \
            Records written after the last checkpoint may appear twice, with the same \
            ids. Without --state, profiles and journeys live in memory for the run. \
            At the end of the input the clock stands at the latest event time; timers \
            due later wait in DIR for the next run (or fire now with --until).

            Examples:
              cairn run pipelines/shop.yaml samples/shop.ndjson
              cairn run pipelines/shop.yaml samples/shop.ndjson.zst --errors bad.ndjson
              cairn run pipelines/shop.yaml archive/*.zst --state st/ > out.ndjson
              zstdcat archive/*.zst | cairn run pipelines/shop.yaml | head
              cairn run pipelines/cart-recovery.yaml events.ndjson --emit all --explain
              tail -f live.ndjson | cairn run pipelines/cart-recovery.yaml --state st/ --clock wall

            \(ExitStatus.helpText)
            """
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Argument(help: "Event files, plain or .zst; '-' or none for standard input.")
    var inputs: [String] = []

    @Option(name: .customLong("errors"), help: ArgumentHelp(
        "Write every bad input line and late event to FILE as NDJSON {source, line, offset, reason, raw}; 'raw' holds the line's first 256 bytes, invalid UTF-8 replaced by U+FFFD.",
        valueName: "FILE"))
    var errorsFile: String?

    @Option(name: .customLong("on-error"), help: ArgumentHelp(
        "What to do with a bad input line or a late event: 'skip' reports it and goes on; 'fail' stops at the first with exit 65.",
        valueName: "skip|fail"))
    var onError: OnErrorArgument = .skip

    @Option(name: .customLong("max-line-length"), help: ArgumentHelp(
        "Longest input line in bytes (suffixes K, M: 1024-based); longer lines are reported and skipped without being buffered.",
        valueName: "BYTES"))
    var maxLineLength: ByteCount = ByteCount(1 << 20)

    @Option(name: .customLong("progress"), help: ArgumentHelp(
        "Show a progress bar on stderr: 'auto' when stderr is a terminal.",
        valueName: "auto|always|never"))
    var progress: ProgressMode = .auto

    @Option(name: .customLong("state"), help: ArgumentHelp(
        "Keep state in DIR (created if missing) across runs, with checkpoints; one process at a time.",
        valueName: "DIR"))
    var stateDirectory: String?

    @Option(name: .customLong("checkpoint-interval"), help: ArgumentHelp(
        "With --state, checkpoint at least this often (wall clock), e.g. 10s, 1m; 0s: only at the end.",
        valueName: "DURATION"))
    var checkpointInterval: DurationArgument = DurationArgument(seconds: 10)

    @Option(name: .customLong("checkpoint-events"), help: ArgumentHelp(
        "With --state, also checkpoint after this many events; 0 (the default): by time only.",
        valueName: "N"))
    var checkpointEvents: Int = 0

    @Flag(name: .customLong("stats"), help: ArgumentHelp(
        "At the end, print what the run did on stderr as one JSON object: events, records, bad lines, late events, seconds, and with --state the customers kept, bytes per customer and the last checkpoint's time and size."))
    var printStats = false

    @Option(name: .customLong("emit"), help: ArgumentHelp(
        "The kinds of records to write, comma-separated: action, skip, enter, exit, goal, erased, or all.",
        valueName: "KINDS"))
    var emit: EmitArgument = EmitArgument(kinds: .action)

    @Flag(name: .customLong("explain"), help: ArgumentHelp(
        "Add to each action and skip record an 'explain' object: the policy checks that ran and their values (consent, hold, the customer's zone and local time, the cap's count, limit and window)."))
    var explain = false

    @Option(name: .customLong("until"), help: ArgumentHelp(
        "At the end of input, move the clock on to TIME (RFC 3339, or 'now': the wall clock) and fire the timers due by then; without it the clock stands at the latest event time.",
        valueName: "TIME|now"))
    var until: UntilArgument?

    @Option(name: .customLong("clock"), help: ArgumentHelp(
        "'event': time is the events' own; 'wall': while input from a pipe is idle, the clock also follows the wall clock, so that the timers of a live stream fire on time.",
        valueName: "event|wall"))
    var clock: ClockMode = .event

    @Flag(name: .customLong("single-thread"), help: ArgumentHelp(visibility: .hidden))
    var singleThread = false

    @Option(name: .customLong("kill-after-events"), help: ArgumentHelp(visibility: .hidden))
    var killAfterEvents: Int?

    @Option(name: .customLong("read-size"), help: ArgumentHelp(visibility: .hidden))
    var readSize: ByteCount = ByteCount(1 << 20)

    func validate() throws {
        guard maxLineLength.value >= 1, maxLineLength.value <= 1 << 30 else {
            throw ValidationError("--max-line-length must be between 1 and 1G bytes")
        }
        guard readSize.value >= 1, readSize.value <= 1 << 30 else {
            throw ValidationError("--read-size must be between 1 and 1G bytes")
        }
        guard checkpointEvents >= 0 else {
            throw ValidationError("--checkpoint-events must be 0 or more")
        }
    }

    func run() throws {
        // A closed reader must surface as EPIPE from write(2), not kill us mid-record.
        signal(SIGPIPE, SIG_IGN)

        let (compiled, pipelineSource) = try PipelineFile.compiledForRun(pipeline)

        let paths = try inputPaths(inputs)

        let state: RunState?
        do {
            state = try RunState(directory: stateDirectory, pipeline: compiled,
                                 fingerprint: PipelineFile.fingerprint(of: pipelineSource))
        } catch {
            throw StateFailure.exit(error, directory: stateDirectory)
        }
        if let state, state.pipelineChanged, let dir = stateDirectory {
            StandardError.emit("cairn: note: \(pipeline) has changed since the last checkpoint in \(dir); its profile layout is the same, so the state carries on\n")
        }

        var errorsSink: OutputSink?
        var errorsFD: Int32 = -1
        if let errorsFile {
            errorsFD = open(errorsFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard errorsFD >= 0 else {
                StandardError.emit("cairn: error: cannot write '\(errorsFile)': \(systemMessage(errno))\n")
                throw ExitStatus.ioError.code
            }
            errorsSink = OutputSink(fd: errorsFD, flushEachRecord: false, capacity: 1 << 16)
        }
        defer { if errorsFD >= 0 { close(errorsFD) } }

        let showProgress: Bool
        switch progress {
        case .auto: showProgress = StandardError.isTerminal
        case .always: showProgress = true
        case .never: showProgress = false
        }
        let bar = showProgress ? ProgressBar() : nil
        let reporter = BadLineReporter(errorsSink: errorsSink, progress: bar)

        var options = RunOptions()
        options.onError = onError.value
        options.maxLineLength = maxLineLength.value
        options.chunkSize = readSize.value
        options.progressInterval = showProgress ? 200_000_000 : nil
        options.checkpointInterval = checkpointInterval.seconds > 0 ? checkpointInterval.seconds * 1_000_000_000 : nil
        options.checkpointEvents = checkpointEvents > 0 ? checkpointEvents : nil
        options.killAfterEvents = killAfterEvents
        options.parallelScan = !singleThread
        options.emit = emit.kinds
        options.explain = explain
        options.wallClock = clock == .wall
        options.until = until?.time

        let output = OutputSink(fd: 1, flushEachRecord: isatty(1) == 1)
        let runner = Runner(pipeline: compiled, options: options, output: output, observer: reporter, state: state)
        let started = Runner.monotonicNanos()
        let end = runner.run(inputs: paths)
        let seconds = Double(Runner.monotonicNanos() - started) / 1e9
        reporter.finish()
        bar?.clear()

        let stats = runner.stats
        if printStats {
            var fields: [(String, JSONTree)] = [
                ("events", .number(String(stats.events))), ("records", .number(String(stats.records))),
                ("bad_lines", .number(String(stats.badLines))), ("late_events", .number(String(stats.lateEvents))),
                ("entries_refused", .number(String(stats.refusedEntries))),
                ("bytes", .number(String(stats.bytes))),
                ("seconds", .number(String(seconds))),
            ]
            if let state, state.directory != nil {
                let store = state.store.stats
                let bytes = store.files.reduce(0) { $0 + $1.bytes }
                fields += [
                    ("customers", .number(String(store.customers))),
                    ("state_bytes", .number(String(bytes))),
                    ("bytes_per_customer", .number(String(store.customers > 0 ? bytes / store.customers : 0))),
                    ("checkpoints", .number(String(stats.checkpoints))),
                    ("last_checkpoint_ms", .number(String(Double(store.lastCheckpointNanoseconds) / 1e6))),
                    ("last_checkpoint_bytes", .number(String(store.lastCheckpointDirtyBytes))),
                ]
            }
            StandardError.emit("cairn: stats: \(JSONTree.object(fields).text)\n")
        }
        if let failure = reporter.errorsFileFailure {
            StandardError.emit("cairn: error: writing '\(errorsFile ?? "")' failed: \(failure)\n")
        }
        if stats.badLines > 0, let first = stats.firstBad {
            let lines = stats.badLines == 1 ? "1 bad line" : "\(stats.badLines) bad lines"
            let verb = onError == .fail ? "found" : "skipped"
            StandardError.emit("cairn: \(lines) \(verb) (first at \(first.source):\(first.line))"
                + (errorsFile == nil && onError == .skip ? "; --errors FILE records them all\n" : "\n"))
        }
        if stats.lateEvents > 0, let first = stats.firstLate {
            let events = stats.lateEvents == 1 ? "1 late event" : "\(stats.lateEvents) late events"
            let verb = onError == .fail ? "found" : "skipped"
            StandardError.emit("cairn: \(events) \(verb) (first at \(first.source):\(first.line))"
                + (errorsFile == nil && onError == .skip ? "; --errors FILE records them all\n" : "\n"))
        }
        if stats.refusedEntries > 0 {
            StandardError.emit("cairn: warning: \(stats.refusedEntries) journey \(stats.refusedEntries == 1 ? "entry" : "entries") refused: the customer already ran 256 instances of that journey\n")
        }
        switch end {
        case .finished, .brokenPipe:
            if reporter.errorsFileFailure != nil { throw ExitStatus.ioError.code }
            return
        case .stoppedAtBadLine:
            StandardError.emit("cairn: error: stopped at the first bad line (--on-error fail)\n")
            throw ExitStatus.badData.code
        case .stoppedAtLateEvent:
            StandardError.emit("cairn: error: stopped at the first late event (--on-error fail)\n")
            throw ExitStatus.badData.code
        case .inputFailed(let error):
            StandardError.emit("cairn: error: \(error.commandLineMessage(written: "records"))\n")
            switch error.kind {
            case .notFound, .permissionDenied, .isDirectory: throw ExitStatus.noInput.code
            case .read, .corrupt: throw ExitStatus.ioError.code
            }
        case .outputFailed(let why):
            StandardError.emit("cairn: error: writing standard output failed: \(why)\n")
            throw ExitStatus.ioError.code
        case .stateFailed(let error):
            throw StateFailure.exit(error, directory: stateDirectory)
        }
    }
}

enum OnErrorArgument: String, ExpressibleByArgument, CaseIterable {
    case skip, fail
    var value: OnError { self == .skip ? .skip : .fail }
}

enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// A byte count with an optional K/M/G (1024-based) suffix.
struct ByteCount: ExpressibleByArgument {
    var value: Int
    init(_ value: Int) { self.value = value }
    init?(argument: String) {
        var digits = Substring(argument.uppercased())
        var scale = 1
        if digits.hasSuffix("IB") { digits = digits.dropLast(2) } else if digits.hasSuffix("B") { digits = digits.dropLast() }
        switch digits.last {
        case "K": scale = 1 << 10; digits = digits.dropLast()
        case "M": scale = 1 << 20; digits = digits.dropLast()
        case "G": scale = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard let n = Int(digits), n >= 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        value = v
    }
    var defaultValueDescription: String { "\(value)" }
}

/// A duration argument in the pipeline language's notation (`90s`, `10m`, `1h30m`), or `0s`.
struct DurationArgument: ExpressibleByArgument {
    var seconds: Int64
    init(seconds: Int64) { self.seconds = seconds }
    init?(argument: String) {
        if argument == "0" || argument == "0s" { seconds = 0; return }
        guard case .success(let d) = PipelineDuration.parse(argument) else { return nil }
        seconds = d.seconds
    }
    var defaultValueDescription: String { "\(PipelineDuration(seconds: seconds))" }
}

/// `--emit action,skip,...` or `all`.
struct EmitArgument: ExpressibleByArgument {
    var kinds: RecordKinds
    init(kinds: RecordKinds) { self.kinds = kinds }
    init?(argument: String) {
        var kinds: RecordKinds = []
        for name in argument.split(separator: ",", omittingEmptySubsequences: false) {
            let name = name.trimmingCharacters(in: .whitespaces)
            if name == "all" {
                kinds = .all
            } else if let kind = RecordKinds.names.first(where: { $0.0 == name }) {
                kinds.insert(kind.1)
            } else {
                return nil
            }
        }
        guard !kinds.isEmpty else { return nil }
        self.kinds = kinds
    }
    var defaultValueDescription: String { "action" }
}

/// `--until 2024-03-01T00:00:00Z` or `--until now`.
struct UntilArgument: ExpressibleByArgument {
    var time: Int64
    init?(argument: String) {
        if argument == "now" {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            time = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
            return
        }
        guard let ns = Array(argument.utf8).withUnsafeBytes({ EventTime.parseRFC3339($0) }) else { return nil }
        time = ns
    }
}

enum ClockMode: String, ExpressibleByArgument, CaseIterable {
    case event, wall
}
