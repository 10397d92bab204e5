/// The state of a `distinct` aggregate: up to `capacity` 32-bit value hashes, each with the
/// bucket it was last seen in.
///
///     | used u16 | flags u8 | -- | lost-at bucket u32 | hash u32, bucket u32 | × capacity
///
/// While it has room it keeps every distinct hash, so the count is exact (up to 32-bit hash
/// collisions). When full, it keeps the `capacity` smallest hashes (K minimum values) and
/// remembers the latest bucket in which a value was dropped (`lost`); while that bucket is
/// inside the window the count is the KMV estimate `(k − 1) · 2³² / (largest kept hash + 1)`.
/// Buckets are stored modulo 2³² and compared by wrapping difference.
enum DistinctSet {
    static let lostFlag: UInt8 = 1

    static func insert(_ hash: UInt32, bucket k: Int64, latestBucket kL: Int64, field f: ProfileLayout.Shape,
                       base: UnsafeMutableRawPointer) {
        var used = Int(base.load(as: UInt16.self))
        let entries = base + 8
        let kb = UInt32(truncatingIfNeeded: k)
        if f.windowed {
            // Drop entries the window has left.
            let kl = UInt32(truncatingIfNeeded: kL)
            var kept = 0
            for i in 0..<used {
                let b = entries.load(fromByteOffset: 8 * i + 4, as: UInt32.self)
                if kl &- b < UInt32(f.buckets) {
                    if kept != i {
                        entries.storeBytes(of: entries.load(fromByteOffset: 8 * i, as: UInt64.self),
                                           toByteOffset: 8 * kept, as: UInt64.self)
                    }
                    kept += 1
                }
            }
            if kept != used {
                (entries + 8 * kept).initializeMemory(as: UInt8.self, repeating: 0, count: 8 * (used - kept))
                used = kept
            }
        }
        var largest = -1
        for i in 0..<used {
            let h = entries.load(fromByteOffset: 8 * i, as: UInt32.self)
            if h == hash {
                let b = entries.load(fromByteOffset: 8 * i + 4, as: UInt32.self)
                if Int32(bitPattern: kb &- b) > 0 { entries.storeBytes(of: kb, toByteOffset: 8 * i + 4, as: UInt32.self) }
                base.storeBytes(of: UInt16(used), as: UInt16.self)
                return
            }
            if largest < 0 || h > entries.load(fromByteOffset: 8 * largest, as: UInt32.self) { largest = i }
        }
        if used < f.capacity {
            entries.storeBytes(of: hash, toByteOffset: 8 * used, as: UInt32.self)
            entries.storeBytes(of: kb, toByteOffset: 8 * used + 4, as: UInt32.self)
            base.storeBytes(of: UInt16(used + 1), as: UInt16.self)
            return
        }
        // Full: keep the smallest hashes; remember when a value was lost.
        var lostAt = kb
        if hash < entries.load(fromByteOffset: 8 * largest, as: UInt32.self) {
            lostAt = entries.load(fromByteOffset: 8 * largest + 4, as: UInt32.self)
            entries.storeBytes(of: hash, toByteOffset: 8 * largest, as: UInt32.self)
            entries.storeBytes(of: kb, toByteOffset: 8 * largest + 4, as: UInt32.self)
        }
        let flags = base.load(fromByteOffset: 2, as: UInt8.self)
        let previous = base.load(fromByteOffset: 4, as: UInt32.self)
        if flags & lostFlag == 0 || Int32(bitPattern: lostAt &- previous) > 0 {
            base.storeBytes(of: lostAt, toByteOffset: 4, as: UInt32.self)
        }
        base.storeBytes(of: flags | lostFlag, toByteOffset: 2, as: UInt8.self)
        base.storeBytes(of: UInt16(used), as: UInt16.self)
    }

    /// The count at a clock whose bucket is `kC` (windowed fields; ignored otherwise).
    static func count(field f: ProfileLayout.Shape, base: UnsafeRawPointer, clockBucket kC: Int64) -> Int64 {
        let used = Int(base.load(as: UInt16.self))
        let entries = base + 8
        let kc = UInt32(truncatingIfNeeded: kC)
        func covered(_ b: UInt32) -> Bool { !f.windowed || kc &- b < UInt32(f.buckets) }
        var valid = 0
        var largest: UInt32 = 0
        for i in 0..<used {
            let b = entries.load(fromByteOffset: 8 * i + 4, as: UInt32.self)
            guard covered(b) else { continue }
            valid += 1
            largest = max(largest, entries.load(fromByteOffset: 8 * i, as: UInt32.self))
        }
        let lost = base.load(fromByteOffset: 2, as: UInt8.self) & lostFlag != 0
            && covered(base.load(fromByteOffset: 4, as: UInt32.self))
        guard lost, valid >= 2 else { return Int64(valid) }
        let estimate = Double(valid - 1) * 4_294_967_296.0 / (Double(largest) + 1)
        return max(Int64(valid), Int64(estimate.rounded()))
    }
}
