/// Events held back until the watermark passes them, so that they are applied in event-time
/// order within `events.lateness`.
///
/// Each buffered event owns a slot of a pool: a copy of its line, its scanned values (their
/// offsets are relative to the line, so they stay valid in the copy) and where it came from.
/// Keys (time, seq, slot) order the slots; `seq` is the event's arrival number, so equal times
/// keep input order. Events that arrive in time order, the common case, queue in a ring
/// (no ordering work); one that arrives before the ring's last goes to a binary min-heap; the
/// earlier of the ring's head and the heap's top comes out first.
///
///     ring:   | time, seq, slot | ...           ascending (time, seq), circular
///     heap:   | time, seq, slot | ...           min-heap on (time, seq)
///     slots:  | bytes, capacity, count, source, line, offset | ...
///     values: | fieldCount ScannedValues | ...  one row per slot
///     free:   | slot | ...                      slots not holding an event
///
/// Nothing shrinks: the pool, the heap and each slot's bytes grow to their high-water mark
/// and are reused, so a steady stream allocates nothing. Memory is bounded by what the
/// lateness window holds.
///
/// - Complexity: insert and pop are O(1) for events in time order, O(log n) for the others,
///   plus the line copy; no allocation once the pool has reached its high-water mark.
final class ReorderBuffer {
    struct Key {
        var time: Int64
        var seq: Int64
        var slot: Int32
    }

    struct Slot {
        var bytes: UnsafeMutableRawPointer?
        var capacity: Int
        var count: Int
        /// Index into `sources`.
        var source: Int32
        /// 1-based line number and byte offset of the line in its input.
        var number: Int
        var offset: Int64
    }

    let fieldCount: Int
    private var heap: UnsafeMutablePointer<Key>
    private var heapCount = 0
    /// `capacity` keys, a power of two; `ringCount` of them from `ringHead` (wrapping).
    private var ring: UnsafeMutablePointer<Key>
    private var ringHead = 0
    private var ringCount = 0
    /// Events buffered.
    var count: Int { heapCount + ringCount }
    private var slots: UnsafeMutablePointer<Slot>
    private var values: UnsafeMutablePointer<ScannedValue>
    private var free: UnsafeMutablePointer<Int32>
    private var freeCount = 0
    /// Slots made so far (the pool's high-water mark), and room for them.
    private var made = 0
    private var capacity = 0
    /// Input names, interned once per input, for the checkpoint.
    private(set) var sources: [String] = []
    /// The arrival number the next buffered event gets.
    var nextSeq: Int64 = 0

    init(fieldCount: Int) {
        self.fieldCount = max(1, fieldCount)
        heap = .allocate(capacity: 0)
        ring = .allocate(capacity: 0)
        slots = .allocate(capacity: 0)
        values = .allocate(capacity: 0)
        free = .allocate(capacity: 0)
    }

    deinit {
        for i in 0..<made { slots[i].bytes?.deallocate() }
        heap.deallocate()
        ring.deallocate()
        slots.deallocate()
        values.deallocate()
        free.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// The earliest buffered time; only when not empty.
    var minTime: Int64 { fromRing() ? ring[ringHead].time : heap[0].time }

    /// Whether the earliest event is the ring's head (else the heap's top).
    @inline(__always)
    private func fromRing() -> Bool {
        ringCount > 0 && (heapCount == 0 || less(ring[ringHead], heap[0]))
    }

    /// The index of `name` in `sources`, added if new.
    func source(named name: String) -> Int32 {
        if let i = sources.lastIndex(of: name) { return Int32(i) }
        sources.append(name)
        return Int32(sources.count - 1)
    }

    /// Copies an event in. `seq` is the next arrival number unless given (a checkpoint's
    /// events keep theirs).
    ///
    /// - Complexity: O(log n + line length); allocates only past the high-water mark.
    func insert(line: UnsafeRawBufferPointer, values row: UnsafePointer<ScannedValue>, time: Int64,
                source: Int32, number: Int, offset: Int64, seq given: Int64? = nil) {
        let seq: Int64
        if let given {
            seq = given
            nextSeq = max(nextSeq, given + 1)
        } else {
            seq = nextSeq
            nextSeq += 1
        }
        let slot = takeSlot()
        var s = slots[slot]
        if s.capacity < line.count {
            s.bytes?.deallocate()
            s.capacity = max(line.count, 2 * s.capacity, 256)
            s.bytes = .allocate(byteCount: s.capacity, alignment: 16)
        }
        if line.count > 0 { s.bytes!.copyMemory(from: line.baseAddress!, byteCount: line.count) }
        s.count = line.count
        s.source = source
        s.number = number
        s.offset = offset
        slots[slot] = s
        (values + slot * fieldCount).update(from: row, count: fieldCount)
        let key = Key(time: time, seq: seq, slot: Int32(slot))
        if ringCount == 0 || !less(key, ring[(ringHead + ringCount - 1) & (capacity - 1)]) {
            ring[(ringHead + ringCount) & (capacity - 1)] = key
            ringCount += 1
        } else {
            heap[heapCount] = key
            heapCount += 1
            siftUp(heapCount - 1)
        }
    }

    /// Removes the earliest event (by time, then arrival) and returns its slot, which stays
    /// valid until `recycle(_:)`.
    ///
    /// - Precondition: not empty.
    func popMin() -> Key {
        precondition(count > 0)
        if fromRing() {
            let head = ring[ringHead]
            ringHead = (ringHead + 1) & (capacity - 1)
            ringCount -= 1
            return head
        }
        let top = heap[0]
        heapCount -= 1
        if heapCount > 0 {
            heap[0] = heap[heapCount]
            siftDown(0)
        }
        return top
    }

    /// Returns a popped slot to the pool.
    func recycle(_ slot: Int32) {
        free[freeCount] = slot
        freeCount += 1
    }

    @inline(__always)
    func line(_ slot: Int32) -> UnsafeRawBufferPointer {
        let s = slots[Int(slot)]
        return UnsafeRawBufferPointer(start: s.bytes, count: s.count)
    }

    @inline(__always)
    func values(_ slot: Int32) -> UnsafePointer<ScannedValue> {
        UnsafePointer(values + Int(slot) * fieldCount)
    }

    func slot(_ slot: Int32) -> Slot { slots[Int(slot)] }

    /// Every buffered event, by arrival number, for a checkpoint.
    func snapshot() -> [Checkpoint.Buffered] {
        var items: [Checkpoint.Buffered] = []
        items.reserveCapacity(count)
        for i in 0..<count {
            let key = i < heapCount ? heap[i] : ring[(ringHead + i - heapCount) & (capacity - 1)]
            let s = slots[Int(key.slot)]
            items.append(Checkpoint.Buffered(
                source: sources[Int(s.source)], line: s.number, offset: s.offset, seq: key.seq,
                text: Array(UnsafeRawBufferPointer(start: s.bytes, count: s.count))))
        }
        return items.sorted { $0.seq < $1.seq }
    }

    // MARK: - Pool and heap

    private func takeSlot() -> Int {
        if freeCount > 0 {
            freeCount -= 1
            return Int(free[freeCount])
        }
        if made == capacity { grow() }
        slots[made] = Slot(bytes: nil, capacity: 0, count: 0, source: 0, number: 0, offset: 0)
        (values + made * fieldCount).initialize(repeating: .absent, count: fieldCount)
        made += 1
        return made - 1
    }

    /// Doubles the room for slots, their values, the heap and the free list.
    private func grow() {
        let next = max(16, capacity * 2)
        func moved<T>(_ old: UnsafeMutablePointer<T>, _ live: Int, _ room: Int) -> UnsafeMutablePointer<T> {
            let new = UnsafeMutablePointer<T>.allocate(capacity: room)
            new.moveInitialize(from: old, count: live)
            old.deallocate()
            return new
        }
        slots = moved(slots, made, next)
        values = moved(values, made * fieldCount, next * fieldCount)
        heap = moved(heap, heapCount, next)
        // The ring unwrapped into the new room, from index 0.
        let unwrapped = UnsafeMutablePointer<Key>.allocate(capacity: next)
        for i in 0..<ringCount { (unwrapped + i).initialize(to: ring[(ringHead + i) & max(0, capacity - 1)]) }
        ring.deallocate()
        ring = unwrapped
        ringHead = 0
        free = moved(free, freeCount, next)
        capacity = next
    }

    @inline(__always)
    private func less(_ a: Key, _ b: Key) -> Bool {
        a.time < b.time || (a.time == b.time && a.seq < b.seq)
    }

    private func siftUp(_ start: Int) {
        var i = start
        let item = heap[i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(item, heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = item
    }

    private func siftDown(_ start: Int) {
        var i = start
        let item = heap[i]
        while true {
            var child = 2 * i + 1
            guard child < heapCount else { break }
            if child + 1 < heapCount, less(heap[child + 1], heap[child]) { child += 1 }
            guard less(heap[child], item) else { break }
            heap[i] = heap[child]
            i = child
        }
        heap[i] = item
    }
}
