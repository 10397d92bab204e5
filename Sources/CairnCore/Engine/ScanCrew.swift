#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Frames, scans and maps the lines of `LineBatch`es on two threads: a helper thread and the
/// caller.
///
/// Scanning (JSON validation and field extraction) is most of the work per event and each
/// line is independent, so it is the part worth spreading over the second core; mapping (the
/// event time parsed, the customer hashed, the type numbered) goes with it. Framing an input
/// that is a file never waits on a producer, so the helper frames the batches ahead too while
/// the caller runs the journeys over the current one. Everything that depends on order
/// (state, journeys, output) stays on the caller's thread.
///
/// Protocol: up to `depth` jobs are in flight, finished in the order they were started.
///
///     start(batch)            caller: publish a job; the helper wakes and claims its blocks
///     start(batch, framing:)  the same, but the helper first frames the batch from the framer
///     ...                     caller: free to do other work (process an earlier batch)
///     finish()                caller: for the oldest job, wait for the framing, claim the
///                             blocks left, then wait until every block is done
///
/// The helper takes the jobs in order; with several ahead it keeps working while the caller
/// processes, so a batch that is slow to scan and one that is slow to process even out.
/// Jobs live in `depth` slots (job n in slot n % depth). A slot's lines are claimed in blocks
/// of `blockSize` through one atomic word holding `generation << 32 | next block`, so a helper
/// still looping on an old job can never claim a block of the slot's next one, and whichever
/// thread is free takes the next block: the load balances itself. The number of blocks is
/// published by a releasing store of the slot's `framed` once the batch is framed; a block's
/// results by a releasing increment of `done`, which `finish` reads with acquiring loads
/// before the caller touches them. A framer belongs to the helper from `start(_:framing:)`
/// until the caller has finished that job and every job started before it.
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
        let scan: JSONScanner.Scratch
        var days = EventTime.DayCache()

        init(maxLineLength: Int, scanner: JSONScanner) {
            scratch = .allocate(byteCount: max(64, maxLineLength), alignment: 16)
            scan = JSONScanner.Scratch(scanner)
        }

        func deallocate() {
            scratch.deallocate()
            scan.deallocate()
        }
    }

    /// The hand-over words of one job slot.
    final class Slot: Sendable {
        let claim = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        /// The job's number of blocks once it is framed; -1 until then.
        let framed = Atomic<Int>(0)
    }

    /// Most jobs in flight.
    let depth: Int
    private let scanner: JSONScanner
    private let mapping: EventMapping
    private let types: EventTypes
    private let maxLineLength: Int
    private let slots: [Slot]

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`: per slot, the job's number, batch and framer; how many jobs were
    // started.
    private var jobNumber: [Int]
    private var jobBatch: [LineBatch?]
    private var jobFramer: [LineFramer?]
    private var published = 0
    private var stopping = false

    // Caller's thread only.
    private var thread: pthread_t?
    /// Jobs started and finished; those in between are in flight, in `pending`'s order.
    private var started = 0
    private var finished = 0
    private var pending: [LineBatch?]
    private var lane: Lane

    /// - Parameter depth: most jobs in flight (at least 1).
    init(scanner: JSONScanner, mapping: EventMapping, types: EventTypes, maxLineLength: Int, helper: Bool,
         depth: Int = 1) {
        self.scanner = scanner
        self.mapping = mapping
        self.types = types
        self.maxLineLength = maxLineLength
        self.depth = max(1, depth)
        slots = (0..<self.depth).map { _ in Slot() }
        jobNumber = Array(repeating: -1, count: self.depth)
        jobBatch = Array(repeating: nil, count: self.depth)
        jobFramer = Array(repeating: nil, count: self.depth)
        pending = Array(repeating: nil, count: self.depth)
        lane = Lane(maxLineLength: maxLineLength, scanner: scanner)
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

    /// Stops and joins the helper after the jobs in flight are finished. Idempotent; the
    /// owner must call it, as the helper thread keeps the crew alive until then.
    func stop() {
        drain()
        guard let handle = thread else { return }
        pthread_mutex_lock(mutex)
        stopping = true
        for s in 0..<depth {
            jobBatch[s] = nil
            jobFramer[s] = nil
        }
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(handle, nil)
        thread = nil
    }

    /// Jobs started and not yet finished.
    var inFlight: Int { started - finished }

    /// Hands `batch` to the crew; with `framer`, the batch is first emptied and framed from
    /// it (see `LineBatch.fill(from:)`). Neither may be touched until `finish()` has returned
    /// it. Framing jobs frame in the order they were started.
    ///
    /// Frame here only from inputs whose reads do not wait on a producer: the caller cannot
    /// flush its output while the helper waits for input.
    ///
    /// - Precondition: fewer than `depth` jobs in flight.
    func start(_ batch: LineBatch, framing framer: LineFramer? = nil) {
        precondition(inFlight < depth, "ScanCrew.start with \(depth) jobs in flight")
        let number = started
        let s = number % depth
        let slot = slots[s]
        started += 1
        pending[s] = batch
        slot.done.store(0, ordering: .relaxed)
        slot.claim.store(Self.generation(number) << 32, ordering: .releasing)
        guard thread != nil else {
            framer.map { batch.fill(from: $0) }
            slot.framed.store(Self.blocks(batch), ordering: .relaxed)
            return
        }
        if framer == nil {
            let blocks = Self.blocks(batch)
            slot.framed.store(blocks, ordering: .releasing)
            // One block is not worth waking the helper for.
            guard blocks > 1 else { return }
        } else {
            slot.framed.store(-1, ordering: .releasing)
        }
        pthread_mutex_lock(mutex)
        jobNumber[s] = number
        jobBatch[s] = batch
        jobFramer[s] = framer
        published = number + 1
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// For the oldest job in flight: scans what the helper has not claimed and waits for the
    /// rest; afterwards its batch and results are the caller's again, and so is its framer
    /// once no later job frames from it. Returns the batch, or nil without a job.
    @discardableResult
    func finish() -> LineBatch? {
        guard inFlight > 0 else { return nil }
        let number = finished
        let s = number % depth
        let slot = slots[s]
        let batch = pending[s]!
        pending[s] = nil
        finished += 1
        let generation = Self.generation(number)
        var spins = 0
        var blocks = slot.framed.load(ordering: .acquiring)
        while blocks < 0 {
            spins += 1
            if spins > 64 { sched_yield() }
            blocks = slot.framed.load(ordering: .acquiring)
        }
        while let block = Self.claimBlock(slot, generation: generation, blocks: blocks) {
            scan(batch, block: block, lane: &lane)
            slot.done.wrappingAdd(1, ordering: .releasing)
        }
        spins = 0
        while slot.done.load(ordering: .acquiring) < blocks {
            spins += 1
            if spins > 64 { sched_yield() }
        }
        return batch
    }

    /// Finishes every job in flight.
    func drain() {
        while finish() != nil {}
    }

    /// Job `number`'s tag in its slot's claim word: never 0, so a slot's first claim word
    /// (0) matches no job.
    private static func generation(_ number: Int) -> Int {
        (number & 0x7FFF_FFFF) + 1
    }

    private static func blocks(_ batch: LineBatch) -> Int {
        (batch.count + blockSize - 1) / blockSize
    }

    private static func claimBlock(_ slot: Slot, generation: Int, blocks: Int) -> Int? {
        var current = slot.claim.load(ordering: .relaxed)
        while true {
            let block = current & 0xFFFF_FFFF
            guard current >> 32 == generation, block < blocks else { return nil }
            let (exchanged, original) = slot.claim.compareExchange(
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
                let outcome = scanner.scan(line, into: values, scratch: lane.scan)
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

    /// Takes the jobs in the order they were started. A job whose slot already holds a later
    /// one was finished by the caller alone (only a job without framing can be), so it is
    /// passed over; a framing job is always framed here, and in order.
    private func helperLoop() {
        var next = 0
        var lane = Lane(maxLineLength: maxLineLength, scanner: scanner)
        defer { lane.deallocate() }
        while true {
            pthread_mutex_lock(mutex)
            while published == next && !stopping {
                pthread_cond_wait(wake, mutex)
            }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let number = next
            let s = number % depth
            next += 1
            guard jobNumber[s] == number, let batch = jobBatch[s] else {
                pthread_mutex_unlock(mutex)
                continue
            }
            let framer = jobFramer[s]
            pthread_mutex_unlock(mutex)
            let slot = slots[s]
            var blocks: Int
            if let framer {
                batch.fill(from: framer)
                blocks = Self.blocks(batch)
                slot.framed.store(blocks, ordering: .releasing)
            } else {
                blocks = slot.framed.load(ordering: .acquiring)
            }
            let generation = Self.generation(number)
            while let block = Self.claimBlock(slot, generation: generation, blocks: blocks) {
                scan(batch, block: block, lane: &lane)
                slot.done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }
}
