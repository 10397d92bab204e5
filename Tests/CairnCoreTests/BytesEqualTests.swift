import Testing
@testable import CairnCore

struct BytesEqualTests {
    @Test("bytesEqual agrees with comparing the arrays, for every length to 40 and a difference at every position")
    func agreesWithArrays() {
        var generator = SplitMix(seed: 11)
        for count in 0...40 {
            let a = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            a.withUnsafeBytes { pa in
                // Equal, at an offset that is not aligned.
                let copy = [0xEE] + a
                copy.withUnsafeBytes { pc in
                    #expect(bytesEqual(pa.baseAddress ?? UnsafeRawPointer(pc.baseAddress!), pc.baseAddress! + 1, count: count))
                }
                for position in 0..<count {
                    var b = a
                    b[position] ^= 0x80
                    b.withUnsafeBytes { pb in
                        #expect(!bytesEqual(pa.baseAddress!, pb.baseAddress!, count: count), "count \(count) position \(position)")
                    }
                }
            }
        }
    }
}
