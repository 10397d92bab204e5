/// Lines framed from one input, copied into one arena, with room for their scan results.
///
/// The `ScanCrew` frames a batch (on the helper thread when the input is a file), scans and
/// maps its lines on both cores, then the main thread runs the journeys over them, in input
/// order:
///
///     arena:    | line 0 | line 1 | ... |            free (≥ maxLineLength)             |
///     entries:  | start, count, number, offset | ...       (start -1: an oversized line)
///     mapped:   | EventMapping.Mapped | ...               (written by the scan: time or problem)
///     hashes:   | XXH64 of the customer | ...             (written by the scan; 0 if escaped)
///     types:    | the event's type, numbered | ...       (written by the scan; `EventTypes`)
///     keys:     | the customer's key, 16 B | ...         (written by the scan, if short and plain)
///     values:   | fieldCount ScannedValues | ...          (written by the scan)
///
/// Copying the lines out of the framer's buffer lets the framer read the next batch while
/// this one is scanned and processed. Memory is fixed at init: `arenaBytes + maxLineLength`
/// for text plus `lineCapacity` entries, whatever the input.
///
/// SAFETY: `@unchecked Sendable` because the batch is handed between threads only through
/// `ScanCrew`, whose protocol gives the framing to one thread and then each entry's results
/// to exactly one thread at a time, and orders the hand-overs (a mutex to start,
/// acquire/release atomics to end).
final class LineBatch: @unchecked Sendable {
    struct Entry {
        /// Offset of the line in `arena`, or -1 for an oversized line (not buffered).
        var start: Int
        /// Bytes of the line (without terminator); for an oversized line, its full length.
        var count: Int
        /// 1-based physical line number in the input.
        var number: Int
        /// Offset of the line's first byte in the (decompressed) input.
        var offset: Int64
    }

    /// How framing stopped after the entries of this batch.
    enum Ending {
        /// The input goes on: frame another batch.
        case more
        /// The input is exhausted.
        case end
        /// Reading failed after these entries (they are all complete lines).
        case failed(InputError)
    }

    let arena: UnsafeMutableRawPointer
    let arenaCapacity: Int
    private(set) var arenaUsed = 0
    let entries: UnsafeMutablePointer<Entry>
    let lineCapacity: Int
    private(set) var count = 0
    /// Each line's event time or why it is not an event (`EventMapping.map`).
    let mapped: UnsafeMutablePointer<EventMapping.Mapped>
    /// Each event's customer hashed (`XXH64`, seed 0) when its key has no escapes; a key with
    /// escapes is hashed decoded, by the runner.
    let hashes: UnsafeMutablePointer<UInt64>
    /// Each event's type as `EventTypes` numbers it.
    let types: UnsafeMutablePointer<UInt8>
    /// Each event's customer key, when the scan copies it (`copiesKey`): the runner reads it
    /// here, in a column it walks in order, rather than in the line.
    let keys: UnsafeMutableRawPointer
    static let keyCopyLimit = 16
    let values: UnsafeMutablePointer<ScannedValue>
    let fieldCount: Int
    private let maxLineLength: Int
    private(set) var ending = Ending.more

    /// Whether the input goes on after this batch.
    var goesOn: Bool {
        if case .more = ending { return true }
        return false
    }

    /// - Parameters:
    ///   - arenaBytes: bytes of line text per batch, beyond room for one longest line.
    ///   - lineCapacity: most entries per batch.
    init(arenaBytes: Int, maxLineLength: Int, lineCapacity: Int, fieldCount: Int) {
        precondition(arenaBytes >= 1 && lineCapacity >= 1 && maxLineLength >= 0)
        self.maxLineLength = maxLineLength
        arenaCapacity = arenaBytes + maxLineLength
        arena = .allocate(byteCount: arenaCapacity, alignment: 64)
        self.lineCapacity = lineCapacity
        entries = .allocate(capacity: lineCapacity)
        mapped = .allocate(capacity: lineCapacity)
        mapped.initialize(repeating: .event(0), count: lineCapacity)
        hashes = .allocate(capacity: lineCapacity)
        hashes.initialize(repeating: 0, count: lineCapacity)
        types = .allocate(capacity: lineCapacity)
        types.initialize(repeating: EventTypes.unnumbered, count: lineCapacity)
        keys = .allocate(byteCount: lineCapacity * Self.keyCopyLimit, alignment: 16)
        keys.initializeMemory(as: UInt8.self, repeating: 0, count: lineCapacity * Self.keyCopyLimit)
        self.fieldCount = max(1, fieldCount)
        values = .allocate(capacity: lineCapacity * self.fieldCount)
        values.initialize(repeating: .absent, count: lineCapacity * self.fieldCount)
    }

    deinit {
        arena.deallocate()
        entries.deallocate()
        mapped.deallocate()
        hashes.deallocate()
        types.deallocate()
        keys.deallocate()
        values.deallocate()
    }

    /// Empties the batch and frames into it: the first frame may wait for input, the rest
    /// are only those the framer has buffered, so a slow pipe never holds back lines that
    /// have already arrived. Stops when the arena or the entry table is full.
    ///
    /// - Complexity: O(bytes framed); no allocation.
    func fill(from framer: LineFramer) {
        arenaUsed = 0
        count = 0
        ending = .more
        var mayRead = true
        while count < lineCapacity && arenaUsed + maxLineLength <= arenaCapacity {
            let frame: Frame?
            do {
                frame = mayRead ? try framer.next() : try framer.nextIfBuffered()
            } catch {
                ending = .failed(error)
                return
            }
            guard let frame else { return }
            mayRead = false
            switch frame {
            case .end:
                ending = .end
                return
            case .line(let line):
                let n = line.bytes.count
                // SAFETY: n <= maxLineLength and the loop condition leaves that much room.
                if n > 0 { (arena + arenaUsed).copyMemory(from: line.bytes.baseAddress!, byteCount: n) }
                entries[count] = Entry(start: arenaUsed, count: n, number: line.number, offset: line.offset)
                arenaUsed += n
            case .oversized(let number, let offset, let length):
                entries[count] = Entry(start: -1, count: Int(length), number: number, offset: offset)
            }
            count += 1
        }
    }

    /// The text of entry `i`; empty for an oversized line.
    @inline(__always)
    func line(_ i: Int) -> UnsafeRawBufferPointer {
        let entry = entries[i]
        guard entry.start >= 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: arena + entry.start, count: entry.count)
    }

    /// Whether the scan copies this customer key into `keys`: a key without escapes of at
    /// most `keyCopyLimit` bytes.
    @inline(__always)
    static func copiesKey(_ customer: ScannedValue) -> Bool {
        !customer.hasEscapes && Int(customer.end &- customer.start) <= keyCopyLimit
    }

    /// The copy of entry `i`'s customer key (valid when `copiesKey` holds for it).
    @inline(__always)
    func key(_ i: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(keys + i &* Self.keyCopyLimit)
    }

    /// The scanned values of entry `i`.
    @inline(__always)
    func values(_ i: Int) -> UnsafeMutablePointer<ScannedValue> {
        values + i * fieldCount
    }
}
