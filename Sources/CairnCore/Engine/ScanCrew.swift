#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Frames, scans and maps the lines of a `LineBatch` on two threads: a helper thread and the
/// caller.
///
/// Scanning (JSON validation and field extraction) is most of the work per event and each
/// line is independent, so it is the part worth spreading over the second core; mapping (the
/// event time parsed, the customer hashed, the type numbered) goes with it. Framing an input
/// that is a file never waits on a producer, so the helper frames the next batch too while
/// the caller runs the journeys over the current one. Everything that depends on order
/// (state, journeys, output) stays on the caller's thread.
///
/// Protocol, for one batch at a time:
///
///     start(batch)            caller: publish the job; the helper wakes and claims blocks
///     start(batch, framing:)  the same, but the helper first frames the batch from the framer
///     ...                     caller: free to do other work (process the previous batch)
///     finish()                caller: wait for the framing, claim the blocks left, then wait
///                             until every block is done
///
/// Lines are claimed in blocks of `blockSize` through one atomic word holding
/// `generation << 32 | next block`, so a helper still looping on an old job can never claim
/// a block of a new one, and whichever thread is free takes the next block: the load
/// balances itself. The number of blocks is published by a releasing store of `framed` once
/// the batch is framed; a block's results by a releasing increment of `done`, which `finish`
/// reads with acquiring loads before the caller touches them. The framer belongs to the
/// helper from `start(_:framing:)` until `finish()` returns.
///
/// With `helper: false` (or on one core) there is no thread: `start` frames and `finish`
/// scans everything.
///
/// SAFETY: `@unchecked Sendable` because the job fields are guarded by `mutex`; the batch
/// memory is partitioned by the claim protocol above; atomics order the hand-overs.
final class ScanCrew: @unchecked Sendable {
    static let blockSize = 16

    /// What one thread needs to scan and map lines: room to decode an escaped time, and the
    /// date of the last time it parsed.
    struct Lane {
        let scratch: UnsafeMutableRawBufferPointer
        var days = EventTime.DayCache()

        init(maxLineLength: Int) {
            scratch = .allocate(byteCount: max(64, maxLineLength), alignment: 16)
        }

        func deallocate() { scratch.deallocate() }
    }

    private let scanner: JSONScanner
    private let mapping: EventMapping
    private let types: EventTypes
    private let maxLineLength: Int
    private let claim = Atomic<Int>(0)
    private let done = Atomic<Int>(0)
    /// The pending job's number of blocks once it is framed; -1 until then.
    private let framed = Atomic<Int>(0)

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var job: LineBatch?
    private var jobFramer: LineFramer?
    private var jobGeneration = 0
    private var stopping = false

    // Caller's thread only.
    private var thread: pthread_t?
    private var generation = 0
    private var pending: LineBatch?
    private var lane: Lane

    init(scanner: JSONScanner, mapping: EventMapping, types: EventTypes, maxLineLength: Int, helper: Bool) {
        self.scanner = scanner
        self.mapping = mapping
        self.types = types
        self.maxLineLength = maxLineLength
        lane = Lane(maxLineLength: maxLineLength)
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        if helper && sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1 {
            let context = Unmanaged.passRetained(self).toOpaque()
            var handle = pthread_t()
            let rc = pthread_create(&handle, nil, { raw in
                let crew = Unmanaged<ScanCrew>.fromOpaque(raw!).takeRetainedValue()
                crew.helperLoop()
                return nil
            }, context)
            if rc == 0 {
                thread = handle
            } else {
                // No helper: the caller scans alone, which is slower but correct.
                Unmanaged<ScanCrew>.fromOpaque(context).release()
            }
        }
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
        lane.deallocate()
    }

    /// Stops and joins the helper after any pending job is finished. Idempotent; the owner
    /// must call it, as the helper thread keeps the crew alive until then.
    func stop() {
        finish()
        guard let handle = thread else { return }
        pthread_mutex_lock(mutex)
        stopping = true
        job = nil
        jobFramer = nil
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(handle, nil)
        thread = nil
    }

    /// Hands `batch` to the crew; with `framer`, the batch is first emptied and framed from
    /// it (see `LineBatch.fill(from:)`). Neither may be touched until `finish()` returns.
    ///
    /// Frame here only from inputs whose reads do not wait on a producer: the caller cannot
    /// flush its output while the helper waits for input.
    ///
    /// - Precondition: no job is pending (call `finish()` first).
    func start(_ batch: LineBatch, framing framer: LineFramer? = nil) {
        precondition(pending == nil, "ScanCrew.start with a job pending")
        generation = (generation + 1) & 0x7FFF_FFFF
        pending = batch
        done.store(0, ordering: .relaxed)
        claim.store(generation << 32, ordering: .releasing)
        guard thread != nil else {
            framer.map { batch.fill(from: $0) }
            framed.store(Self.blocks(batch), ordering: .relaxed)
            return
        }
        if framer == nil {
            let blocks = Self.blocks(batch)
            framed.store(blocks, ordering: .releasing)
            // One block is not worth waking the helper for.
            guard blocks > 1 else { return }
        } else {
            framed.store(-1, ordering: .releasing)
        }
        pthread_mutex_lock(mutex)
        job = batch
        jobFramer = framer
        jobGeneration = generation
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Scans what the helper has not claimed and waits for the rest; afterwards the pending
    /// batch, its results and the framer are the caller's again. No-op without a job.
    func finish() {
        guard let batch = pending else { return }
        pending = nil
        let generation = self.generation
        var spins = 0
        var blocks = framed.load(ordering: .acquiring)
        while blocks < 0 {
            spins += 1
            if spins > 64 { sched_yield() }
            blocks = framed.load(ordering: .acquiring)
        }
        while let block = claimBlock(generation: generation, blocks: blocks) {
            scan(batch, block: block, lane: &lane)
            done.wrappingAdd(1, ordering: .releasing)
        }
        spins = 0
        while done.load(ordering: .acquiring) < blocks {
            spins += 1
            if spins > 64 { sched_yield() }
        }
    }

    private static func blocks(_ batch: LineBatch) -> Int {
        (batch.count + blockSize - 1) / blockSize
    }

    private func claimBlock(generation: Int, blocks: Int) -> Int? {
        var current = claim.load(ordering: .relaxed)
        while true {
            let block = current & 0xFFFF_FFFF
            guard current >> 32 == generation, block < blocks else { return nil }
            let (exchanged, original) = claim.compareExchange(
                expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return block }
            current = original
        }
    }

    /// Scans and maps the lines of one block: each line's values, its event time or problem,
    /// its customer's hash (and a copy of a short key) and its type's number.
    @inline(__always)
    private func scan(_ batch: LineBatch, block: Int, lane: inout Lane) {
        var i = block * Self.blockSize
        let end = min(i + Self.blockSize, batch.count)
        while i < end {
            if batch.entries[i].start >= 0 {
                let line = batch.line(i)
                let values = batch.values(i)
                let outcome = scanner.scan(line, into: values)
                let mapped = mapping.map(line, outcome: outcome, values: UnsafePointer(values),
                                         scratch: lane.scratch, days: &lane.days)
                batch.mapped[i] = mapped
                if case .event = mapped {
                    let customer = values[mapping.customerField]
                    let key = UnsafeRawBufferPointer(rebasing: line[Int(customer.start)..<Int(customer.end)])
                    batch.hashes[i] = customer.hasEscapes ? 0 : XXH64.hash(key, seed: 0)
                    if LineBatch.copiesKey(customer) {
                        // SAFETY: the key's bytes fit the entry's 16 bytes.
                        UnsafeMutableRawPointer(mutating: batch.key(i)).copyMemory(from: key.baseAddress!, byteCount: key.count)
                    }
                    batch.types[i] = types.number(UnsafePointer(values), line: line)
                }
            }
            i += 1
        }
    }

    private func helperLoop() {
        var seen = 0
        var lane = Lane(maxLineLength: maxLineLength)
        defer { lane.deallocate() }
        while true {
            pthread_mutex_lock(mutex)
            while jobGeneration == seen && !stopping {
                pthread_cond_wait(wake, mutex)
            }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            seen = jobGeneration
            let batch = job!
            let framer = jobFramer
            pthread_mutex_unlock(mutex)
            var blocks: Int
            if let framer {
                batch.fill(from: framer)
                blocks = Self.blocks(batch)
                framed.store(blocks, ordering: .releasing)
            } else {
                blocks = framed.load(ordering: .acquiring)
            }
            while let block = claimBlock(generation: seen, blocks: blocks) {
                scan(batch, block: block, lane: &lane)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }
}
