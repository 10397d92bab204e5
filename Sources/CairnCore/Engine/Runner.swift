#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a compiled pipeline over inputs: frame → scan → map → journeys → records.
///
/// One runner serves one `cairn run`. Everything per event works on bytes in reusable buffers:
/// the framer's line buffer, a table of scanned values, a scratch area for the rare escaped
/// customer, and the output sink's buffer.
///
/// - Complexity: O(line length) per event plus O(journeys); no allocation per event.
public final class Runner {
    public let pipeline: CompiledPipeline
    public let options: RunOptions
    public let output: OutputSink
    public private(set) var stats = RunStats()
    private weak var observer: (any RunObserver)?
    /// The journeys' runtime and the records it writes.
    private let journeys: JourneyEngine
    private let records: RecordWriter
    /// Decompressed bytes of the inputs finished so far.
    private var inputBase: Int64 = 0
    private let crew: ScanCrew
    /// The event types the crew numbers (see `EventTypes`).
    private let types: EventTypes
    private let mapping: EventMapping
    /// The batches, used in turn: one is processed while the crew frames and scans the
    /// others (`ScanCrew.depth` of them, reading ahead in a file).
    private let batches: [LineBatch]
    /// Decoded customer (for escaped keys), then its re-escaped form; and the formatted time.
    private let scratch: UnsafeMutableRawBufferPointer
    private let timeText: UnsafeMutableRawBufferPointer
    /// The arena expressions build runtime values in; reused for every event.
    private let evalScratch = EvalScratch()
    /// The run's state (profiles and checkpoints); nil keeps nothing between events.
    public let state: RunState?
    /// The profiles, if the pipeline has any, and the customers' state, looked up ahead (see
    /// `process`). Unmanaged, used through `_withUnsafeGuaranteedRef`: `state` keeps them,
    /// and binding a strong optional retained and released it at every event.
    private let profile: Unmanaged<ProfileEngine>?
    private let store: Unmanaged<StateStore>?
    /// Whether the state lives in a directory: only then are inputs identified and
    /// checkpoints written (state in memory ends with the run).
    private let keepsCheckpoints: Bool
    /// Where the current input stands: the end of the last line applied, and its number
    /// minus one (see `LineFramer.skip(to:lines:)`).
    private var position: (offset: Int64, line: Int) = (0, 0)
    /// Events and records of earlier runs on the same state, for the checkpoint's totals
    /// and the expiry sweep's schedule.
    private let eventsBefore: Int64
    private let recordsBefore: Int64
    private var lastCheckpoint: (events: Int, time: Int64) = (0, 0)
    /// Inputs finished in this run, for the next checkpoint.
    private var finishedInputs: [Checkpoint.Input] = []
    /// Events held until the watermark passes them (see `admit`).
    private let reorder: ReorderBuffer
    /// `events.lateness` in ns; the greatest event time seen (over all runs on the state) and
    /// `seen - lateness`, the time below which an arriving event is late (`.min` before any).
    private let lateness: Int64
    private var seen: Int64 = .min
    private var watermark: Int64 = .min
    /// The current input's index in `reorder.sources`.
    private var sourceIndex: Int32 = 0
    /// Scans a checkpoint's buffered lines again when a run resumes.
    private let scanner: JSONScanner

    public init(pipeline: CompiledPipeline, options: RunOptions, output: OutputSink, observer: (any RunObserver)?,
                state: RunState? = nil) {
        self.pipeline = pipeline
        self.options = options
        self.output = output
        self.observer = observer
        self.state = state
        self.profile = state?.profile.map { Unmanaged.passUnretained($0) }
        self.store = state.map { Unmanaged.passUnretained($0.store) }
        self.keepsCheckpoints = state?.directory != nil
        state?.profile?.load(only: pipeline.programs.reduce(into: Set<Int>()) { $0.formUnion($1.profileFieldsRead) })
        self.eventsBefore = state?.checkpoint.events ?? 0
        self.recordsBefore = state?.checkpoint.records ?? 0
        let scanner = JSONScanner(paths: pipeline.fields, limits: JSONLimits(maxDepth: options.maxDepth))
        let mapping = EventMapping(pipeline)
        self.mapping = mapping
        self.scanner = scanner
        self.lateness = pipeline.lateness
        self.reorder = ReorderBuffer(fieldCount: pipeline.fields.count)
        func batch() -> LineBatch {
            LineBatch(arenaBytes: options.batchBytes, maxLineLength: options.maxLineLength,
                      lineCapacity: options.batchLines, fieldCount: pipeline.fields.count)
        }
        let depth = max(1, options.batchesAhead)
        self.batches = (0...depth).map { _ in batch() }
        self.records = RecordWriter(output: output, emit: options.emit, explain: options.explain)
        self.journeys = JourneyEngine(pipeline: pipeline, store: state?.store, profile: state?.profile,
                                      records: records, scratch: evalScratch, formerNames: state?.formerNames ?? [])
        // The scan numbers each event's type for the gates of this run's engines.
        let types = EventTypes(typeField: pipeline.typeField,
                               gates: [state?.profile?.gate, journeys.entryGate, journeys.filter].compactMap { $0 })
        self.types = types
        state?.profile?.number(by: types)
        journeys.number(by: types)
        self.crew = ScanCrew(scanner: scanner, mapping: mapping, types: types, maxLineLength: options.maxLineLength,
                             helper: options.parallelScan, depth: depth)
        self.scratch = .allocate(byteCount: max(64, options.maxLineLength) * 7, alignment: 16)
        self.timeText = .allocate(byteCount: 64, alignment: 16)
    }

    deinit {
        crew.stop()
        scratch.deallocate()
        timeText.deallocate()
    }

    /// Processes `inputs` in order (nil or "-" is standard input) and flushes the output.
    public func run(inputs: [String?]) -> RunEnd {
        let started = Self.monotonicNanos()
        var lastProgress = started
        var finishedBytes: Int64 = 0
        let totalBytes = Self.totalSize(of: inputs)
        func report(_ source: any ByteSource, _ index: Int, at now: Int64) {
            observer?.progress(RunProgress(
                stats: stats, source: source.name, inputIndex: index, inputCount: inputs.count,
                sourceConsumed: source.bytesConsumed, sourceTotal: source.totalBytes,
                totalBytes: totalBytes, finishedBytes: finishedBytes, elapsed: now - started))
        }
        lastCheckpoint = (0, started)
        journeys.rebuildTimers()
        if let end = restoreBuffered() { return finish(end) }
        for (index, path) in inputs.enumerated() {
            let name = path ?? "-"
            // A file the state has read before continues where it stopped.
            var resume = ResumePoint.start
            let identity = keepsCheckpoints ? InputIdentity.of(path: name) : nil
            if keepsCheckpoints, let state {
                let (point, changed) = InputIdentity.resumePoint(
                    path: name, now: identity, entry: state.checkpoint.inputs.first { $0.path == name })
                resume = point
                if changed {
                    observer?.note("\(name) is not the file the state read under this name (its size or first bytes differ): reading it from the start")
                }
                if case .done = point {
                    observer?.note("\(name) was read to its end by an earlier run on this state: skipped")
                    continue
                }
            }
            let source: any ByteSource
            do {
                source = try InputOpener.open(path, readSize: options.chunkSize)
            } catch {
                return finish(.inputFailed(error))
            }
            defer { source.close() }
            sourceIndex = reorder.source(named: source.name)
            let framer = LineFramer(source: source, chunkSize: options.chunkSize, maxLineLength: options.maxLineLength)
            position = (0, 0)
            if case .from(let offset, let line) = resume {
                do {
                    guard try framer.skip(to: offset, lines: line) else {
                        return finish(.inputFailed(InputError(kind: .read, source: source.name, offset: offset,
                            message: "ends before offset \(offset), where the state's checkpoint stopped reading it")))
                    }
                } catch {
                    return finish(.inputFailed(error))
                }
                position = (offset, line)
                inputBase -= offset
            }
            /// This input's entry in a checkpoint.
            func entry(done: Bool) -> Checkpoint.Input {
                Checkpoint.Input(path: name, size: identity?.size ?? 0, head: identity?.head ?? 0,
                                 headBytes: identity?.headBytes ?? 0,
                                 offset: done ? framer.bytesRead : position.offset,
                                 line: done ? framer.linesSeen : position.line, done: done)
            }
            // A regular file (also under zstd) never makes a read wait on a producer, so the
            // crew frames the next batches while this one is processed. From a pipe, the lines
            // that have arrived are processed first: output never waits for input that may be
            // slow. Whatever way this input ends, no job still reads from it (defers run last
            // first: the crew is drained before the source closes).
            defer { crew.drain() }
            let readAhead = source.totalBytes != nil
            var next = 0
            /// The batch after the one last handed to the crew, in turn.
            func nextBatch() -> LineBatch {
                defer { next = next == batches.count - 1 ? 0 : next + 1 }
                return batches[next]
            }
            if readAhead {
                for _ in 0..<crew.depth { crew.start(nextBatch(), framing: framer) }
            } else {
                let first = nextBatch()
                first.fill(from: framer)
                crew.start(first)
            }
            batches: while true {
                let current = crew.finish()!
                // While the input goes on, another batch is framed ahead; one framed after
                // the end is empty and ends too.
                let readingAhead = readAhead && current.goesOn
                if readingAhead { crew.start(nextBatch(), framing: framer) }
                if let end = process(current, source: source) {
                    switch end {
                    case .stoppedAtBadLine, .stoppedAtLateEvent:
                        if let failure = checkpoint([entry(done: false)]) { return finish(failure) }
                    default:
                        break
                    }
                    return end
                }
                switch current.ending {
                case .end:
                    break batches
                case .failed(let error):
                    if let failure = checkpoint([entry(done: false)]) { return finish(failure) }
                    return finish(.inputFailed(error))
                case .more where !readingAhead:
                    // The next read may wait on the producer: what is written so far
                    // reaches the reader first, so a live stream's records are not held.
                    do {
                        try output.flush()
                    } catch {
                        return finish(Self.ended(by: error))
                    }
                    if options.wallClock && !framer.hasBufferedLine, let end = idle(source) { return finish(end) }
                    let spare = nextBatch()
                    spare.fill(from: framer)
                    crew.start(spare)
                case .more:
                    break
                }
                if keepsCheckpoints, checkpointDue() {
                    if let failure = checkpoint([entry(done: false)]) {
                        return failure
                    }
                }
                if let interval = options.progressInterval {
                    let now = Self.monotonicNanos()
                    if now - lastProgress >= interval {
                        lastProgress = now
                        report(source, index, at: now)
                    }
                }
            }
            crew.drain()
            stats.bytes = inputBase + framer.bytesRead
            inputBase = stats.bytes
            if options.progressInterval != nil { report(source, index, at: Self.monotonicNanos()) }
            finishedBytes += source.totalBytes ?? source.bytesConsumed
            if keepsCheckpoints { finishedInputs.append(entry(done: true)) }
        }
        // All inputs are read: the buffered events are applied, and the clock stands at the
        // latest time seen, or at --until; the timers due by then fire.
        do {
            try release(upTo: .max)
            if let until = options.until, until > seen { see(until) }
            if seen != .min { try fire(upTo: seen) }
        } catch {
            return finish(error.end)
        }
        if let failure = checkpoint([]) { return finish(failure) }
        return finish(.finished)
    }

    /// `--clock wall`: waits for input, and whenever the wall clock passes the time at which a
    /// timer (or a buffered event) would be due, moves the clock to the wall clock and fires
    /// it. Returns how the run ends if it must.
    private func idle(_ source: any ByteSource) -> RunEnd? {
        while true {
            let pending = min(journeys.timers.nextTime, reorder.isEmpty ? .max : reorder.minTime)
            let dueAt = pending.addingReportingOverflow(lateness).overflow ? .max : pending + lateness
            let now = Self.wallNanos()
            if dueAt <= now {
                if now > seen { see(now) }
                do {
                    try release(upTo: watermark)
                    try fire(upTo: watermark)
                } catch {
                    return error.end
                }
                do {
                    try output.flush()
                } catch {
                    return Self.ended(by: error)
                }
                continue
            }
            let wait = dueAt == .max ? 60_000 : Int32(min((dueAt - now) / 1_000_000 + 1, 60_000))
            if source.waitReadable(milliseconds: wait) { return nil }
        }
    }

    static func wallNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Puts the events a checkpoint holds back into the reorder buffer, scanned again, with
    /// their arrival numbers; restores the greatest time seen.
    private func restoreBuffered() -> RunEnd? {
        guard let checkpoint = state?.checkpoint else { return nil }
        if let time = checkpoint.seen { see(time) }
        reorder.nextSeq = checkpoint.nextSeq
        guard !checkpoint.buffered.isEmpty else { return nil }
        let values = UnsafeMutablePointer<ScannedValue>.allocate(capacity: max(1, pipeline.fields.count))
        values.initialize(repeating: .absent, count: max(1, pipeline.fields.count))
        defer { values.deallocate() }
        for event in checkpoint.buffered {
            let end: RunEnd? = event.text.withUnsafeBytes { line in
                let outcome = scanner.scan(line, into: values)
                switch mapping.map(line, outcome: outcome, values: UnsafePointer(values), scratch: scratch) {
                case .event(let time):
                    reorder.insert(line: line, values: UnsafePointer(values), time: time,
                                   source: reorder.source(named: event.source), number: event.line,
                                   offset: event.offset, seq: event.seq)
                    return nil
                case .bad(let problem):
                    // Only if the pipeline's event mapping changed since the checkpoint.
                    return reportBad(badLine(problem, source: event.source,
                                             line: Line(bytes: line, number: event.line, offset: event.offset)))
                }
            }
            if let end { return end }
        }
        // Every buffered event is later than the watermark (the fast path in `admit` relies
        // on it); a lateness made shorter since the checkpoint may have passed some.
        do {
            try release(upTo: watermark)
        } catch {
            return error.end
        }
        return nil
    }

    // MARK: - Checkpoints

    private func checkpointDue() -> Bool {
        if let every = options.checkpointEvents, stats.events - lastCheckpoint.events >= every { return true }
        if let interval = options.checkpointInterval, Self.monotonicNanos() - lastCheckpoint.time >= interval { return true }
        return false
    }

    /// Flushes the records written so far, then saves the state with the inputs finished in
    /// this run and `current`; returns how the run ends if that fails. Without a state, does
    /// nothing.
    ///
    /// Records reach the output before the checkpoint that covers their events, so a crash
    /// between the two repeats records (with the same ids) and never loses one.
    private func checkpoint(_ current: [Checkpoint.Input]) -> RunEnd? {
        guard keepsCheckpoints, let state else { return nil }
        do {
            try output.flush()
        } catch {
            return Self.ended(by: error)
        }
        do {
            try state.save(inputs: finishedInputs + current, events: eventsBefore + Int64(stats.events),
                           records: recordsBefore + Int64(stats.records),
                           seen: seen == .min ? nil : seen, nextSeq: reorder.nextSeq, buffered: reorder.snapshot())
        } catch {
            return .stateFailed(error)
        }
        finishedInputs.removeAll()
        lastCheckpoint = (stats.events, Self.monotonicNanos())
        stats.checkpoints += 1
        return nil
    }

    /// Maps and runs the journeys over the scanned lines of `batch`, in order; returns how
    /// the run ends if it must end here (output closed or failed, --on-error fail).
    private func process(_ batch: LineBatch, source: any ByteSource) -> RunEnd? {
        var i = 0
        while i < batch.count {
            // The customers of the events ahead are known (the crew hashed them): their index
            // entries, then their slots, then their journey state reach the cache before
            // their turn; so do those of the timers due next.
            store?._withUnsafeGuaranteedRef { store in
                if i &+ Self.indexAhead < batch.count { store.prefetchIndex(hash: batch.hashes[i &+ Self.indexAhead]) }
                if i &+ Self.slotAhead < batch.count { store.prefetchSlot(hash: batch.hashes[i &+ Self.slotAhead]) }
                if i &+ Self.blockAhead < batch.count {
                    store.prefetchBlock(hash: batch.hashes[i &+ Self.blockAhead], handleOffset: ProfileLayout.journeysOffset)
                }
            }
            journeys.prefetchTimers()
            let entry = batch.entries[i]
            stats.lines += 1
            stats.bytes = inputBase + entry.offset + Int64(entry.count)
            if entry.start < 0 {
                let bad = BadLine(
                    source: source.name, line: entry.number, offset: entry.offset,
                    reason: "line is \(entry.count) bytes long, over the limit of \(options.maxLineLength) (see --max-line-length)",
                    raw: [], rawTruncated: true)
                if let end = reportBad(bad) { return end }
            } else {
                let line = batch.line(i)
                let admission: Admission
                do {
                    admission = try admit(line, mapped: batch.mapped[i], hash: batch.hashes[i], type: batch.types[i],
                                          key: batch.key(i), values: batch.values(i), number: entry.number,
                                          offset: entry.offset)
                } catch {
                    return finish(error.end)
                }
                switch admission {
                case .taken:
                    break
                case .bad(let problem):
                    let bad = badLine(problem, source: source.name,
                                      line: Line(bytes: line, number: entry.number, offset: entry.offset))
                    if let end = reportBad(bad) { return end }
                case .late(let time):
                    let late = lateEvent(time, source: source.name,
                                         line: Line(bytes: line, number: entry.number, offset: entry.offset))
                    if let end = reportLate(late) { return end }
                }
            }
            position = (entry.offset + Int64(entry.count), entry.number - 1)
            if let killAt = options.killAfterEvents, stats.events >= killAt {
                // Crash tests: die as kill -9 would, with no cleanup and no flush.
                raise(SIGKILL)
            }
            i += 1
        }
        return nil
    }

    /// How many events ahead `process` asks for a customer's index entries, its slot, and its
    /// journey state.
    static let indexAhead = 8
    static let slotAhead = 4
    static let blockAhead = 2

    /// Flushes what is buffered; a failure to flush overrides any end but an earlier output
    /// failure.
    private func finish(_ end: RunEnd) -> RunEnd {
        stats.refusedEntries = journeys.refusedEntries
        if case .outputFailed = end { return end }
        do {
            try output.flush()
        } catch {
            return Self.ended(by: error)
        }
        return end
    }

    /// How a run ends when writing records fails: quietly when the reader went away.
    static func ended(by error: OutputError) -> RunEnd {
        error == .brokenPipe ? .brokenPipe : .outputFailed(describe(error))
    }

    private func reportLate(_ late: BadLine) -> RunEnd? {
        stats.lateEvents += 1
        if stats.firstLate == nil { stats.firstLate = (late.source, late.line) }
        observer?.lateEvent(late)
        if options.onError == .fail { return finish(.stoppedAtLateEvent(late)) }
        return nil
    }

    private func reportBad(_ bad: BadLine) -> RunEnd? {
        stats.badLines += 1
        if stats.firstBad == nil { stats.firstBad = (bad.source, bad.line) }
        observer?.badLine(bad)
        if options.onError == .fail { return finish(.stoppedAtBadLine(bad)) }
        return nil
    }

    // MARK: - The hot path

    /// What became of a scanned line.
    enum Admission {
        /// Applied, or buffered until the watermark passes it.
        case taken
        /// Not an event.
        case bad(EventMapping.Problem)
        /// An event whose time (ns) is behind the watermark: not applied.
        case late(Int64)
    }

    /// Raises the greatest time seen, and with it the watermark.
    @inline(__always)
    private func see(_ time: Int64) {
        if time > seen {
            seen = time
            // Saturating: a lateness of up to 100 years behind a time near 1677 stays in range.
            watermark = time < Int64.min + lateness ? .min : time - lateness
        }
    }

    /// Puts one scanned and mapped line in time order: an event behind the watermark
    /// is late; one at or behind it after it moves (in time order, lateness 0 or an event
    /// that waited for nothing) is applied at once without a copy; any other is buffered,
    /// and then every buffered event the watermark has passed is applied, earliest first.
    ///
    /// - Complexity: O(line) to apply at once; O(log buffered + line) to buffer; no
    ///   allocation once the reorder buffer has reached its high-water mark.
    @inline(__always)
    private func admit(
        _ line: UnsafeRawBufferPointer, mapped: EventMapping.Mapped, hash: UInt64, type: UInt8,
        key: UnsafeRawPointer, values: UnsafeMutablePointer<ScannedValue>, number: Int, offset: Int64
    ) throws(EventFailure) -> Admission {
        let ns: Int64
        switch mapped {
        case .event(let time): ns = time
        case .bad(let problem): return .bad(problem)
        }
        if ns < watermark { return .late(ns) }
        see(ns)
        if ns <= watermark {
            // Every buffered event is later than the watermark, so later than this one.
            try apply(line, values: UnsafePointer(values), ns: ns, hash: hash, type: type, keyCopy: key)
            return .taken
        }
        reorder.insert(line: line, values: UnsafePointer(values), time: ns, source: sourceIndex,
                       number: number, offset: offset)
        try release(upTo: watermark)
        try fire(upTo: watermark)
        return .taken
    }

    /// Applies the buffered events at or before `time`, earliest first (ties by arrival).
    private func release(upTo time: Int64) throws(EventFailure) {
        while !reorder.isEmpty && reorder.minTime <= time {
            let key = reorder.popMin()
            defer { reorder.recycle(key.slot) }
            try apply(reorder.line(key.slot), values: reorder.values(key.slot), ns: key.time, hash: nil,
                      type: EventTypes.unnumbered, keyCopy: nil)
        }
    }

    /// Fires the timers due by `time`, then runs the journeys over one event, writing their
    /// records. `hash` is the customer's hash if the crew computed it (a key without escapes);
    /// `type` the event's type as the crew numbered it; `keyCopy` the crew's copy of a short
    /// key (see `LineBatch.keys`).
    @inline(__always)
    private func apply(
        _ line: UnsafeRawBufferPointer, values: UnsafePointer<ScannedValue>, ns: Int64, hash known: UInt64?, type: UInt8,
        keyCopy: UnsafeRawPointer?
    ) throws(EventFailure) {
        try fire(upTo: ns)
        let customer = values[pipeline.customerField]
        stats.events += 1

        var activation = Activation(line: line, fields: values, eventTime: ns)
        activation.typeNumber = type
        if type != 0 && type != EventTypes.unnumbered {
            activation.typeField = Int32(pipeline.typeField)
            activation.typeText = types.text(type)
        }
        // The customer's key decoded (for the store) and as JSON string content (for records);
        // a short plain key from the crew's copy, so that the line is not read for it.
        let span = keyCopy != nil && LineBatch.copiesKey(customer)
            ? UnsafeRawBufferPointer(start: keyCopy, count: Int(customer.end &- customer.start))
            : UnsafeRawBufferPointer(rebasing: line[Int(customer.start)..<Int(customer.end)])
        var key = span
        var text = span
        if customer.hasEscapes {
            // Rare: decode the key, write it re-escaped in canonical form.
            let half = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(scratch.count / 7)])
            let decoded = JSONString.unescape(span, into: half) ?? 0
            key = UnsafeRawBufferPointer(rebasing: half[0..<decoded])
            let rest = UnsafeMutableRawBufferPointer(rebasing: scratch[(scratch.count / 7)...])
            let escaped = JSONString.escape(key, into: rest) ?? 0
            text = UnsafeRawBufferPointer(rebasing: rest[0..<escaped])
        }
        let hash = customer.hasEscapes ? XXH64.hash(key, seed: 0) : known ?? XXH64.hash(key, seed: 0)
        var payload: UnsafeMutableRawPointer?
        if let profile {
            let applied = eventsBefore &+ Int64(stats.events)
            let scratch = evalScratch
            let outcome: Result<UnsafeMutableRawPointer, StateError> = profile._withUnsafeGuaranteedRef { profile in
                let found: UnsafeMutableRawPointer
                do throws(StateError) {
                    found = try profile.apply(key: key, hash: hash, activation: activation, scratch: scratch)
                } catch {
                    return .failure(error)
                }
                profile.load(found)
                activation.variableText = profile.text.bytes
                activation.profileValues = UnsafePointer(profile.values.baseAddress)
                if applied & 63 == 0 { profile.sweep(64) }
                return .success(found)
            }
            switch outcome {
            case .success(let found): payload = found
            case .failure(let error): throw .state(error)
            }
        }
        try journeys.event(JourneyEngine.Customer(key: key, hash: hash, text: text, payload: payload),
                           activation: activation)
        stats.records = records.written
    }

    /// Fires the journeys' timers due at or before `time`.
    @inline(__always)
    private func fire(upTo time: Int64) throws(EventFailure) {
        guard journeys.timers.nextTime <= time else { return }
        try journeys.fire(upTo: time)
        stats.records = records.written
    }

    // MARK: - Reporting

    /// A late event as a reported line: `late event: its time … is before the watermark …`.
    private func lateEvent(_ time: Int64, source: String, line: Line) -> BadLine {
        func format(_ ns: Int64) -> String {
            let n = EventTime.formatRFC3339(ns, into: timeText)
            return String(decoding: UnsafeRawBufferPointer(rebasing: timeText[0..<n]), as: UTF8.self)
        }
        let reason = "late event: its time \(format(time)) is before the watermark \(format(watermark))"
            + " (lateness \(PipelineDuration(seconds: lateness / 1_000_000_000)))"
        let raw = Array(line.bytes.prefix(options.rawLimit))
        return BadLine(source: source, line: line.number, offset: line.offset, reason: reason,
                       raw: raw, rawTruncated: line.bytes.count > options.rawLimit)
    }

    private func badLine(_ problem: EventMapping.Problem, source: String, line: Line) -> BadLine {
        let raw = Array(line.bytes.prefix(options.rawLimit))
        return BadLine(source: source, line: line.number, offset: line.offset, reason: mapping.describe(problem),
                       raw: raw, rawTruncated: line.bytes.count > options.rawLimit)
    }

    static func describe(_ error: OutputError) -> String {
        switch error {
        case .brokenPipe: return "broken pipe"
        case .writeFailed(let text): return text
        }
    }

    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sum of the sizes of the inputs if all are regular files; nil when any is a pipe.
    static func totalSize(of inputs: [String?]) -> Int64? {
        var total: Int64 = 0
        for path in inputs {
            guard let path, path != "-" else { return nil }
            var st = stat()
            guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
            total += Int64(st.st_size)
        }
        return total
    }
}

/// Why an event (or a timer) could not be handled: writing its records or keeping its state
/// failed.
enum EventFailure: Error {
    case output(OutputError)
    case state(StateError)

    var end: RunEnd {
        switch self {
        case .output(let error): return Runner.ended(by: error)
        case .state(let error): return .stateFailed(error)
        }
    }
}
