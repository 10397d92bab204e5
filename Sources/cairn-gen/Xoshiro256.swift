/// SplitMix64: a 64-bit mixing generator, used to seed ``Xoshiro256`` and to derive
/// stable per-customer attributes from the seed.
///
/// Defined by Steele, Lea and Flood ("Fast splittable pseudorandom number generators",
/// 2014); integer arithmetic only, so the sequence is the same on every machine.
struct SplitMix64 {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    /// The next 64-bit value.
    ///
    /// - Complexity: O(1), no allocation.
    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 finaliser: a bijective avalanche of `z`.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman and Vigna, 2018): the generator behind every random choice
/// that cairn-gen makes.
///
/// cairn-gen promises byte-identical output for the same arguments on any machine, so it
/// uses neither the system generator nor floating point: choices are integers drawn with
/// ``below(_:)`` and compared against per-mille thresholds.
struct Xoshiro256 {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Seeds the four state words from SplitMix64, as the authors recommend.
    init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// The next 64-bit value.
    ///
    /// - Complexity: O(1), no allocation.
    @inline(__always)
    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    /// A value in `0..<bound`, by Lemire's multiply-high reduction (bias below 2⁻³² for
    /// the small bounds used here, and identical everywhere).
    ///
    /// - Precondition: `bound > 0`.
    /// - Complexity: O(1), no allocation.
    @inline(__always)
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A per-mille draw: `0..<1000`.
    @inline(__always)
    mutating func perMille() -> Int { below(1000) }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }
}
