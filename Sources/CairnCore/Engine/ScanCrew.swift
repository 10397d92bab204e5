#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Scans the lines of a `LineBatch` on two threads: a helper thread and the caller.
///
/// Scanning (JSON validation and field extraction) is most of the work per event and each
/// line is independent, so it is the part worth spreading over the second core. Everything
/// that depends on order (state, journeys, output) stays on the caller's thread.
///
/// Protocol, for one batch at a time:
///
///     start(batch)   caller: publish the job; the helper wakes and claims blocks of lines
///     ...            caller: free to do other work (process the previous batch)
///     finish()       caller: claim the blocks left, then wait until every block is done
///
/// Lines are claimed in blocks of `blockSize` through one atomic word holding
/// `generation << 32 | next block`, so a helper still looping on an old job can never claim
/// a block of a new one, and whichever thread is free takes the next block: the load
/// balances itself. A block's results are published by a releasing increment of `done`,
/// which `finish` reads with acquiring loads before the caller touches them.
///
/// With `helper: false` (or on one core) there is no thread and `finish` scans everything.
///
/// SAFETY: `@unchecked Sendable` because the job fields are guarded by `mutex`; the batch
/// memory is partitioned by the claim protocol above; atomics order the hand-overs.
final class ScanCrew: @unchecked Sendable {
    static let blockSize = 16

    private let scanner: JSONScanner
    private let claim = Atomic<Int>(0)
    private let done = Atomic<Int>(0)

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var job: LineBatch?
    private var jobGeneration = 0
    private var jobBlocks = 0
    private var stopping = false

    // Caller's thread only.
    private var thread: pthread_t?
    private var generation = 0
    private var pending: (batch: LineBatch, blocks: Int)?

    init(scanner: JSONScanner, helper: Bool) {
        self.scanner = scanner
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
    }

    /// Stops and joins the helper after any pending job is finished. Idempotent; the owner
    /// must call it, as the helper thread keeps the crew alive until then.
    func stop() {
        finish()
        guard let handle = thread else { return }
        pthread_mutex_lock(mutex)
        stopping = true
        job = nil
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
        pthread_join(handle, nil)
        thread = nil
    }

    /// Hands `batch` to the crew; its entries must not change until `finish()` returns.
    ///
    /// - Precondition: no job is pending (call `finish()` first).
    func start(_ batch: LineBatch) {
        precondition(pending == nil, "ScanCrew.start with a job pending")
        let blocks = (batch.count + Self.blockSize - 1) / Self.blockSize
        generation = (generation + 1) & 0x7FFF_FFFF
        pending = (batch, blocks)
        done.store(0, ordering: .relaxed)
        claim.store(generation << 32, ordering: .releasing)
        guard thread != nil, blocks > 1 else { return }
        pthread_mutex_lock(mutex)
        job = batch
        jobGeneration = generation
        jobBlocks = blocks
        pthread_cond_signal(wake)
        pthread_mutex_unlock(mutex)
    }

    /// Scans what the helper has not claimed and waits for the rest; afterwards every
    /// outcome and value of the pending batch is the caller's to read. No-op without a job.
    func finish() {
        guard let (batch, blocks) = pending else { return }
        pending = nil
        let generation = self.generation
        while let block = claimBlock(generation: generation, blocks: blocks) {
            scan(batch, block: block)
            done.wrappingAdd(1, ordering: .releasing)
        }
        var spins = 0
        while done.load(ordering: .acquiring) < blocks {
            spins += 1
            if spins > 64 { sched_yield() }
        }
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

    @inline(__always)
    private func scan(_ batch: LineBatch, block: Int) {
        var i = block * Self.blockSize
        let end = min(i + Self.blockSize, batch.count)
        while i < end {
            if batch.entries[i].start >= 0 {
                batch.outcomes[i] = scanner.scan(batch.line(i), into: batch.values(i))
            }
            i += 1
        }
    }

    private func helperLoop() {
        var seen = 0
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
            let blocks = jobBlocks
            pthread_mutex_unlock(mutex)
            while let block = claimBlock(generation: seen, blocks: blocks) {
                scan(batch, block: block)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }
}
