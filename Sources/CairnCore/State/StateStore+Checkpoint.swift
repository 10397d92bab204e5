import Glibc

extension StateStore {
    /// Pages per pwrite while applying a checkpoint to the data files.
    static let applyPiece = 64

    /// Makes the current state and `meta` the directory's state, atomically: after a crash at
    /// any instant, the directory opens to either the previous checkpoint or this one, whole.
    ///
    /// 1. Checksum the dirty pages; serialize the manifest.
    /// 2. fsync data files that grew (their size must be durable before the journal names it).
    /// 3. Write `journal.tmp` (header, manifest, dirty page images, trailer); fsync it.
    /// 4. Rename it over `journal`; fsync the directory. This is the commit point.
    /// 5. pwrite the dirty pages into the data files. They are fsynced at step 2 of the next
    ///    checkpoint, not now: until the journal is replaced it can redo them, so the
    ///    checkpoint waits for one flush (the journal's), not two.
    /// 6. Drop the private copies of those pages (madvise), clear the dirty bits.
    ///
    /// Without a directory, only `meta` and the sequence change.
    ///
    /// - Complexity: O(dirty pages + data pages / 1024) (the manifest holds 4 B per page).
    public func checkpoint(meta newMeta: [UInt8]) throws(StateError) {
        let start = StateFileIO.now()
        guard let directory else {
            var dirty = 0
            for region in regions {
                dirty += region.dirtyPageCount
                region.clearDirty()
            }
            sequence += 1
            meta = newMeta
            lastCheckpointDirtyBytes = dirty * StateFileIO.pageSize
            lastCheckpointNanoseconds = StateFileIO.now() - start
            return
        }
        guard access == .write else {
            throw .io(file: directory, operation: "checkpoint (state opened for reading)", errno: EBADF)
        }
        try writeCheckpoint(directory: directory, sequence: sequence + 1, meta: newMeta)
        lastCheckpointNanoseconds = StateFileIO.now() - start
    }

    func writeCheckpoint(directory: String, sequence next: UInt64, meta newMeta: [UInt8]) throws(StateError) {
        // 1. Checksums of the pages that changed.
        var pages = 0
        for region in regions {
            try region.forEachDirtyRun { (first, count) throws(StateError) in
                for p in first..<first + count { region.sums[p] = region.computeSum(p) }
                pages += count
            }
        }
        let manifest = serializeManifest(sequence: next, meta: newMeta)

        // 2. The data files durable before the journal that would repair them is replaced:
        // the previous checkpoint's page writes (not fsynced then) and any growth since.
        for (i, region) in regions.enumerated() where region.size != syncedSizes[i] || unsyncedWrites[i] {
            try StateFileIO.sync(region.fd, region.path)
            syncedSizes[i] = region.size
            unsyncedWrites[i] = false
        }

        // 3. The journal, complete, under a temporary name.
        let temporary = "\(directory)/journal.tmp"
        let final = "\(directory)/journal"
        let fd = try StateFileIO.open(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        do throws(StateError) {
            if writeBuffer == nil { writeBuffer = .allocate(byteCount: StateJournalWriter.capacity, alignment: 4096) }
            var w = StateJournalWriter(fd: fd, path: temporary, buffer: writeBuffer!)
            let header = StateJournal.header(sequence: next, manifestLength: manifest.count, pageCount: pages)
            try w.append(header)
            try w.append(manifest)
            let padding = StateJournal.padded(manifest.count) - manifest.count
            try w.append([UInt8](repeating: 0, count: padding))
            let headerBytes = max(1, pages) * StateJournal.recordHeaderSize
            let recordHeaders = UnsafeMutableRawPointer.allocate(byteCount: headerBytes, alignment: 8)
            defer { recordHeaders.deallocate() }
            var k = 0
            for (f, region) in regions.enumerated() {
                try region.forEachDirtyRun { (first, count) throws(StateError) in
                    for p in first..<first + count {
                        let h = recordHeaders + k * StateJournal.recordHeaderSize
                        h.storeBytes(of: UInt32(f).littleEndian, as: UInt32.self)
                        h.storeBytes(of: region.sums[p].littleEndian, toByteOffset: 4, as: UInt32.self)
                        h.storeBytes(of: UInt64(p).littleEndian, toByteOffset: 8, as: UInt64.self)
                        k += 1
                        try w.append(h, StateJournal.recordHeaderSize)
                        try w.append(region.base + p * StateFileIO.pageSize, StateFileIO.pageSize)
                    }
                }
            }
            var prefix = header
            prefix.append(contentsOf: manifest)
            prefix.append(contentsOf: [UInt8](repeating: 0, count: padding))
            let seed = prefix.withUnsafeBytes { XXH64.hash($0, seed: 0) }
            var trailer = StateByteWriter()
            trailer.u64(XXH64.hash(UnsafeRawBufferPointer(start: recordHeaders, count: pages * StateJournal.recordHeaderSize), seed: seed))
            try w.append(trailer.bytes)
            try w.flush()
            try StateFileIO.sync(fd, temporary)
        } catch {
            Glibc.close(fd)
            unlink(temporary)
            throw error
        }
        Glibc.close(fd)
        try crash(at: .afterJournalWrite)

        // 4. Commit.
        try StateFileIO.rename(temporary, final)
        try StateFileIO.sync(dirFD, directory)
        sequence = next
        meta = newMeta
        try crash(at: .afterRename)

        // 5. Apply. Dirty bits stay set until the pages are in the data files, so a failure
        // here is repaired by reopening (the journal is replayed) or by the next checkpoint
        // (which journals these pages again).
        var written = 0
        for (i, region) in regions.enumerated() {
            try region.forEachDirtyRun { (first, count) throws(StateError) in
                var p = first
                while p < first + count {
                    let n = min(Self.applyPiece, first + count - p)
                    try StateFileIO.writeAll(region.fd, region.base + p * StateFileIO.pageSize, n * StateFileIO.pageSize,
                                             at: p * StateFileIO.pageSize, region.path)
                    p += n
                    written += n
                    unsyncedWrites[i] = true
                    if written * 2 >= pages { try crash(at: .afterHalfThePages) }
                }
            }
        }

        // 6. Private copies are now redundant with the page cache.
        for region in regions {
            try region.forEachDirtyRun { (first, count) throws(StateError) in region.release(first: first, count: count) }
            region.clearDirty()
        }
        lastCheckpointDirtyBytes = pages * StateFileIO.pageSize
    }

    @inline(__always)
    func crash(at point: CheckpointCrashPoint) throws(StateError) {
        #if DEBUG
        if crashPoint == point {
            throw .io(file: directory ?? "", operation: "simulated crash (\(point))", errno: 0)
        }
        #endif
    }
}
