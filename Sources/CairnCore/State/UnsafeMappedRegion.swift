import Glibc

/// One growable run of bytes at a fixed address: a data file mapped privately, or anonymous
/// memory, inside a large reservation of address space.
///
///     base                      base+size                         base+reserved
///     | file pages, MAP_PRIVATE | PROT_NONE, MAP_NORESERVE ...... |
///
/// At creation the whole reservation is mapped `PROT_NONE`; `grow(to:)` extends the file
/// (`ftruncate`) and maps the new range over the reservation with `MAP_FIXED`, so bytes never
/// move: pointers into the region stay valid for the region's lifetime. Writes go to private
/// copies of the pages (the file changes only through `StateStore.checkpoint`); `markDirty`
/// records which 4 KiB pages a checkpoint must write, and `sums` keeps each page's checksum
/// (low 32 bits of XXH64) as of the last checkpoint.
///
/// - Invariant: `size` is a multiple of `granule` (64 KiB) and at most `reserved`.
/// - Invariant: `dirty` bit p is set iff page p changed since the last checkpoint (or may have).
/// - Safety: pointers into the region are valid until the region is deinitialized.
final class UnsafeMappedRegion {
    static let granule = 64 * 1024
    static let pageSize = StateFileIO.pageSize
    /// The smallest reservation taken when the requested one cannot be had.
    static let minimumReservation = 1 << 30

    /// File name for messages, e.g. `st/slots.cairn` (or `slots.cairn` in memory-only mode).
    let path: String
    let name: String
    /// The data file, or -1 for anonymous memory.
    let fd: Int32
    /// Whether growth may extend the file (write access); otherwise new bytes are anonymous.
    let fileGrows: Bool
    let base: UnsafeMutableRawPointer
    let reserved: Int
    private(set) var size = 0
    /// Bytes of the file mapped at `base` (the rest of `size`, if any, is anonymous).
    private(set) var fileMapped = 0
    /// One bit per page.
    let dirty: UnsafeMutablePointer<UInt64>
    /// One checksum per page, valid for clean pages and as of the last checkpoint.
    let sums: UnsafeMutablePointer<UInt32>
    private let maxPages: Int

    init(path: String, name: String, fd: Int32, fileGrows: Bool, reserved: Int) {
        self.path = path
        self.name = name
        self.fd = fd
        self.fileGrows = fileGrows
        // SAFETY: an inaccessible reservation that only this region maps into (MAP_FIXED
        // within [base, base+reserved)); unmapped whole in deinit. Where the address space is
        // limited (ulimit -v, valgrind's 128 GiB), a smaller reservation is taken: the region
        // then reports `tooLarge` sooner instead of the run failing at start.
        var want = reserved
        var p = mmap(nil, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        while p == UnsafeMutableRawPointer(bitPattern: -1), want > Self.minimumReservation {
            want /= 2
            p = mmap(nil, want, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        }
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("cairn: cannot reserve \(want) bytes of address space (errno \(errno))")
        }
        self.reserved = want
        maxPages = want / Self.pageSize
        base = p
        dirty = StateFileIO.reserveZeroed((maxPages + 63) / 64 * 8).bindMemory(to: UInt64.self, capacity: (maxPages + 63) / 64)
        sums = StateFileIO.reserveZeroed(maxPages * 4).bindMemory(to: UInt32.self, capacity: maxPages)
    }

    deinit {
        munmap(base, reserved)
        munmap(UnsafeMutableRawPointer(dirty), (maxPages + 63) / 64 * 8)
        munmap(UnsafeMutableRawPointer(sums), maxPages * 4)
    }

    var pageCount: Int { size / Self.pageSize }

    /// The checksum of a page of zeros.
    static let zeroPageSum: UInt32 = {
        let zeros = [UInt8](repeating: 0, count: pageSize)
        return zeros.withUnsafeBytes { UInt32(truncatingIfNeeded: XXH64.hash($0, seed: 0)) }
    }()

    /// Maps the first `bytes` of the file (at open).
    func mapFile(_ bytes: Int) throws(StateError) {
        precondition(size == 0 && bytes % Self.granule == 0)
        guard bytes > 0 else { return }
        guard bytes <= reserved else { throw .tooLarge("\(path): \(bytes) bytes exceed the reservation of \(reserved)") }
        // SAFETY: [base, base+bytes) lies in our reservation; the file has at least `bytes`
        // bytes (checked by the caller), so no access past end of file.
        let p = mmap(base, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0)
        if p == UnsafeMutableRawPointer(bitPattern: -1) { throw .io(file: path, operation: "mmap", errno: errno) }
        size = bytes
        fileMapped = bytes
    }

    /// Extends the region to at least `needed` bytes, by a chunk proportional to its size
    /// (1/32, from 64 KiB to 8 MiB) so that a store of millions grows in a few hundred
    /// mappings, and file size over used size stays small. New bytes are zero.
    ///
    /// - Complexity: one ftruncate and one mmap; nothing is copied or rehashed.
    func grow(to needed: Int) throws(StateError) {
        guard needed > size else { return }
        var target = max(needed, size + min(max(size / 32, Self.granule), 8 << 20))
        target = (target + Self.granule - 1) / Self.granule * Self.granule
        if target > reserved {
            guard needed <= reserved else {
                throw .tooLarge("\(path): the state region is full (\(reserved) bytes)")
            }
            target = reserved
        }
        let start = base + size
        let count = target - size
        let mapped: UnsafeMutableRawPointer?
        if fd >= 0 && fileGrows {
            try StateFileIO.truncate(fd, target, path)
            // SAFETY: within our reservation; the file was just extended to cover it.
            mapped = mmap(start, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, off_t(size))
            fileMapped = target
        } else {
            // SAFETY: within our reservation; anonymous zero pages.
            mapped = mmap(start, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        }
        if mapped == UnsafeMutableRawPointer(bitPattern: -1) { throw .io(file: path, operation: "mmap", errno: errno) }
        // The new pages are zero in memory and in the file (ftruncate fills with zeros), so
        // they are clean: a checkpoint journals only pages written since.
        let zero = Self.zeroPageSum
        for page in size / Self.pageSize..<target / Self.pageSize { sums[page] = zero }
        size = target
    }

    /// Marks the pages covering `[offset, offset+count)` dirty.
    ///
    /// - Complexity: O(pages touched); no allocation.
    @inline(__always)
    func markDirty(offset: Int, count: Int) {
        guard count > 0 else { return }
        var page = offset >> 12
        let last = (offset + count - 1) >> 12
        while page <= last {
            dirty[page >> 6] |= 1 << UInt64(page & 63)
            page += 1
        }
    }

    @inline(__always)
    func isDirty(_ page: Int) -> Bool { dirty[page >> 6] & (1 << UInt64(page & 63)) != 0 }

    /// Calls `body` with each maximal run of dirty pages, in ascending order.
    func forEachDirtyRun(_ body: (_ first: Int, _ count: Int) throws(StateError) -> Void) throws(StateError) {
        let pages = pageCount
        var page = 0
        while page < pages {
            let word = dirty[page >> 6] >> UInt64(page & 63)
            if word == 0 {
                page = (page | 63) + 1
                continue
            }
            page += word.trailingZeroBitCount
            guard page < pages else { break }
            let first = page
            while page < pages && isDirty(page) { page += 1 }
            try body(first, page - first)
        }
    }

    var dirtyPageCount: Int {
        var n = 0
        for w in 0..<(pageCount + 63) / 64 { n += dirty[w].nonzeroBitCount }
        return n
    }

    func clearDirty() {
        let words = (pageCount + 63) / 64
        if words > 0 { (dirty).update(repeating: 0, count: words) }
    }

    /// The checksum of page `page` as it is in memory now.
    @inline(__always)
    func computeSum(_ page: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: XXH64.hash(UnsafeRawBufferPointer(start: base + page * Self.pageSize, count: Self.pageSize), seed: 0))
    }

    /// Drops private copies of pages `[first, first+count)` so they are read back from the
    /// file (after a checkpoint wrote them there), keeping RSS to what is used.
    func release(first: Int, count: Int) {
        guard fd >= 0, (first + count) * Self.pageSize <= fileMapped else { return }
        // SAFETY: the range is file-backed and the file holds the same bytes (just written).
        _ = madvise(base + first * Self.pageSize, count * Self.pageSize, MADV_DONTNEED)
    }
}
