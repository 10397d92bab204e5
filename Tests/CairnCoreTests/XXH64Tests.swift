import Testing
@testable import CairnCore

/// Reference digests from the `xxhash` Python package (xxhash.xxh64_intdigest).
struct XXH64Tests {
    static let vectors: [([UInt8], UInt64, UInt64)] = [
        ([], 0, 0xEF46_DB37_51D8_E999),
        (Array("a".utf8), 0, 0xD24E_C4F1_A98C_6E5B),
        (Array("abc".utf8), 0, 0x44BC_2CF5_AD77_0999),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0, 0x0B24_2D36_1FDA_71BC),
        (Array(0..<100), 0, 0x6AC1_E580_3216_6597),
        (Array("abc".utf8), 1, 0xBEA9_CA81_9932_8908),
        (Array(0..<37), 0x9E37_79B1_85EB_CA87, 0x938D_1DB9_1225_BF4D),
    ]

    @Test("digests match the reference implementation", arguments: 0..<vectors.count)
    func reference(_ i: Int) {
        let (bytes, seed, digest) = Self.vectors[i]
        #expect(bytes.withUnsafeBytes { XXH64.hash($0, seed: seed) } == digest)
    }
}
