/// Open support tickets, ordered by the time they will be resolved.
///
/// A binary min-heap on `(due, number)`: ties resolve in the order the tickets were
/// opened, so the output never depends on heap internals beyond this total order.
struct TicketQueue {
    struct Ticket {
        var due: Int64
        var number: Int64
        var opened: Int64
        var customer: Int32
        var topic: UInt8
        var channel: UInt8
    }

    private var heap: [Ticket] = []

    var isEmpty: Bool { heap.isEmpty }

    /// The ticket due first, if any.
    var first: Ticket? { heap.first }

    /// - Complexity: O(log n).
    mutating func insert(_ ticket: Ticket) {
        heap.append(ticket)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the ticket due first.
    ///
    /// - Precondition: the queue is not empty.
    /// - Complexity: O(log n).
    mutating func removeFirst() -> Ticket {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                var child = left
                if left + 1 < heap.count, Self.before(heap[left + 1], heap[left]) { child = left + 1 }
                guard Self.before(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                parent = child
            }
        }
        return top
    }

    private static func before(_ a: Ticket, _ b: Ticket) -> Bool {
        a.due != b.due ? a.due < b.due : a.number < b.number
    }
}
