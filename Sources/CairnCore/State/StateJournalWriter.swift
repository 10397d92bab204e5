import Glibc

/// Buffered sequential writer of the journal: large write(2)s, no per-page system call.
struct StateJournalWriter {
    static let capacity = 1 << 20
    let fd: Int32
    let path: String
    let buffer: UnsafeMutableRawPointer
    var fill = 0
    var offset = 0

    mutating func append(_ bytes: UnsafeRawPointer, _ count: Int) throws(StateError) {
        var done = 0
        while done < count {
            if fill == Self.capacity { try flush() }
            let n = min(count - done, Self.capacity - fill)
            (buffer + fill).copyMemory(from: bytes + done, byteCount: n)
            fill += n
            done += n
        }
    }

    mutating func append(_ bytes: [UInt8]) throws(StateError) {
        let failure: StateError? = bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> StateError? in
            guard raw.count > 0 else { return nil }
            do throws(StateError) { try append(raw.baseAddress!, raw.count) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    mutating func flush() throws(StateError) {
        try StateFileIO.writeAll(fd, buffer, fill, at: offset, path)
        offset += fill
        fill = 0
    }
}
