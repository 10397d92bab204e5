import Glibc

/// The redo journal: one checkpoint, whole. Written as `journal.tmp`, fsynced, renamed over
/// `journal`; the rename is the commit point. Between checkpoints `journal` stays, and is
/// the source of truth for the manifest (the data files hold no header).
///
///     0    "CAIRNJ01" | version u32 | page size u32 | sequence u64 | manifest length u64 |
///          page count u64 | 24 zero bytes                                  (64 B header)
///     64   manifest (StateManifest), padded to 8
///          page records: file u32 (0 slots, 1 index, 2 arena) | checksum u32 | page u64 |
///                        the 4096 bytes of the page                        (× page count)
///     end  trailer u64: XXH64(record headers, seed: XXH64(header ‖ padded manifest, seed 0))
///
/// - Invariant: records are in file order, then page order; each page at most once.
/// - Invariant: a record's checksum equals the manifest's checksum for that page.
struct StateJournal {
    static let magic: [UInt8] = Array("CAIRNJ01".utf8)
    static let version: UInt32 = 1
    static let headerSize = 64
    static let recordHeaderSize = 16
    static let recordSize = recordHeaderSize + StateFileIO.pageSize

    static func header(sequence: UInt64, manifestLength: Int, pageCount: Int) -> [UInt8] {
        var w = StateByteWriter()
        w.append(magic)
        w.u32(version)
        w.u32(UInt32(StateFileIO.pageSize))
        w.u64(sequence)
        w.u64(manifestLength)
        w.u64(pageCount)
        w.append([UInt8](repeating: 0, count: headerSize - w.bytes.count))
        return w.bytes
    }

    static func padded(_ n: Int) -> Int { (n + 7) & ~7 }

    /// A journal read and checked: mapped, with its parsed manifest.
    struct Mapped {
        let base: UnsafeMutableRawPointer
        let length: Int
        let sequence: UInt64
        let manifest: StateManifest
        let pageCount: Int
        let recordsOffset: Int

        func record(_ i: Int) -> (file: Int, sum: UInt32, page: Int, bytes: UnsafeRawPointer) {
            let r = base + recordsOffset + i * StateJournal.recordSize
            return (Int(UInt32(littleEndian: r.loadUnaligned(as: UInt32.self))),
                    UInt32(littleEndian: r.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                    Int(truncatingIfNeeded: UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 8, as: UInt64.self))),
                    UnsafeRawPointer(r + StateJournal.recordHeaderSize))
        }

        func unmap() { munmap(base, length) }
    }

    /// Maps and checks `path`: size, magic, version, trailer, and every page record's checksum.
    static func read(_ path: String) throws(StateError) -> Mapped {
        let fd = try StateFileIO.open(path, O_RDONLY)
        defer { Glibc.close(fd) }
        let length = try StateFileIO.size(fd, path)
        guard length >= headerSize + 8 else { throw .corrupt(file: path, detail: "truncated journal (\(length) bytes)") }
        // SAFETY: a read-only private view of the whole file, unmapped by the caller via
        // `unmap()`; no one writes the journal while we hold the directory lock.
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .io(file: path, operation: "mmap", errno: errno)
        }
        do throws(StateError) {
            return try check(p, length: length, path: path)
        } catch {
            munmap(p, length)
            throw error
        }
    }

    private static func check(_ p: UnsafeMutableRawPointer, length: Int, path: String) throws(StateError) -> Mapped {
        guard Array(UnsafeRawBufferPointer(start: p, count: 8)) == magic else {
            throw .corrupt(file: path, detail: "bad magic (not a cairn state journal)")
        }
        let version = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == Self.version else {
            throw .corrupt(file: path, detail: "unsupported journal version \(version)")
        }
        let pageSize = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        guard pageSize == UInt32(StateFileIO.pageSize) else {
            throw .corrupt(file: path, detail: "journal page size \(pageSize), expected \(StateFileIO.pageSize)")
        }
        let sequence = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        let manifestLength = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        let pageCount = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        guard manifestLength < UInt64(length), pageCount < UInt64(length / recordSize + 1) else {
            throw .corrupt(file: path, detail: "journal header sizes exceed the file (\(length) bytes)")
        }
        let recordsOffset = headerSize + padded(Int(manifestLength))
        let expected = recordsOffset + Int(pageCount) * recordSize + 8
        guard expected == length else {
            throw .corrupt(file: path, detail: length < expected
                ? "truncated journal (\(length) bytes, expected \(expected))"
                : "journal has \(length - expected) bytes past its end")
        }
        var headers = [UInt8]()
        headers.reserveCapacity(Int(pageCount) * recordHeaderSize)
        for i in 0..<Int(pageCount) {
            headers.append(contentsOf: UnsafeRawBufferPointer(start: p + recordsOffset + i * recordSize, count: recordHeaderSize))
        }
        let seed = XXH64.hash(UnsafeRawBufferPointer(start: p, count: recordsOffset), seed: 0)
        let sum = headers.withUnsafeBytes { XXH64.hash($0, seed: seed) }
        let trailer = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self))
        guard sum == trailer else { throw .corrupt(file: path, detail: "checksum mismatch in journal header, manifest or record list") }
        let manifest = try StateManifest.parse(p + headerSize, count: Int(manifestLength), file: path)
        guard manifest.sequence == sequence else {
            throw .corrupt(file: path, detail: "journal sequence \(sequence) differs from its manifest's \(manifest.sequence)")
        }
        let mapped = Mapped(base: p, length: length, sequence: sequence, manifest: manifest,
                            pageCount: Int(pageCount), recordsOffset: recordsOffset)
        for i in 0..<Int(pageCount) {
            let r = mapped.record(i)
            guard r.file >= 0, r.file < 3, r.page >= 0, r.page < manifest.sums[r.file].count else {
                throw .corrupt(file: path, detail: "page record \(i) names no page of the state")
            }
            let actual = UInt32(truncatingIfNeeded: XXH64.hash(UnsafeRawBufferPointer(start: r.bytes, count: StateFileIO.pageSize), seed: 0))
            guard actual == r.sum, actual == manifest.sums[r.file][r.page] else {
                throw .corrupt(file: path, detail: "checksum mismatch in page record \(i) (\(StateStore.fileNames[r.file]) page \(r.page))")
            }
        }
        return mapped
    }
}
