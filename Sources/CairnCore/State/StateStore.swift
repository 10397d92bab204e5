import CCairnSIMD
import Glibc

/// Persistent per-customer state: for each customer, its key bytes and a fixed-size payload,
/// plus an arena of variable-length blobs referenced by handle.
///
/// Three regions, each a file in the state directory (or anonymous memory without one), each
/// mapped at a fixed address so that pointers into it never move (`UnsafeMappedRegion`):
///
///     slots.cairn   | slot 0 | slot 1 | ... |        slot = key 12 B | key length 2 B | 0 2 B | payload
///     index.cairn   | segment 0 | segment 1 | ... |  segment = 680 tags u16 | 680 (slot+1) u32, 4 KiB
///     arena.cairn   | 64 B unused | blob | blob | ... |
///
/// Lookup: the top `globalDepth` bits of the key's hash pick a directory entry, which names a
/// segment (extendible hashing); within it, linear probing from `tag × 680 >> 16` where `tag` is
/// the hash's low 16 bits. A full segment (595 entries) splits in two (the entries' hashes are
/// recomputed from their keys); nothing else moves. 6 bytes per entry. Keys of
/// up to 12 bytes live in the slot; longer ones in the arena (the slot holds the handle).
///
/// Changes stay in private memory until `checkpoint(meta:)`, which writes them atomically
/// through a redo journal (see `StateStore+Checkpoint.swift` and docs/state-format.md).
///
/// - Safety: payload pointers (from `find`, `insert`, `slot(at:)`) and arena pointers (from
///   `bytes`) stay valid for the store's lifetime: regions never move. They stop designating
///   that customer (or block) when it is removed (or freed): the slot or block is zeroed and
///   may be reused by the next insert (or allocate). Write through them only for `.write`
///   stores, and call `markDirty` after writing, or the change is not checkpointed.
/// - Precondition: one writer per directory (flock on `DIR/lock`).
/// - Complexity: find, insert, remove and markDirty are O(1) expected and do not allocate
///   (growth maps more file; a segment split touches two 4 KiB pages).
public final class StateStore {
    public enum Access: Sendable { case write, read }

    /// Longest key, in bytes.
    public static let maxKeyLength = 4096
    /// Largest arena block, in bytes.
    public static let maxAllocation = 1 << 30

    static let slotHeader = 16
    static let inlineKeyLimit = 12
    static let keyLengthOffset = 12
    /// Entries per segment: 680 × (2 B tag + 4 B slot) = 4080 of its 4096 bytes.
    static let segmentEntries = 680
    static let segmentBytes = 4096
    /// Byte offset of the slot column in a segment (after the tags).
    static let slotColumn = 680 * 2
    /// A segment splits when an insert finds it holding this many entries (7/8 full).
    static let splitThreshold = 595
    /// The directory never exceeds 2^22 entries.
    static let maxGlobalDepth = 22
    static let maxSegments = 1 << 22
    static let arenaStart = 64
    /// Free lists: 512 classes of 8...4096 bytes by 8, then 1023 of 2...1024 pages.
    static let freeClassCount = 1535

    static let slotsReservation = 256 << 30
    static let indexReservation = maxSegments * segmentBytes
    static let arenaReservation = 256 << 30

    public let layout: StoreLayout
    public internal(set) var meta: [UInt8] = []

    let directory: String?
    let access: Access
    let stride: Int
    let slots: UnsafeMappedRegion
    let index: UnsafeMappedRegion
    let arena: UnsafeMappedRegion
    var regions: [UnsafeMappedRegion] { [slots, index, arena] }
    var lockFD: Int32
    var dirFD: Int32

    // Slots.
    var slotHigh = 0
    /// Head of the free slot list, as slot index + 1 (0: empty). Each free slot holds the next
    /// (+1) in its first 4 bytes.
    var freeSlotHead = 0
    var freeSlots = 0
    var customers = 0

    // Index.
    var globalDepth = 0
    var segmentCount = 0
    let directoryTable: UnsafeMutablePointer<UInt32>
    let localDepths: UnsafeMutablePointer<UInt8>
    let fills: UnsafeMutablePointer<UInt16>
    /// A copy of the segment being split.
    let scratch: UnsafeMutableRawPointer

    // Arena.
    var arenaTop = StateStore.arenaStart
    let freeHeads: UnsafeMutablePointer<UInt64>

    // Checkpoints.
    var sequence: UInt64 = 0
    var lastCheckpointNanoseconds: UInt64 = 0
    var lastCheckpointDirtyBytes = 0
    /// File sizes as of the last fsync, so a checkpoint makes growth durable first.
    var syncedSizes = [0, 0, 0]
    /// Whether a checkpoint wrote pages into the data file that no fsync has covered yet.
    var unsyncedWrites = [false, false, false]
    var writeBuffer: UnsafeMutableRawPointer?
    /// Test hook: where a checkpoint stops as if the process were killed (DEBUG builds only).
    var crashPoint: CheckpointCrashPoint?

    init(directory: String?, layout: StoreLayout, access: Access, fds: [Int32], lockFD: Int32, dirFD: Int32) {
        self.directory = directory
        self.layout = layout
        self.access = access
        self.stride = Self.slotHeader + layout.payloadSize
        self.lockFD = lockFD
        self.dirFD = dirFD
        let names = Self.fileNames
        let reservations = [Self.slotsReservation, Self.indexReservation, Self.arenaReservation]
        var made: [UnsafeMappedRegion] = []
        for i in 0..<3 {
            let path = directory.map { "\($0)/\(names[i])" } ?? names[i]
            made.append(UnsafeMappedRegion(path: path, name: names[i], fd: fds[i], fileGrows: access == .write,
                                           reserved: reservations[i]))
        }
        slots = made[0]
        index = made[1]
        arena = made[2]
        directoryTable = StateFileIO.reserveZeroed(Self.maxSegments * 4).bindMemory(to: UInt32.self, capacity: Self.maxSegments)
        localDepths = StateFileIO.reserveZeroed(Self.maxSegments).bindMemory(to: UInt8.self, capacity: Self.maxSegments)
        fills = StateFileIO.reserveZeroed(Self.maxSegments * 2).bindMemory(to: UInt16.self, capacity: Self.maxSegments)
        scratch = .allocate(byteCount: Self.segmentBytes, alignment: 8)
        freeHeads = .allocate(capacity: Self.freeClassCount)
        freeHeads.initialize(repeating: 0, count: Self.freeClassCount)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(directoryTable), Self.maxSegments * 4)
        munmap(UnsafeMutableRawPointer(localDepths), Self.maxSegments)
        munmap(UnsafeMutableRawPointer(fills), Self.maxSegments * 2)
        scratch.deallocate()
        freeHeads.deallocate()
        writeBuffer?.deallocate()
        for region in regions where region.fd >= 0 { Glibc.close(region.fd) }
        if dirFD >= 0 { Glibc.close(dirFD) }
        // The pid goes with the writer: a later `.busy` caused by a reader names no stale pid.
        // Closing the lock file releases the flock.
        if lockFD >= 0 {
            if access == .write { _ = ftruncate(lockFD, 0) }
            Glibc.close(lockFD)
        }
    }

    static let fileNames = ["slots.cairn", "index.cairn", "arena.cairn"]

    /// An empty store: one index segment, no slots, an empty arena.
    func initializeEmpty() throws(StateError) {
        try index.grow(to: Self.segmentBytes)
        segmentCount = 1
        globalDepth = 0
        directoryTable[0] = 0
        localDepths[0] = 0
    }

    // MARK: - Customers

    public var slotCount: Int { slotHigh }
    public var customerCount: Int { customers }

    @inline(__always)
    func slotBase(_ slot: Int) -> UnsafeMutableRawPointer {
        // SAFETY: callers pass slot < slotHigh, and slotHigh × stride ≤ slots.size (mapped).
        slots.base + slot &* stride
    }

    /// The tag and slot columns of segment `s`.
    @inline(__always)
    func segment(_ s: Int) -> (tags: UnsafeMutablePointer<UInt16>, slots: UnsafeMutablePointer<UInt32>) {
        // SAFETY: segment s < segmentCount lies in the mapped index region, page-aligned; the
        // index region is only ever accessed as these two columns.
        let base = index.base + s &* Self.segmentBytes
        return (base.assumingMemoryBound(to: UInt16.self), (base + Self.slotColumn).assumingMemoryBound(to: UInt32.self))
    }

    /// Where probing for `tag` starts in a segment.
    @inline(__always)
    static func home(_ tag: UInt16) -> Int {
        // Parenthesized: shifts bind tighter than multiplication in Swift.
        Int((UInt32(tag) &* UInt32(segmentEntries)) &>> 16)
    }

    @inline(__always)
    static func next(_ position: Int) -> Int { position &+ 1 == segmentEntries ? 0 : position &+ 1 }

    /// XXH64 of the key in a live slot.
    @inline(__always)
    func keyHash(_ slot: Int) -> UInt64 {
        let length = keyLength(slot)
        return XXH64.hash(UnsafeRawBufferPointer(start: keyPointer(slot, length: length), count: length), seed: 0)
    }

    @inline(__always)
    func segmentIndex(_ hash: UInt64) -> Int {
        globalDepth == 0 ? Int(directoryTable[0]) : Int(directoryTable[Int(truncatingIfNeeded: hash &>> UInt64(64 - globalDepth))])
    }

    @inline(__always)
    func keyLength(_ slot: Int) -> Int {
        Int(slotBase(slot).load(fromByteOffset: Self.keyLengthOffset, as: UInt16.self))
    }

    /// The key bytes of a live slot (in the slot, or in the arena for long keys).
    @inline(__always)
    func keyPointer(_ slot: Int, length: Int) -> UnsafeMutableRawPointer {
        let base = slotBase(slot)
        if length <= Self.inlineKeyLimit { return base }
        // SAFETY: a live long-key slot holds the handle of an arena block of `length` bytes
        // (8-aligned at the slot start since stride is a multiple of 8).
        return arena.base + Int(base.load(as: UInt64.self))
    }

    /// Position of the entry for `key` in its segment, or nil.
    @inline(__always)
    func locate(_ key: UnsafeRawBufferPointer, hash: UInt64) -> (segment: Int, position: Int, slot: Int)? {
        let tag = UInt16(truncatingIfNeeded: hash)
        let s = segmentIndex(hash)
        let (tags, slotColumn) = segment(s)
        var position = Self.home(tag)
        let count = key.count
        while true {
            let entry = slotColumn[position]
            if entry == 0 { return nil }
            if tags[position] == tag {
                let slot = Int(entry) &- 1
                if keyLength(slot) == count,
                   bytesEqual(keyPointer(slot, length: count), key.baseAddress!, count: count) {
                    return (s, position, slot)
                }
            }
            position = Self.next(position)
        }
    }

    /// The slot index of a payload pointer from `find`, `insert` or `slot(at:)`.
    public func slotIndex(ofPayload payload: UnsafeRawPointer) -> Int {
        (UnsafeRawPointer(payload) - Self.slotHeader - UnsafeRawPointer(slots.base)) / stride
    }

    /// Looking up a batch of customers, stage one: asks the cache for the index entries where
    /// the lookup of `hash` starts. A hint: it changes nothing and never faults.
    ///
    /// A lookup's misses are dependent (index, then slot), so a runner that knows the hashes
    /// of the events ahead calls this some events ahead, `prefetchSlot` a few events later,
    /// and `find` finds both in the cache.
    @inline(__always)
    public func prefetchIndex(hash: UInt64) {
        let (tags, slotColumn) = segment(segmentIndex(hash))
        let home = Self.home(UInt16(truncatingIfNeeded: hash))
        cairn_prefetch(tags + home)
        cairn_prefetch(slotColumn + home)
    }

    /// Stage two (see `prefetchIndex`): asks the cache for the slot the lookup of `hash`
    /// would try first, when its tag matches. Reads the index entry; changes nothing.
    @inline(__always)
    public func prefetchSlot(hash: UInt64) {
        guard let base = firstCandidate(hash) else { return }
        prefetchLines(ofSlotAt: base)
    }

    /// Stage three (see `prefetchIndex`): asks the cache for the arena block named by the
    /// handle at `handleOffset` in the payload of the slot the lookup of `hash` would try
    /// first, when its tag matches and the handle is in the arena. Reads the index entry and
    /// the payload; changes nothing.
    @inline(__always)
    public func prefetchBlock(hash: UInt64, handleOffset: Int) {
        guard let base = firstCandidate(hash) else { return }
        prefetchBlock(named: base, handleOffset: handleOffset)
    }

    /// Asks the cache for the lines of slot `index` (below `slotHigh`, else nothing): for a
    /// timer's customer, known by slot. A hint: it changes nothing and never faults.
    @inline(__always)
    public func prefetchSlot(at index: Int) {
        guard index < slotHigh else { return }
        prefetchLines(ofSlotAt: slotBase(index))
    }

    /// Every cache line of the slot at `base`, to be written.
    @inline(__always)
    private func prefetchLines(ofSlotAt base: UnsafeMutableRawPointer) {
        var offset = 0
        while offset < stride {
            cairn_prefetch_write(base + offset)
            offset &+= 64
        }
        cairn_prefetch_write(base + (stride &- 1))
    }

    /// The arena block named by the handle at `handleOffset` in the payload of the slot at
    /// `base`, when the handle is in the arena.
    @inline(__always)
    private func prefetchBlock(named base: UnsafeMutableRawPointer, handleOffset: Int) {
        let handle = base.load(fromByteOffset: Self.slotHeader &+ handleOffset, as: UInt64.self)
        guard handle != 0, handle < UInt64(arena.size) else { return }
        cairn_prefetch(arena.base + Int(handle))
    }

    /// Asks the cache for the head of slot `index` (its key length and the first bytes of its
    /// payload), below `slotHigh`, else nothing. A hint: it changes nothing and never faults.
    @inline(__always)
    public func prefetchSlotHead(at index: Int) {
        guard index < slotHigh else { return }
        let base = slotBase(index)
        cairn_prefetch(base)
        cairn_prefetch(base + (Self.slotHeader &+ 15))
    }

    /// Asks the cache for the arena block named by the handle at `handleOffset` in the payload
    /// of slot `index` (as `prefetchBlock(hash:handleOffset:)`); reads the slot.
    @inline(__always)
    public func prefetchBlock(at index: Int, handleOffset: Int) {
        guard index < slotHigh else { return }
        prefetchBlock(named: slotBase(index), handleOffset: handleOffset)
    }

    /// The first slot the lookup of `hash` would compare keys with: the first entry with the
    /// hash's tag in the probe sequence, among the first `candidateProbes`; not checked
    /// against a key. For the prefetches. (Stopping at the home entry would miss every
    /// customer whose entry was displaced by another: a quarter of them in a half-full
    /// segment, over 40 % in one 7/8 full, by simulation.)
    @inline(__always)
    private func firstCandidate(_ hash: UInt64) -> UnsafeMutableRawPointer? {
        let tag = UInt16(truncatingIfNeeded: hash)
        let (tags, slotColumn) = segment(segmentIndex(hash))
        var position = Self.home(tag)
        var probes = 0
        while probes < Self.candidateProbes {
            let entry = slotColumn[position]
            if entry == 0 { return nil }
            // SAFETY: an index entry names a slot below slotHigh.
            if tags[position] == tag { return slotBase(Int(entry) &- 1) }
            position = Self.next(position)
            probes &+= 1
        }
        return nil
    }

    /// How far along its probe sequence `firstCandidate` looks for a customer's entry.
    static let candidateProbes = 8

    /// The payload of the customer with `key`, or nil.
    ///
    /// - Safety: see the type's Safety section: the pointer is stable, but designates this
    ///   customer only until it is removed.
    /// - Parameter hash: `XXH64.hash(key, seed: 0)`.
    /// - Complexity: O(1) expected; no allocation.
    @inline(__always)
    public func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> UnsafeMutableRawPointer? {
        guard key.count > 0, let found = locate(key, hash: hash) else { return nil }
        return slotBase(found.slot) + Self.slotHeader
    }

    /// Adds a customer and returns its zeroed payload, already marked dirty.
    ///
    /// - Precondition: `key` is absent and 1...`maxKeyLength` bytes (longer throws `.tooLarge`).
    /// - Complexity: O(1) expected; no allocation (growth maps more file).
    public func insert(_ key: UnsafeRawBufferPointer, hash: UInt64) throws(StateError) -> UnsafeMutableRawPointer {
        let count = key.count
        precondition(count > 0, "state keys are not empty")
        guard count <= Self.maxKeyLength else {
            throw .tooLarge("key of \(count) bytes exceeds the state store's limit of \(Self.maxKeyLength)")
        }
        assert(locate(key, hash: hash) == nil, "insert of a key already in the state store")
        // Everything that can fail comes first, so that a failure leaves the store as it was
        // (a segment split alone is harmless).
        while fills[segmentIndex(hash)] >= Self.splitThreshold { try split(hash) }
        var handle: UInt64 = 0
        if count > Self.inlineKeyLimit { handle = try allocate(count) }
        let slot: Int
        do { slot = try takeSlot() } catch {
            if handle != 0 { free(handle, count: count) }
            throw error
        }
        let base = slotBase(slot)
        // The slot's last byte is zero already: writing it makes a slot that reaches into a
        // page no one has touched fault that page in writable now. Read first, the page
        // would be mapped read-only and copied at the first write, with a TLB flush that
        // interrupts every thread of the process.
        base.storeBytes(of: 0 as UInt8, toByteOffset: stride &- 1, as: UInt8.self)
        if handle == 0 {
            base.copyMemory(from: key.baseAddress!, byteCount: count)
        } else {
            base.storeBytes(of: handle, as: UInt64.self)
            (arena.base + Int(handle)).copyMemory(from: key.baseAddress!, byteCount: count)
            arena.markDirty(offset: Int(handle), count: count)
        }
        base.storeBytes(of: UInt16(count), toByteOffset: Self.keyLengthOffset, as: UInt16.self)
        slots.markDirty(offset: slot &* stride, count: stride)
        place(tag: UInt16(truncatingIfNeeded: hash), slot: UInt32(slot + 1), in: segmentIndex(hash))
        customers += 1
        return base + Self.slotHeader
    }

    /// Marks a payload (as returned by find or insert) changed, for the next checkpoint.
    ///
    /// - Complexity: a few instructions (one or two bits set).
    @inline(__always)
    public func markDirty(_ payload: UnsafeMutableRawPointer) {
        assert(payload >= slots.base + Self.slotHeader && payload < slots.base + slotHigh * stride, "not a payload of this store")
        slots.markDirty(offset: payload - slots.base, count: layout.payloadSize)
    }

    /// Removes a customer: zeroes its key bytes (also in the arena), its payload and its index
    /// entry, and puts the slot on the free list. Returns whether the key was present.
    @discardableResult
    public func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Bool {
        guard key.count > 0, let found = locate(key, hash: hash) else { return false }
        deleteEntry(segment: found.segment, position: found.position)
        releaseSlot(found.slot)
        return true
    }

    /// The key and payload of slot `index`, or nil for a free slot.
    ///
    /// - Precondition: `0 <= index < slotCount`.
    public func slot(at index: Int) -> (key: UnsafeRawBufferPointer, payload: UnsafeMutableRawPointer)? {
        precondition(index >= 0 && index < slotHigh, "slot index out of range")
        let length = keyLength(index)
        if length == 0 { return nil }
        return (UnsafeRawBufferPointer(start: keyPointer(index, length: length), count: length),
                slotBase(index) + Self.slotHeader)
    }

    /// Removes the customer in slot `index`, if any (as `remove`).
    public func removeSlot(at index: Int) {
        precondition(index >= 0 && index < slotHigh, "slot index out of range")
        let length = keyLength(index)
        if length == 0 { return }
        let key = UnsafeRawBufferPointer(start: keyPointer(index, length: length), count: length)
        let hash = XXH64.hash(key, seed: 0)
        let wanted = UInt32(index + 1)
        let s = segmentIndex(hash)
        let (_, slotColumn) = segment(s)
        var position = Self.home(UInt16(truncatingIfNeeded: hash))
        while slotColumn[position] != wanted {
            precondition(slotColumn[position] != 0, "state index lost slot \(index)")
            position = Self.next(position)
        }
        deleteEntry(segment: s, position: position)
        releaseSlot(index)
    }

    func takeSlot() throws(StateError) -> Int {
        if freeSlotHead != 0 {
            let slot = freeSlotHead - 1
            let base = slotBase(slot)
            freeSlotHead = Int(base.load(as: UInt32.self))
            base.storeBytes(of: 0, as: UInt32.self)
            freeSlots -= 1
            return slot
        }
        guard slotHigh < Int(UInt32.max) - 1 else { throw .tooLarge("state store holds the most slots it can index") }
        try slots.grow(to: (slotHigh + 1) * stride)
        slotHigh += 1
        return slotHigh - 1
    }

    func releaseSlot(_ slot: Int) {
        let base = slotBase(slot)
        let length = keyLength(slot)
        if length > Self.inlineKeyLimit { free(base.load(as: UInt64.self), count: length) }
        // Erasure: no byte of the key or payload survives in memory; the next checkpoint
        // writes the zeroed page over the file's.
        base.initializeMemory(as: UInt8.self, repeating: 0, count: stride)
        base.storeBytes(of: UInt32(freeSlotHead), as: UInt32.self)
        freeSlotHead = slot + 1
        freeSlots += 1
        customers -= 1
        slots.markDirty(offset: slot &* stride, count: stride)
    }

    // MARK: - Index

    /// Stores an entry in segment `s` by linear probing from its tag's home.
    @inline(__always)
    func place(tag: UInt16, slot: UInt32, in s: Int) {
        let (tags, slotColumn) = segment(s)
        var position = Self.home(tag)
        while slotColumn[position] != 0 { position = Self.next(position) }
        tags[position] = tag
        slotColumn[position] = slot
        fills[s] &+= 1
        index.markDirty(offset: s &* Self.segmentBytes, count: 1)
    }

    /// Backward-shift deletion: later entries of the probe run move up, so no tombstone.
    func deleteEntry(segment s: Int, position: Int) {
        let (tags, slotColumn) = segment(s)
        let n = Self.segmentEntries
        var hole = position
        var j = Self.next(hole)
        while slotColumn[j] != 0 {
            let home = Self.home(tags[j])
            // The entry may fill the hole unless its home lies cyclically in (hole, j].
            if (j - home + n) % n >= (j - hole + n) % n {
                tags[hole] = tags[j]
                slotColumn[hole] = slotColumn[j]
                hole = j
            }
            j = Self.next(j)
        }
        tags[hole] = 0
        slotColumn[hole] = 0
        fills[s] -= 1
        index.markDirty(offset: s * Self.segmentBytes, count: 1)
    }

    /// Splits the segment that `hash` maps to: entries whose next hash bit is 1 move to a new
    /// segment appended to the index; the directory doubles first if needed. Entries keep
    /// only 16 bits of their hash, so the rest is recomputed from their keys.
    ///
    /// - Complexity: O(680) key hashes plus, rarely, O(directory) for a doubling.
    func split(_ hash: UInt64) throws(StateError) {
        let s = segmentIndex(hash)
        let depth = Int(localDepths[s])
        if depth == globalDepth {
            guard globalDepth < Self.maxGlobalDepth else {
                throw .tooLarge("\(index.path): the state index reached its largest directory")
            }
            var i = (1 << globalDepth) - 1
            while i >= 0 {
                directoryTable[2 * i + 1] = directoryTable[i]
                directoryTable[2 * i] = directoryTable[i]
                i -= 1
            }
            globalDepth += 1
        }
        let n = segmentCount
        try index.grow(to: (n + 1) * Self.segmentBytes)
        segmentCount += 1
        localDepths[s] = UInt8(depth + 1)
        localDepths[n] = UInt8(depth + 1)
        let page = index.base + s * Self.segmentBytes
        scratch.copyMemory(from: page, byteCount: Self.segmentBytes)
        page.initializeMemory(as: UInt8.self, repeating: 0, count: Self.segmentBytes)
        fills[s] = 0
        fills[n] = 0
        let oldTags = scratch.assumingMemoryBound(to: UInt16.self)
        let oldSlots = (scratch + Self.slotColumn).assumingMemoryBound(to: UInt32.self)
        let bit = UInt64(1) << UInt64(63 - depth)
        for i in 0..<Self.segmentEntries {
            let slot = oldSlots[i]
            if slot == 0 { continue }
            let moves = keyHash(Int(slot) - 1) & bit != 0
            place(tag: oldTags[i], slot: slot, in: moves ? n : s)
        }
        index.markDirty(offset: s * Self.segmentBytes, count: Self.segmentBytes)
        index.markDirty(offset: n * Self.segmentBytes, count: Self.segmentBytes)
        let g = globalDepth
        let prefix = Int(truncatingIfNeeded: hash >> UInt64(64 - g)) >> (g - depth)
        let width = 1 << (g - depth)
        let low = prefix << (g - depth)
        for i in (low + width / 2)..<(low + width) { directoryTable[i] = UInt32(n) }
    }

    // MARK: - Arena

    /// The free-list class of a block of `count` bytes and its rounded size; class -1: not
    /// reused (over 4 MiB).
    @inline(__always)
    static func sizeClass(_ count: Int) -> (cls: Int, rounded: Int) {
        if count <= 4096 {
            let rounded = (count + 7) & ~7
            return (rounded / 8 - 1, rounded)
        }
        let pages = (count + 4095) / 4096
        return (pages <= 1024 ? 512 + pages - 2 : -1, pages * 4096)
    }

    /// A zeroed block of `count` bytes in the arena; never 0. Reuses freed blocks of the same
    /// size class first (LIFO), so the same operations give the same handles.
    ///
    /// - Complexity: O(1); no allocation (growth maps more file).
    public func allocate(_ count: Int) throws(StateError) -> UInt64 {
        precondition(count > 0, "arena blocks are not empty")
        guard count <= Self.maxAllocation else {
            throw .tooLarge("arena block of \(count) bytes exceeds the state store's limit of \(Self.maxAllocation)")
        }
        let (cls, rounded) = Self.sizeClass(count)
        if cls >= 0, freeHeads[cls] != 0 {
            let handle = freeHeads[cls]
            let p = arena.base + Int(handle)
            freeHeads[cls] = p.load(as: UInt64.self)
            p.storeBytes(of: 0, as: UInt64.self)
            arena.markDirty(offset: Int(handle), count: 8)
            return handle
        }
        let handle = arenaTop
        try arena.grow(to: handle + rounded)
        arenaTop += rounded
        return UInt64(handle)
    }

    /// The bytes of an arena block. Stable for the store's lifetime: the arena never moves.
    ///
    /// - Safety: `handle` must come from `allocate` and not be freed; the caller stays within
    ///   the count it allocated.
    @inline(__always)
    public func bytes(_ handle: UInt64) -> UnsafeMutableRawPointer { arena.base + Int(handle) }

    /// Marks `count` bytes of a block changed, for the next checkpoint.
    @inline(__always)
    public func markDirty(_ handle: UInt64, count: Int) {
        arena.markDirty(offset: Int(handle), count: count)
    }

    /// Zeroes a block and makes its space reusable.
    ///
    /// - Precondition: `handle` came from `allocate(count)` with the same `count`, not yet freed.
    public func free(_ handle: UInt64, count: Int) {
        let (cls, rounded) = Self.sizeClass(count)
        precondition(handle >= UInt64(Self.arenaStart) && Int(handle) + rounded <= arenaTop, "not an arena handle")
        let p = arena.base + Int(handle)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: rounded)
        if cls >= 0 {
            p.storeBytes(of: freeHeads[cls], as: UInt64.self)
            freeHeads[cls] = handle
        }
        arena.markDirty(offset: Int(handle), count: rounded)
    }

    // MARK: - Stats

    public var stats: StoreStats {
        let files = regions.map { StoreStats.File(name: $0.path, bytes: $0.size) }
        let total = files.reduce(0) { $0 + $1.bytes } + (1 << globalDepth) * 4
        return StoreStats(
            customers: customers, slots: slotHigh, freeSlots: freeSlots, slotStride: stride,
            indexSegments: segmentCount, directoryEntries: 1 << globalDepth, arenaBytes: arenaTop,
            files: files, bytesPerCustomer: customers == 0 ? 0 : Double(total) / Double(customers),
            checkpointSequence: sequence, lastCheckpointNanoseconds: lastCheckpointNanoseconds,
            lastCheckpointDirtyBytes: lastCheckpointDirtyBytes)
    }
}
