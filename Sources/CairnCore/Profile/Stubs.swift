// TEMPORARY: stand-ins for the lang and store branches, deleted when they merge.
public enum StateError: Error, Equatable, Sendable {
    case busy(directory: String, pid: Int32?)
    case layoutChanged(directory: String, stored: [UInt8], current: [UInt8])
    case corrupt(file: String, detail: String)
    case io(file: String, operation: String, errno: Int32)
    case tooLarge(String)
}

public struct StoreLayout: Sendable, Equatable {
    public var payloadSize: Int
    public var fingerprint: UInt64
    public var description: [UInt8]
    public init(payloadSize: Int, fingerprint: UInt64, description: [UInt8]) {
        self.payloadSize = payloadSize; self.fingerprint = fingerprint; self.description = description
    }
}

public final class StateStore {
    public enum Access { case write, read }
    public let layout: StoreLayout
    public private(set) var meta: [UInt8] = []
    private var keys: [[UInt8]?] = []
    private var payloads: [UnsafeMutableRawPointer?] = []
    private var index: [[UInt8]: Int] = [:]
    private var blobs: [UInt64: UnsafeMutableRawPointer] = [:]
    private var nextHandle: UInt64 = 1
    init(layout: StoreLayout) { self.layout = layout }
    public static func open(directory: String?, layout: StoreLayout?, access: Access) throws(StateError) -> StateStore {
        StateStore(layout: layout!)
    }
    public func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UnsafeMutableRawPointer? {
        index[Array(key)].flatMap { payloads[$0] }
    }
    public func insert(_ key: UnsafeRawBufferPointer, hash: UInt64) throws(StateError) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(8, layout.payloadSize), alignment: 16)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(8, layout.payloadSize))
        index[Array(key)] = keys.count
        keys.append(Array(key)); payloads.append(p)
        return p
    }
    public func markDirty(_ payload: UnsafeMutableRawPointer) {}
    @discardableResult public func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard let i = index.removeValue(forKey: Array(key)) else { return false }
        removeSlot(at: i); return true
    }
    public var slotCount: Int { keys.count }
    public func slot(at i: Int) -> (key: UnsafeRawBufferPointer, payload: UnsafeMutableRawPointer)? {
        guard let k = keys[i], let p = payloads[i] else { return nil }
        return (UnsafeRawBufferPointer(start: keyPointer(i), count: k.count), p)
    }
    private var keyStore: [Int: UnsafeMutableRawPointer] = [:]
    private func keyPointer(_ i: Int) -> UnsafeRawPointer {
        if let p = keyStore[i] { return UnsafeRawPointer(p) }
        let k = keys[i]!
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, k.count), alignment: 1)
        k.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: k.count) }
        keyStore[i] = p
        return UnsafeRawPointer(p)
    }
    public func removeSlot(at i: Int) {
        if let k = keys[i] { index.removeValue(forKey: k) }
        keys[i] = nil; payloads[i] = nil
    }
    public var customerCount: Int { index.count }
    public func allocate(_ count: Int) throws(StateError) -> UInt64 {
        let h = nextHandle; nextHandle += 1
        blobs[h] = .allocate(byteCount: max(1, count), alignment: 8)
        return h
    }
    public func bytes(_ handle: UInt64) -> UnsafeMutableRawPointer { blobs[handle]! }
    public func markDirty(_ handle: UInt64, count: Int) {}
    public func free(_ handle: UInt64, count: Int) { blobs.removeValue(forKey: handle) }
    public func checkpoint(meta: [UInt8]) throws(StateError) { self.meta = meta }
}
/// A snapshot of the store's size and of its last checkpoint, for `--stats` and tests.
public struct StoreStats: Sendable, Equatable {
    /// One data region: its file name (also in memory-only mode, for comparison) and size.
    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int
    }

    /// Live customers.
    public var customers: Int
    /// Slot indices in use or free (the upper bound of `slot(at:)`).
    public var slots: Int
    /// Slots on the free list, reused before new ones.
    public var freeSlots: Int
    /// Bytes of one slot (16 B of key and bookkeeping + the payload).
    public var slotStride: Int
    /// Index segments (4 KiB, 512 entries each) and the directory's entry count.
    public var indexSegments: Int
    public var directoryEntries: Int
    /// Bytes of the arena in use or on free lists.
    public var arenaBytes: Int
    /// The data files (or regions), in a fixed order: slots, index, arena.
    public var files: [File]
    /// (data bytes + directory bytes) / customers; 0 without customers.
    public var bytesPerCustomer: Double
    /// Sequence number of the last completed checkpoint (0: the one written at creation).
    public var checkpointSequence: UInt64
    /// Wall time of the last checkpoint, in nanoseconds.
    public var lastCheckpointNanoseconds: UInt64
    /// Dirty page bytes the last checkpoint wrote (each page once to the journal and once to
    /// its data file; this counts it once).
    public var lastCheckpointDirtyBytes: Int
}

extension StateStore { public var stats: StoreStats { StoreStats(customers: 0, slots: 0, freeSlots: 0, slotStride: 0, indexSegments: 0, directoryEntries: 0, arenaBytes: 0, files: [], bytesPerCustomer: 0, checkpointSequence: 0, lastCheckpointNanoseconds: 0, lastCheckpointDirtyBytes: 0) } }
