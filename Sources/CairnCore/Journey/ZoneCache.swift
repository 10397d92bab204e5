/// Time zones by name for the runtime: the customer's zone name arrives as bytes (from the
/// profile or an event) per send; each distinct name is loaded once.
///
/// An open-addressing hash table (linear probing, at most half full) over the names seen,
/// hashed with 64-bit FNV-1a so that the table, and with it every probe sequence, is the
/// same on every run. Names live back to back in one byte array; each slot holds a name's
/// hash, where its bytes are and the index of its zone (or -1 for a name that is not a zone:
/// misses are remembered too, so a bad name in every event costs one failed load, not one
/// per event).
///
///     slots:  | hash 8 B | name start 4 B | name length 2 B | zone index 4 B | ...   24 B each
///     names:  Europe/ParisAmerica/New_Yorknot a zone...
///     zones:  [Europe/Paris, America/New_York, ...]
///
/// At `capacity` distinct names it stops remembering: a new name is still resolved, by
/// reading the tz database on every call (slow, and it allocates), and the names already
/// remembered stay fast. Names longer than 255 bytes are never zones and are answered nil
/// at once, without being remembered.
///
/// Not thread-safe: one cache per runner (it is not `Sendable`).
public final class ZoneCache {
    struct Slot {
        var hash: UInt64
        var nameStart: Int32
        var nameLength: UInt16
        /// Index into `zones`; -1 for a remembered miss; -2 for an empty slot.
        var zone: Int32

        static let empty = Slot(hash: 0, nameStart: 0, nameLength: 0, zone: -2)
    }

    /// How many distinct names are remembered at most.
    public let capacity: Int
    /// How many are remembered now (hits and misses).
    public private(set) var count = 0
    var slots: [Slot]
    var names: [UInt8] = []
    var zones: [CELTimeZone] = []

    /// Zone names are at most 255 bytes (`CELTimeZone.named` rejects longer ones).
    static let maximumNameLength = 255

    /// A cache that remembers up to `capacity` distinct names.
    ///
    /// The table starts small and doubles as names arrive (at most 2 × `capacity` slots).
    ///
    /// - Precondition: `0 <= capacity <= 1 << 22`.
    public init(capacity: Int = 4096) {
        precondition(capacity >= 0 && capacity <= 1 << 22, "zone cache capacity out of range")
        self.capacity = capacity
        slots = Array(repeating: .empty, count: 16)
    }

    /// The zone these UTF-8 bytes name (as `CELTimeZone.named` accepts), nil when unknown or
    /// malformed. Remembers misses too. No allocation for a name seen before (hash the bytes,
    /// compare stored bytes); at capacity, new names are still resolved but not remembered.
    ///
    /// Bytes that are not valid UTF-8 never name a zone (zone names are ASCII).
    ///
    /// - Complexity: O(n) in the name's length and no allocation for a remembered name; a new
    ///   name loads its zone from the tz database (one small file read, which allocates).
    public func zone(named bytes: UnsafeRawBufferPointer) -> CELTimeZone? {
        guard bytes.count <= Self.maximumNameLength else { return nil }
        let hash = Self.fnv1a(bytes)
        let mask = slots.count - 1
        var i = Self.home(hash) & mask
        while true {
            let slot = slots[i]
            if slot.zone == -2 { break }
            if slot.hash == hash && Int(slot.nameLength) == bytes.count && equalsName(slot, bytes) {
                return slot.zone >= 0 ? zones[Int(slot.zone)] : nil
            }
            i = (i + 1) & mask
        }
        // A name not seen before (or not remembered, at capacity).
        let zone = CELTimeZone.named(String(decoding: bytes, as: UTF8.self))
        guard count < capacity else { return zone }
        var index: Int32 = -1
        if let zone {
            index = Int32(zones.count)
            zones.append(zone)
        }
        let start = Int32(names.count)
        names.append(contentsOf: bytes)
        slots[i] = Slot(hash: hash, nameStart: start, nameLength: UInt16(bytes.count), zone: index)
        count += 1
        if count * 2 > slots.count { grow() }
        return zone
    }

    /// Whether the stored name of `slot` is `bytes` (same length already checked).
    private func equalsName(_ slot: Slot, _ bytes: UnsafeRawBufferPointer) -> Bool {
        names.withUnsafeBytes { stored in
            let start = Int(slot.nameStart)
            for k in 0..<bytes.count where stored[start + k] != bytes[k] { return false }
            return true
        }
    }

    /// Doubles the table and re-inserts every remembered name.
    private func grow() {
        let old = slots
        slots = Array(repeating: .empty, count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.zone != -2 {
            var i = Self.home(slot.hash) & mask
            while slots[i].zone != -2 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }

    /// The first slot to probe for `hash` (before masking): FNV-1a's high bits folded into
    /// the low ones the mask keeps.
    @inline(__always)
    static func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    /// 64-bit FNV-1a: fixed, unlike Swift's per-process seeded `Hasher`.
    static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
