/// Everything about a checkpoint that is not a data page: the layout, the caller's meta blob,
/// the store's counters, the index directory, the arena's free lists, and a checksum per data
/// page. It travels inside the journal (see `StateJournal`), all little-endian:
///
///     "CAIRNST1" | version | sequence | payload size | fingerprint | description length |
///     meta length | slot high-water | free slot head+1 | customers | free slots | arena top |
///     global depth | segments | size of slots.cairn | index.cairn | arena.cairn      (u64 each)
///     description, meta                                     (bytes, each padded to 8)
///     directory: 2^depth × u32 segment numbers               (padded to 8)
///     local depths: segments × u8                            (padded to 8)
///     arena free-list heads: 1535 × u64
///     page checksums of slots, index, arena: pages × u32     (each padded to 8)
///
/// - Invariant: a page's checksum is the low 32 bits of XXH64(page, seed 0).
struct StateManifest {
    static let magic: [UInt8] = Array("CAIRNST1".utf8)
    static let version: UInt64 = 1

    var sequence: UInt64 = 0
    var payloadSize = 0
    var fingerprint: UInt64 = 0
    var description: [UInt8] = []
    var meta: [UInt8] = []
    var slotHigh = 0
    var freeSlotHead = 0
    var customers = 0
    var freeSlots = 0
    var arenaTop = 0
    var globalDepth = 0
    var segmentCount = 0
    var fileSizes = [0, 0, 0]
    var directory: [UInt32] = []
    var localDepths: [UInt8] = []
    var freeHeads: [UInt64] = []
    var sums: [[UInt32]] = [[], [], []]

    static func parse(_ base: UnsafeRawPointer, count: Int, file: String) throws(StateError) -> StateManifest {
        var r = StateByteReader(base, count: count, file: file)
        guard try r.bytes(8) == magic else { throw .corrupt(file: file, detail: "bad manifest magic") }
        let version = try r.u64()
        guard version == Self.version else {
            throw .corrupt(file: file, detail: "unsupported state format version \(version) (this cairn reads \(Self.version))")
        }
        var m = StateManifest()
        m.sequence = try r.u64()
        m.payloadSize = try r.int(1 << 30, "payload size")
        m.fingerprint = try r.u64()
        let descriptionLength = try r.int(count, "description length")
        let metaLength = try r.int(count, "meta length")
        m.slotHigh = try r.int(Int(UInt32.max), "slot count")
        m.freeSlotHead = try r.int(Int(UInt32.max), "free slot head")
        m.customers = try r.int(Int(UInt32.max), "customer count")
        m.freeSlots = try r.int(Int(UInt32.max), "free slot count")
        m.arenaTop = try r.int(StateStore.arenaReservation, "arena top")
        m.globalDepth = try r.int(StateStore.maxGlobalDepth, "directory depth")
        m.segmentCount = try r.int(StateStore.maxSegments, "segment count")
        let limits = [StateStore.slotsReservation, StateStore.indexReservation, StateStore.arenaReservation]
        for i in 0..<3 {
            m.fileSizes[i] = try r.int(limits[i], "file size")
            guard m.fileSizes[i] % UnsafeMappedRegion.granule == 0 else {
                throw .corrupt(file: file, detail: "file size \(m.fileSizes[i]) is not a multiple of 64 KiB")
            }
        }
        m.description = try r.bytes(descriptionLength)
        try r.pad()
        m.meta = try r.bytes(metaLength)
        try r.pad()
        let entries = 1 << m.globalDepth
        try r.need(entries * 4)
        m.directory = (0..<entries).map { i in UInt32(littleEndian: (base + r.at + i * 4).loadUnaligned(as: UInt32.self)) }
        r.at += entries * 4
        try r.pad()
        m.localDepths = try r.bytes(m.segmentCount)
        try r.pad()
        try r.need(StateStore.freeClassCount * 8)
        m.freeHeads = (0..<StateStore.freeClassCount).map { i in
            UInt64(littleEndian: (base + r.at + i * 8).loadUnaligned(as: UInt64.self))
        }
        r.at += StateStore.freeClassCount * 8
        for f in 0..<3 {
            let pages = m.fileSizes[f] / StateFileIO.pageSize
            try r.need(pages * 4)
            let at = r.at
            m.sums[f] = (0..<pages).map { i in UInt32(littleEndian: (base + at + i * 4).loadUnaligned(as: UInt32.self)) }
            r.at += pages * 4
            try r.pad()
        }
        guard r.at == count else { throw .corrupt(file: file, detail: "manifest has \(count - r.at) extra bytes") }
        return m
    }
}

extension StateStore {
    /// The manifest of the store as it is now, with `sequence` and `meta` of the checkpoint
    /// being written. Page checksums must be current for dirty pages.
    func serializeManifest(sequence: UInt64, meta: [UInt8]) -> [UInt8] {
        var w = StateByteWriter()
        let pages = regions.map { $0.pageCount }
        w.bytes.reserveCapacity(256 + layout.description.count + meta.count + (4 << globalDepth)
                                + segmentCount + StateStore.freeClassCount * 8 + pages.reduce(0, +) * 4 + 32)
        w.append(StateManifest.magic)
        w.u64(StateManifest.version)
        w.u64(sequence)
        w.u64(layout.payloadSize)
        w.u64(layout.fingerprint)
        w.u64(layout.description.count)
        w.u64(meta.count)
        w.u64(slotHigh)
        w.u64(freeSlotHead)
        w.u64(customers)
        w.u64(freeSlots)
        w.u64(arenaTop)
        w.u64(globalDepth)
        w.u64(segmentCount)
        for region in regions { w.u64(region.size) }
        w.append(layout.description)
        w.pad()
        w.append(meta)
        w.pad()
        for i in 0..<(1 << globalDepth) { w.u32(directoryTable[i]) }
        w.pad()
        w.append(UnsafeRawBufferPointer(start: localDepths, count: segmentCount))
        w.pad()
        for i in 0..<StateStore.freeClassCount { w.u64(freeHeads[i]) }
        for region in regions {
            for p in 0..<region.pageCount { w.u32(region.sums[p]) }
            w.pad()
        }
        return w.bytes
    }

    /// Takes the counters, directory, free lists and checksums of a manifest (the regions are
    /// already mapped at the manifest's sizes).
    func restore(_ m: StateManifest, file: String) throws(StateError) {
        sequence = m.sequence
        meta = m.meta
        slotHigh = m.slotHigh
        freeSlotHead = m.freeSlotHead
        customers = m.customers
        freeSlots = m.freeSlots
        arenaTop = m.arenaTop
        globalDepth = m.globalDepth
        segmentCount = m.segmentCount
        guard slotHigh * stride <= slots.size, freeSlotHead <= slotHigh, customers + freeSlots == slotHigh,
              segmentCount >= 1, segmentCount * StateStore.segmentBytes <= index.size,
              arenaTop >= StateStore.arenaStart, arenaTop <= max(arena.size, StateStore.arenaStart)
        else { throw .corrupt(file: file, detail: "manifest counts disagree with the file sizes") }
        for (i, s) in m.directory.enumerated() {
            guard Int(s) < segmentCount else { throw .corrupt(file: file, detail: "directory names segment \(s) of \(segmentCount)") }
            directoryTable[i] = s
        }
        for (i, d) in m.localDepths.enumerated() {
            guard Int(d) <= globalDepth else { throw .corrupt(file: file, detail: "segment \(i) deeper than the directory") }
            localDepths[i] = d
        }
        for (i, h) in m.freeHeads.enumerated() { freeHeads[i] = h }
        for (f, region) in regions.enumerated() {
            for (p, sum) in m.sums[f].enumerated() { region.sums[p] = sum }
        }
    }
}
