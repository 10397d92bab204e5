/// One customer's journey state, decoded from its arena blob into reusable arrays while the
/// customer's event or timer is handled, then encoded back if it changed.
///
/// The blob (docs/state-format.md, "Journey state"), all integers little-endian:
///
///     header    u16 instances | u16 memos | u16 logs | u16 journeys (see `EventTypeFilter` in TypeGate.swift)
///     instance  u32 journey hash | u32 step hash | u16 entry number | u16 step
///               u32 variant hash (0: none) | i64 wake (Int64.max: none) | i64 entered at
///               u16 key length | u8 flags | u8 journey | u32 context length
///               key bytes, padded to 8 | context bytes, padded to 8
///     memo      u32 journey hash | u32 entries | u64 key hash | i64 last entry
///     send log  u32 channel hash | u32 count | count × i64 send times, oldest first
///
/// Journeys and steps are named by hashes of their names, so that instances find their step
/// again after the pipeline changes; the indices beside them are the fast path, checked
/// against the hashes (a journey index of 255 says "look it up"). The blob's arena block is
/// exactly its size (every part is a multiple of 8 bytes), so the size read back from the
/// blob says what to free. An instance keeps its entry number up to 65,535 (the re-entry
/// memory counts on in 32 bits).
///
/// - Complexity: decode and encode are O(blob size); no allocation once the arrays have grown
///   to the largest customer seen.
final class CustomerJourneys {
    struct Instance {
        var journeyHash: UInt32
        var stepHash: UInt32
        var entries: UInt32
        var variantHash: UInt32
        var wake: Int64
        var enteredAt: Int64
        var journey: Int
        var step: Int
        var flags: Flags
        /// Where the key and the captured event context are in `bytes`.
        var keyStart: Int
        var keyCount: Int
        var contextStart: Int
        var contextCount: Int
        /// Whether the key (the context) is still in the decoded blob, at `keyStart`
        /// (`contextStart`) from its start, rather than in `bytes`: decoding copies nothing.
        var keyInBlob = false
        var contextInBlob = false
        /// XXH64 of the key, once `CustomerJourneys.keyHash(_:)` computed it (0 before, and for
        /// an unkeyed journey); not stored.
        var keyHash: UInt64
    }

    struct Flags: OptionSet {
        var rawValue: UInt8
        /// The split put the customer in a holdout: sends become `skip` records.
        static let holdout = Flags(rawValue: 1)
        /// The goal was recorded (with `continue: true`).
        static let goalReached = Flags(rawValue: 2)
        /// The instance waits at a send that `hold` holds (mode wait), until `wake` at most.
        static let held = Flags(rawValue: 4)
        /// The instance waits at a send deferred by quiet hours, until `wake`.
        static let deferred = Flags(rawValue: 8)
        /// In memory only (never stored): the instance ended in this moment; its step is gone
        /// from the pipeline; its wake was set in this moment and needs a timer.
        static let ended = Flags(rawValue: 0x20)
        static let stepRemoved = Flags(rawValue: 0x40)
        static let scheduled = Flags(rawValue: 0x80)
        static let transient: Flags = [.ended, .stepRemoved, .scheduled]
    }

    /// Re-entry memory of one journey and key, kept beyond the instance.
    struct Memo {
        var journeyHash: UInt32
        var entries: UInt32
        var keyHash: UInt64
        var lastEntry: Int64
    }

    /// Send times on one channel, for its cap.
    struct SendLog {
        var channelHash: UInt32
        var start: Int
        var count: Int
    }

    var instances: [Instance] = []
    var memos: [Memo] = []
    var logs: [SendLog] = []
    /// Send times of `logs`.
    var times: [Int64] = []
    /// Keys and contexts of `instances`.
    let bytes = ByteBuffer()
    var changed = false
    /// The blob `decode` read, which keys and contexts may still point into.
    private(set) var blob: UnsafeRawPointer?

    static let headerSize = 8
    static let instanceSize = 40
    static let memoSize = 24
    /// Counts are u16: at most this many instances, memories and logs per customer.
    static let countLimit = Int(UInt16.max)

    /// The journeys an encoded blob has running instances of, as `EventTypeFilter` bits.
    @inline(__always)
    static func journeys(_ blob: UnsafeRawPointer) -> UInt16 { blob.load(fromByteOffset: 6, as: UInt16.self) }

    /// The bytes of an encoded blob (its arena block's size).
    static func size(_ blob: UnsafeRawPointer) -> Int {
        let instanceCount = Int(blob.load(fromByteOffset: 0, as: UInt16.self))
        let memoCount = Int(blob.load(fromByteOffset: 2, as: UInt16.self))
        let logCount = Int(blob.load(fromByteOffset: 4, as: UInt16.self))
        var p = headerSize
        for _ in 0..<instanceCount {
            let keyCount = Int(blob.load(fromByteOffset: p + 32, as: UInt16.self))
            let contextCount = Int(blob.load(fromByteOffset: p + 36, as: UInt32.self))
            p += instanceSize + pad8(keyCount) + pad8(contextCount)
        }
        p += memoSize * memoCount
        for _ in 0..<logCount { p += 8 + 8 * Int(blob.load(fromByteOffset: p + 4, as: UInt32.self)) }
        return p
    }

    /// The size `decode` read.
    private(set) var decodedSize = 0

    init() {
        instances.reserveCapacity(16)
        memos.reserveCapacity(16)
        logs.reserveCapacity(8)
        times.reserveCapacity(64)
    }

    func clear() {
        // Cleared at every moment, and mostly empty already: clearing an empty array is not
        // free (a uniqueness check and a generic replace).
        if !instances.isEmpty { instances.removeAll(keepingCapacity: true) }
        if !memos.isEmpty { memos.removeAll(keepingCapacity: true) }
        if !logs.isEmpty { logs.removeAll(keepingCapacity: true) }
        if !times.isEmpty { times.removeAll(keepingCapacity: true) }
        bytes.reset()
        changed = false
        blob = nil
        decodedSize = 0
    }

    /// Whether nothing is left to keep: no running instance, memo or send log.
    var isEmpty: Bool {
        memos.isEmpty && !logs.contains { $0.count > 0 } && !instances.contains { !$0.flags.contains(.ended) }
    }

    @inline(__always) static func pad8(_ n: Int) -> Int { (n + 7) & ~7 }

    /// Reads a blob written by `encode`.
    func decode(_ blob: UnsafeRawPointer) {
        clear()
        let instanceCount = Int(blob.load(fromByteOffset: 0, as: UInt16.self))
        let memoCount = Int(blob.load(fromByteOffset: 2, as: UInt16.self))
        let logCount = Int(blob.load(fromByteOffset: 4, as: UInt16.self))
        var p = blob + Self.headerSize
        self.blob = blob
        for _ in 0..<instanceCount {
            let keyCount = Int(p.load(fromByteOffset: 32, as: UInt16.self))
            let contextCount = Int(p.load(fromByteOffset: 36, as: UInt32.self))
            let keyStart = p + Self.instanceSize - blob
            let contextStart = keyStart + Self.pad8(keyCount)
            instances.append(Instance(
                journeyHash: p.load(as: UInt32.self), stepHash: p.load(fromByteOffset: 4, as: UInt32.self),
                entries: UInt32(p.load(fromByteOffset: 8, as: UInt16.self)), variantHash: p.load(fromByteOffset: 12, as: UInt32.self),
                wake: p.load(fromByteOffset: 16, as: Int64.self), enteredAt: p.load(fromByteOffset: 24, as: Int64.self),
                journey: Int(p.load(fromByteOffset: 35, as: UInt8.self)), step: Int(p.load(fromByteOffset: 10, as: UInt16.self)),
                flags: Flags(rawValue: p.load(fromByteOffset: 34, as: UInt8.self)),
                keyStart: keyStart, keyCount: keyCount, contextStart: contextStart, contextCount: contextCount,
                keyInBlob: true, contextInBlob: true, keyHash: 0))
            p += Self.instanceSize + Self.pad8(keyCount) + Self.pad8(contextCount)
        }
        for _ in 0..<memoCount {
            memos.append(Memo(journeyHash: p.load(as: UInt32.self), entries: p.load(fromByteOffset: 4, as: UInt32.self),
                              keyHash: p.load(fromByteOffset: 8, as: UInt64.self),
                              lastEntry: p.load(fromByteOffset: 16, as: Int64.self)))
            p += Self.memoSize
        }
        for _ in 0..<logCount {
            let count = Int(p.load(fromByteOffset: 4, as: UInt32.self))
            logs.append(SendLog(channelHash: p.load(as: UInt32.self), start: times.count, count: count))
            for k in 0..<count { times.append(p.load(fromByteOffset: 8 + 8 * k, as: Int64.self)) }
            p += 8 + 8 * count
        }
        decodedSize = p - blob
    }

    /// XXH64 of instance `i`'s key (0 without a key), computed once when first needed.
    func keyHash(_ i: Int) -> UInt64 {
        let instance = instances[i]
        guard instance.keyCount > 0, instance.keyHash == 0 else { return instance.keyHash }
        let hash = withKey(i) { XXH64.hash($0, seed: 0) }
        instances[i].keyHash = hash
        return hash
    }

    /// Bytes `encode` writes (ended instances left out).
    var encodedSize: Int {
        var n = Self.headerSize
        for i in instances where !i.flags.contains(.ended) {
            n += Self.instanceSize + Self.pad8(i.keyCount) + Self.pad8(i.contextCount)
        }
        n += Self.memoSize * memos.count
        for log in logs where log.count > 0 { n += 8 + 8 * log.count }
        return n
    }

    /// Copies the keys and contexts still in the decoded blob into `bytes`, so that the blob
    /// may be overwritten or freed.
    func detach() {
        guard let blob else { return }
        for i in instances.indices {
            if instances[i].keyInBlob {
                let start = bytes.count
                bytes.append(UnsafeRawBufferPointer(start: blob + instances[i].keyStart, count: instances[i].keyCount))
                instances[i].keyStart = start
                instances[i].keyInBlob = false
            }
            if instances[i].contextInBlob {
                let start = bytes.count
                bytes.append(UnsafeRawBufferPointer(start: blob + instances[i].contextStart, count: instances[i].contextCount))
                instances[i].contextStart = start
                instances[i].contextInBlob = false
            }
        }
        self.blob = nil
    }

    /// Writes the state into `blob` (`encodedSize` bytes), which may be the block it was decoded
    /// from.
    func encode(into blob: UnsafeMutableRawPointer) {
        detach()
        let kept = instances.reduce(0) { $0 + ($1.flags.contains(.ended) ? 0 : 1) }
        precondition(kept <= Self.countLimit && memos.count <= Self.countLimit && logs.count <= Self.countLimit,
                     "journey state counts are bounded before encoding")
        blob.storeBytes(of: UInt16(kept), toByteOffset: 0, as: UInt16.self)
        blob.storeBytes(of: UInt16(memos.count), toByteOffset: 2, as: UInt16.self)
        blob.storeBytes(of: UInt16(logs.reduce(0) { $0 + ($1.count > 0 ? 1 : 0) }), toByteOffset: 4, as: UInt16.self)
        var journeys: UInt16 = 0
        for i in instances where !i.flags.contains(.ended) { journeys |= EventTypeFilter.bit(i.journeyHash) }
        blob.storeBytes(of: journeys, toByteOffset: 6, as: UInt16.self)
        var p = blob + Self.headerSize
        do {
            let raw = bytes.bytes
            for i in instances where !i.flags.contains(.ended) {
                p.storeBytes(of: i.journeyHash, as: UInt32.self)
                p.storeBytes(of: i.stepHash, toByteOffset: 4, as: UInt32.self)
                p.storeBytes(of: UInt16(min(i.entries, UInt32(UInt16.max))), toByteOffset: 8, as: UInt16.self)
                p.storeBytes(of: UInt16(i.step), toByteOffset: 10, as: UInt16.self)
                p.storeBytes(of: i.variantHash, toByteOffset: 12, as: UInt32.self)
                p.storeBytes(of: i.wake, toByteOffset: 16, as: Int64.self)
                p.storeBytes(of: i.enteredAt, toByteOffset: 24, as: Int64.self)
                p.storeBytes(of: UInt16(i.keyCount), toByteOffset: 32, as: UInt16.self)
                p.storeBytes(of: (i.flags.subtracting(.transient)).rawValue, toByteOffset: 34, as: UInt8.self)
                p.storeBytes(of: UInt8(min(i.journey, 255)), toByteOffset: 35, as: UInt8.self)
                p.storeBytes(of: UInt32(i.contextCount), toByteOffset: 36, as: UInt32.self)
                var q = p + Self.instanceSize
                let keyPadded = Self.pad8(i.keyCount)
                q.initializeMemory(as: UInt8.self, repeating: 0, count: keyPadded + Self.pad8(i.contextCount))
                if i.keyCount > 0 { q.copyMemory(from: raw.baseAddress! + i.keyStart, byteCount: i.keyCount) }
                q += keyPadded
                if i.contextCount > 0 { q.copyMemory(from: raw.baseAddress! + i.contextStart, byteCount: i.contextCount) }
                p += Self.instanceSize + keyPadded + Self.pad8(i.contextCount)
            }
        }
        for m in memos {
            p.storeBytes(of: m.journeyHash, as: UInt32.self)
            p.storeBytes(of: m.entries, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: m.keyHash, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: m.lastEntry, toByteOffset: 16, as: Int64.self)
            p += Self.memoSize
        }
        for log in logs where log.count > 0 {
            p.storeBytes(of: log.channelHash, as: UInt32.self)
            p.storeBytes(of: UInt32(log.count), toByteOffset: 4, as: UInt32.self)
            for k in 0..<log.count {
                p.storeBytes(of: times[log.start + k], toByteOffset: 8 + 8 * k, as: Int64.self)
            }
            p += 8 + 8 * log.count
        }
    }

    // MARK: - Access

    /// The bytes of instance `i`'s key.
    func withKey<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let instance = instances[i]
        return withBytes(inBlob: instance.keyInBlob, start: instance.keyStart, count: instance.keyCount, body)
    }

    /// The bytes of instance `i`'s captured event.
    func withContext<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let instance = instances[i]
        return withBytes(inBlob: instance.contextInBlob, start: instance.contextStart, count: instance.contextCount, body)
    }

    /// `count` bytes at `start` of the decoded blob, or of `bytes`.
    private func withBytes<R>(inBlob: Bool, start: Int, count: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if inBlob, let blob { return body(UnsafeRawBufferPointer(start: blob + start, count: count)) }
        return body(bytes.bytes(in: start..<(start + count)))
    }

    func memoIndex(journeyHash: UInt32, keyHash: UInt64) -> Int? {
        var m = 0
        while m < memos.count {
            if memos[m].journeyHash == journeyHash && memos[m].keyHash == keyHash { return m }
            m += 1
        }
        return nil
    }

    func logIndex(channelHash: UInt32) -> Int? {
        var l = 0
        while l < logs.count {
            if logs[l].channelHash == channelHash { return l }
            l += 1
        }
        return nil
    }

    /// The earliest wake of the running instances (Int64.max: none).
    var earliestWake: Int64 {
        var w = Int64.max
        for i in instances where !i.flags.contains(.ended) && i.wake < w { w = i.wake }
        return w
    }
}
