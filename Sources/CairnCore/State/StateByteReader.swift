/// Bounds-checked little-endian reader; running off the end is a `.corrupt` naming `file`.
struct StateByteReader {
    let base: UnsafeRawPointer
    let count: Int
    let file: String
    var at = 0

    init(_ base: UnsafeRawPointer, count: Int, file: String) {
        self.base = base
        self.count = count
        self.file = file
    }

    mutating func need(_ n: Int) throws(StateError) {
        guard n >= 0, n <= count - at else { throw .corrupt(file: file, detail: "manifest ends early at byte \(at)") }
    }

    mutating func u64() throws(StateError) -> UInt64 {
        try need(8)
        defer { at += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// A u64 that must fit `limit`.
    mutating func int(_ limit: Int = Int(Int32.max) * 1024, _ what: String) throws(StateError) -> Int {
        let value = try u64()
        guard value <= UInt64(limit) else { throw .corrupt(file: file, detail: "implausible \(what) \(value) in manifest") }
        return Int(value)
    }

    mutating func u32() throws(StateError) -> UInt32 {
        try need(4)
        defer { at += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }

    mutating func bytes(_ n: Int) throws(StateError) -> [UInt8] {
        try need(n)
        defer { at += n }
        return Array(UnsafeRawBufferPointer(start: base + at, count: n))
    }

    mutating func pad() throws(StateError) {
        let n = (8 - at % 8) % 8
        try need(n)
        at += n
    }
}
