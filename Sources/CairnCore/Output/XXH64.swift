/// XXH64, the 64-bit xxHash of Yann Collet: fast, well distributed, and specified, so that
/// record ids can be recomputed by anyone (`python -c 'import xxhash; ...'`).
///
/// - Complexity: O(n), about 8 bytes per cycle; no allocation.
public enum XXH64 {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always)
    static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var acc = acc &+ input &* p2
        acc = (acc << 31) | (acc >> 33)
        return acc &* p1
    }

    @inline(__always)
    static func merge(_ acc: UInt64, _ value: UInt64) -> UInt64 {
        let acc = acc ^ round(0, value)
        return acc &* p1 &+ p4
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }

    /// The XXH64 digest of `bytes` with `seed`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let n = bytes.count
        guard let base = bytes.baseAddress else { return avalanche(seed &+ p5) }
        var p = 0
        var h: UInt64
        @inline(__always) func read64(_ at: Int) -> UInt64 {
            UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
        }
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while p + 32 <= n {
                v1 = round(v1, read64(p))
                v2 = round(v2, read64(p + 8))
                v3 = round(v3, read64(p + 16))
                v4 = round(v4, read64(p + 24))
                p += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(n)
        while p + 8 <= n {
            h ^= round(0, read64(p))
            h = rotl(h, 27) &* p1 &+ p4
            p += 8
        }
        if p + 4 <= n {
            let k = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
            h ^= k &* p1
            h = rotl(h, 23) &* p2 &+ p3
            p += 4
        }
        while p < n {
            h ^= UInt64(base.load(fromByteOffset: p, as: UInt8.self)) &* p5
            h = rotl(h, 11) &* p1
            p += 1
        }
        return avalanche(h)
    }

    @inline(__always)
    static func avalanche(_ h: UInt64) -> UInt64 {
        var h = h
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }
}
