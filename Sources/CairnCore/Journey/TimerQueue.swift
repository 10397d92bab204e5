/// Pending wake-ups: which customer (by slot) has an instance to move on at which time.
///
/// A binary min-heap ordered by (time, slot), so that timers due at the same time fire in slot
/// order whatever order they were scheduled in. It is not saved: a run rebuilds it from the
/// instances in the state (`JourneyEngine.rebuildTimers`). An entry may be stale (the instance
/// moved on or ended, or the slot now holds another customer): waking a customer only moves
/// instances whose own wake time has come, so a stale entry does nothing.
///
/// - Complexity: push and pop O(log n); 16 bytes per entry; no allocation once grown.
final class TimerQueue {
    struct Entry {
        var time: Int64
        var slot: UInt32

        @inline(__always) static func < (a: Entry, b: Entry) -> Bool {
            a.time < b.time || (a.time == b.time && a.slot < b.slot)
        }
    }

    private(set) var heap: [Entry] = []

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// The earliest time (Int64.max when empty).
    var nextTime: Int64 { heap.first?.time ?? .max }

    func push(time: Int64, slot: Int) {
        let e = Entry(time: time, slot: UInt32(slot))
        var i = heap.count
        heap.append(e)
        while i > 0 {
            let parent = (i - 1) >> 1
            if !(e < heap[parent]) { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = e
    }

    func pop() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            var i = 0
            let n = heap.count
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && heap[l + 1] < heap[l] { c = l + 1 }
                if !(heap[c] < last) { break }
                heap[i] = heap[c]
                i = c
            }
            heap[i] = last
        }
        return top
    }

    func removeAll() { heap.removeAll(keepingCapacity: true) }
}
