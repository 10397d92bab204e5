import Testing
@testable import CairnCore

struct ByteBufferTests {
    @Test("ByteBuffer holds what an array holds after the same appends, truncations and resets, across growth")
    func matchesArrayModel() {
        var generator = SplitMix(seed: 5)
        let buffer = ByteBuffer(capacity: 16)
        var model: [UInt8] = []
        for step in 0..<4000 {
            switch generator.next() % 8 {
            case 0:
                let n = Int(generator.next() % 70)
                let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let start = bytes.withUnsafeBytes { buffer.append($0) }
                #expect(Int(start) == model.count)
                model += bytes
            case 1:
                let byte = UInt8(truncatingIfNeeded: generator.next())
                buffer.append(byte)
                model.append(byte)
            case 2:
                // A one-character literal may be stored as a scalar rather than a pointer.
                buffer.append("}" as StaticString)
                model += Array("}".utf8)
            case 3:
                buffer.append(",\"kind\":\"é\"" as StaticString)
                model += Array(",\"kind\":\"é\"".utf8)
            case 4:
                let bytes = Array("abc".utf8)
                buffer.append(bytes)
                model += bytes
            case 5:
                let n = Int(generator.next() % 40)
                let at = buffer.extend(by: n)
                for k in 0..<n { at.storeBytes(of: UInt8(k), toByteOffset: k, as: UInt8.self) }
                model += (0..<n).map { UInt8($0) }
            case 6:
                let keep = model.isEmpty ? 0 : Int(generator.next() % UInt64(model.count + 1))
                buffer.truncate(to: keep)
                model.removeLast(model.count - keep)
            default:
                if generator.next() % 10 == 0 {
                    buffer.reset()
                    model.removeAll()
                }
            }
            #expect(buffer.count == model.count, "step \(step)")
            #expect(Array(buffer.bytes) == model, "step \(step)")
            if model.count >= 3 {
                #expect(Array(buffer.bytes(in: 1..<3)) == Array(model[1..<3]), "step \(step)")
            }
        }
    }

    @Test("reserve keeps the bytes and makes room without changing the count")
    func reserveKeepsBytes() {
        let buffer = ByteBuffer(capacity: 16)
        buffer.append("0123456789" as StaticString)
        buffer.reserve(1 << 20)
        #expect(buffer.count == 10)
        #expect(Array(buffer.bytes) == Array("0123456789".utf8))
        buffer.truncate(to: 40)
        #expect(buffer.count == 10)
    }
}
