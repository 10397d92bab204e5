import Glibc

/// The hand-off between the zstd worker thread and the consumer: a ring of output buffers.
///
///     slots:  | 0 | 1 | 2 | 3 |        readIndex → oldest filled slot (consumer's)
///               ^       ^              writeIndex → slot the worker fills next
///           readIndex  writeIndex      filled     = slots ready for (or held by) the consumer
///
/// Invariants (under `mutex`): `0 <= filled <= slotCount`; the slots
/// `readIndex ..< readIndex + filled` (mod slotCount) belong to the consumer, the slot at
/// `writeIndex` belongs to the worker while it fills it (only when `filled < slotCount`).
/// So no byte of a slot is ever touched by both threads at once, and the buffers themselves
/// need no lock: only the indices and flags do.
///
/// Memory is constant: `slotCount * slotCapacity`, whatever the input size.
///
/// SAFETY: `@unchecked Sendable` because every mutable stored property is read and written
/// only with `mutex` held (the slot buffers are handed over by the index protocol above),
/// and the pthread objects live in stable heap memory allocated here and freed in deinit,
/// after both threads are done with the ring (the consumer joins the worker before release).
final class ZstdRing: @unchecked Sendable {
    let slotCount: Int
    let slotCapacity: Int
    /// Slot buffers; the array itself is immutable after init.
    let slots: [UnsafeMutableRawPointer]

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let notEmpty: UnsafeMutablePointer<pthread_cond_t>
    private let notFull: UnsafeMutablePointer<pthread_cond_t>

    // Guarded by `mutex`.
    private var lengths: [Int]
    private var consumedAt: [Int64]
    private var readIndex = 0
    private var writeIndex = 0
    private var filled = 0
    private var finished = false
    private var failure: InputError?
    private var finalConsumed: Int64 = 0
    private var cancelled = false

    init(slotCount: Int, slotCapacity: Int) {
        precondition(slotCount >= 2 && slotCapacity > 0)
        self.slotCount = slotCount
        self.slotCapacity = slotCapacity
        slots = (0..<slotCount).map { _ in
            UnsafeMutableRawPointer.allocate(byteCount: slotCapacity, alignment: 64)
        }
        lengths = Array(repeating: 0, count: slotCount)
        consumedAt = Array(repeating: 0, count: slotCount)
        mutex = .allocate(capacity: 1)
        notEmpty = .allocate(capacity: 1)
        notFull = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
        for slot in slots { slot.deallocate() }
    }

    // MARK: worker side

    /// Waits for a free slot and returns its index, or `nil` once the consumer has cancelled.
    func acquireEmptySlot() -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while filled == slotCount && !cancelled { pthread_cond_wait(notFull, mutex) }
        return cancelled ? nil : writeIndex
    }

    /// Hands the slot at `writeIndex` to the consumer if it holds any bytes.
    ///
    /// - Parameter compressedConsumed: compressed bytes consumed once these bytes were decoded.
    func publish(length: Int, compressedConsumed: Int64) {
        guard length > 0 else { return }
        pthread_mutex_lock(mutex)
        lengths[writeIndex] = length
        consumedAt[writeIndex] = compressedConsumed
        writeIndex = (writeIndex + 1) % slotCount
        filled += 1
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    /// Marks the end of the stream (`failure == nil`) or the error that ended it.
    func finish(failure: InputError?, compressedConsumed: Int64) {
        pthread_mutex_lock(mutex)
        finished = true
        self.failure = failure
        finalConsumed = compressedConsumed
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    // MARK: consumer side

    /// What the consumer finds when it asks for the next slot.
    enum Next {
        case slot(index: Int, length: Int, compressedConsumed: Int64)
        case end(compressedConsumed: Int64)
        case failed(InputError)
    }

    /// The oldest filled slot, waiting for the worker if `wait` is true; `nil` when none is
    /// ready and `wait` is false. The slot stays the consumer's until `release()`.
    func next(wait: Bool) -> Next? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while filled == 0 && !finished {
            if !wait { return nil }
            pthread_cond_wait(notEmpty, mutex)
        }
        if filled > 0 {
            return .slot(index: readIndex, length: lengths[readIndex],
                         compressedConsumed: consumedAt[readIndex])
        }
        if let failure { return .failed(failure) }
        return .end(compressedConsumed: finalConsumed)
    }

    /// Returns the slot at `readIndex` to the worker.
    func release() {
        pthread_mutex_lock(mutex)
        readIndex = (readIndex + 1) % slotCount
        filled -= 1
        pthread_cond_signal(notFull)
        pthread_mutex_unlock(mutex)
    }

    /// Tells the worker to stop at its next slot boundary.
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_signal(notFull)
        pthread_mutex_unlock(mutex)
    }

    /// Whether the consumer has cancelled; polled by the worker between reads.
    var isCancelled: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return cancelled
    }
}
