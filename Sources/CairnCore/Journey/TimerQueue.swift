/// Pending wake-ups: which customer (by slot) has an instance to move on at which time.
///
/// A binary min-heap ordered by (time, slot), so that timers due at the same time fire in slot
/// order whatever order they were scheduled in. It is not saved: a run rebuilds it from the
/// instances in the state (`JourneyEngine.rebuildTimers`). An entry may be stale (the instance
/// moved on or ended, or the slot now holds another customer): waking a customer only moves
/// instances whose own wake time has come, so a stale entry does nothing.
///
/// The heap is two columns, times and slots, so an entry takes 12 bytes (a struct of both
/// would be padded to 16); they grow by doubling and never shrink.
///
/// - Complexity: push and pop O(log n); 12 bytes per entry; no allocation once grown.
final class TimerQueue {
    struct Entry {
        var time: Int64
        var slot: UInt32
    }

    private var times: UnsafeMutablePointer<Int64>
    private var slots: UnsafeMutablePointer<UInt32>
    private(set) var count = 0
    private(set) var capacity = 0

    init() {
        times = .allocate(capacity: 0)
        slots = .allocate(capacity: 0)
    }

    deinit {
        times.deallocate()
        slots.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    /// The earliest time (Int64.max when empty).
    var nextTime: Int64 { count == 0 ? .max : times[0] }

    /// The slot of the entry at heap position `i` (0 is the earliest; 1 and 2 hold the next
    /// earliest), or nil past the end.
    @inline(__always)
    func slot(at i: Int) -> Int? {
        i < count ? Int(slots[i]) : nil
    }

    /// Whether the entry at `i` comes before (`time`, `slot`).
    @inline(__always)
    private func precedes(_ i: Int, _ time: Int64, _ slot: UInt32) -> Bool {
        times[i] < time || (times[i] == time && slots[i] < slot)
    }

    func push(time: Int64, slot: Int) {
        if count == capacity { grow() }
        let s = UInt32(slot)
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if !(time < times[parent] || (time == times[parent] && s < slots[parent])) { break }
            times[i] = times[parent]
            slots[i] = slots[parent]
            i = parent
        }
        times[i] = time
        slots[i] = s
    }

    /// Removes and returns the earliest entry.
    ///
    /// - Precondition: the queue is not empty.
    func pop() -> Entry {
        precondition(count > 0, "TimerQueue.pop on an empty queue")
        let top = Entry(time: times[0], slot: slots[0])
        count -= 1
        let n = count
        if n > 0 {
            let time = times[n]
            let slot = slots[n]
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && precedes(l + 1, times[l], slots[l]) { c = l + 1 }
                if !precedes(c, time, slot) { break }
                times[i] = times[c]
                slots[i] = slots[c]
                i = c
            }
            times[i] = time
            slots[i] = slot
        }
        return top
    }

    func removeAll() { count = 0 }

    private func grow() {
        let newCapacity = max(16, capacity * 2)
        let newTimes = UnsafeMutablePointer<Int64>.allocate(capacity: newCapacity)
        let newSlots = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        newTimes.moveInitialize(from: times, count: count)
        newSlots.moveInitialize(from: slots, count: count)
        times.deallocate()
        slots.deallocate()
        times = newTimes
        slots = newSlots
        capacity = newCapacity
    }
}
