import Glibc

extension StateStore {
    /// Opens (or creates) the state in `directory`, or an anonymous store without one.
    ///
    /// - `.write` takes `flock(LOCK_EX|LOCK_NB)` on `DIR/lock` (and writes its pid there):
    ///   one writer per directory, and no writer while readers hold the lock. Creates the
    ///   directory and an empty store (checkpoint 0) when it holds no journal and no data.
    ///   Removes a leftover `journal.tmp` (an unfinished checkpoint), replays the journal's
    ///   pages that the data files lack, and cuts growth that no checkpoint committed.
    /// - `.read` takes `LOCK_SH|LOCK_NB`, so it fails with `.busy` while a writer runs (and
    ///   a writer fails while a reader holds it). It changes no file: journal pages missing
    ///   from the data files are laid over the private mapping. `layout` may be nil (taken
    ///   from the files); the store may be changed in memory but not checkpointed.
    ///
    /// Every page of every data file is checked against its checksum (one streaming pass).
    ///
    /// - Parameter layout: nil only for `.read`; a different fingerprint or payload size
    ///   than the stored one throws `.layoutChanged`.
    public static func open(directory: String?, layout: StoreLayout?, access: Access) throws(StateError) -> StateStore {
        guard let directory else {
            guard let layout else { preconditionFailure("a memory-only state store needs a layout") }
            precondition(layout.payloadSize >= 0 && layout.payloadSize % 8 == 0, "payload size must be a multiple of 8")
            let store = StateStore(directory: nil, layout: layout, access: .write, fds: [-1, -1, -1], lockFD: -1, dirFD: -1)
            try store.initializeEmpty()
            return store
        }
        if let layout {
            precondition(layout.payloadSize >= 0 && layout.payloadSize % 8 == 0, "payload size must be a multiple of 8")
        } else {
            precondition(access == .read, "opening state for writing needs a layout")
        }
        if access == .write && !StateFileIO.exists(directory) && mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw .io(file: directory, operation: "mkdir", errno: errno)
        }
        var fds: [Int32] = []
        var lockFD = try lock(directory, access)
        var dirFD: Int32 = -1
        do throws(StateError) {
            dirFD = try StateFileIO.open(directory, O_RDONLY | O_DIRECTORY)
            let journalPath = "\(directory)/journal"
            let paths = fileNames.map { "\(directory)/\($0)" }
            if access == .write { unlink("\(directory)/journal.tmp") }

            if !StateFileIO.exists(journalPath) {
                // No checkpoint yet: a new store, unless data files hold something (a store
                // killed while being created has only zero bytes: growth, no data).
                for path in paths where StateFileIO.exists(path) {
                    guard try Self.isZero(path) else {
                        throw .corrupt(file: journalPath, detail: "missing journal (the data files are not empty)")
                    }
                }
                guard access == .write, let layout else {
                    throw .io(file: journalPath, operation: "open", errno: ENOENT)
                }
                for path in paths { fds.append(try StateFileIO.open(path, O_RDWR | O_CREAT | O_TRUNC)) }
                let store = StateStore(directory: directory, layout: layout, access: access, fds: fds, lockFD: lockFD, dirFD: dirFD)
                (fds, lockFD, dirFD) = ([], -1, -1)  // the store owns them now
                try store.initializeEmpty()
                // Checkpoint 0: from here on, a directory without a journal is damaged.
                try store.writeCheckpoint(directory: directory, sequence: 0, meta: [])
                return store
            }

            let journal = try StateJournal.read(journalPath)
            defer { journal.unmap() }
            let m = journal.manifest
            let stored = StoreLayout(payloadSize: m.payloadSize, fingerprint: m.fingerprint, description: m.description)
            if let layout, layout.fingerprint != stored.fingerprint || layout.payloadSize != stored.payloadSize {
                throw .layoutChanged(directory: directory, stored: stored.description, current: layout.description)
            }
            for (i, path) in paths.enumerated() {
                let fd = try StateFileIO.open(path, access == .write ? O_RDWR : O_RDONLY)
                fds.append(fd)
                let size = try StateFileIO.size(fd, path)
                if size < m.fileSizes[i] {
                    throw .corrupt(file: path, detail: "truncated (\(size) bytes, the checkpoint has \(m.fileSizes[i]))")
                }
                // Growth after the last checkpoint committed nothing: cut it.
                if size > m.fileSizes[i] && access == .write { try StateFileIO.truncate(fd, m.fileSizes[i], path) }
            }
            let store = StateStore(directory: directory, layout: layout ?? stored, access: access, fds: fds, lockFD: lockFD, dirFD: dirFD)
            (fds, lockFD, dirFD) = ([], -1, -1)  // the store owns them now
            for (i, region) in store.regions.enumerated() {
                try region.mapFile(m.fileSizes[i])
                store.syncedSizes[i] = m.fileSizes[i]
            }
            try store.restore(m, file: journalPath)
            try store.replay(journal)
            try store.verify()
            return store
        } catch {
            for fd in fds { Glibc.close(fd) }
            if dirFD >= 0 { Glibc.close(dirFD) }
            if lockFD >= 0 {
                if access == .write { _ = ftruncate(lockFD, 0) }
                Glibc.close(lockFD)
            }
            throw error
        }
    }

    /// Whether the file holds only zero bytes (or none).
    static func isZero(_ path: String) throws(StateError) -> Bool {
        let fd = try StateFileIO.open(path, O_RDONLY)
        defer { Glibc.close(fd) }
        let chunk = 1 << 16
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 8)
        defer { buffer.deallocate() }
        var offset = 0
        while true {
            let n = try StateFileIO.readAll(fd, buffer, chunk, at: offset, path)
            if n == 0 { return true }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
            if bytes.contains(where: { $0 != 0 }) { return false }
            offset += n
        }
    }

    /// Takes the directory lock, or throws `.busy` naming the holder's pid (after 250 ms).
    static func lock(_ directory: String, _ access: Access) throws(StateError) -> Int32 {
        let path = "\(directory)/lock"
        let fd = try StateFileIO.open(path, access == .write ? O_RDWR | O_CREAT : O_RDONLY)
        // A lock released a moment ago can still be held for a few milliseconds: flock
        // belongs to the open file description, which a child between fork and exec shares
        // (any process that spawns another while it has a store open). So wait up to 250 ms
        // before calling the directory busy.
        var attempts = 0
        while flock(fd, (access == .write ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EWOULDBLOCK && attempts < 25 {
                attempts += 1
                usleep(10_000)
                continue
            }
            guard code == EWOULDBLOCK else {
                Glibc.close(fd)
                throw .io(file: path, operation: "flock", errno: code)
            }
            var text = [UInt8](repeating: 0, count: 32)
            let n = text.withUnsafeMutableBytes { raw in max(0, pread(fd, raw.baseAddress!, raw.count, 0)) }
            Glibc.close(fd)
            let digits = text[..<n].prefix { $0 >= 0x30 && $0 <= 0x39 }
            throw .busy(directory: directory, pid: Int32(String(decoding: digits, as: UTF8.self)))
        }
        if access == .write {
            let text = Array("\(getpid())\n".utf8)
            do throws(StateError) {
                try StateFileIO.truncate(fd, 0, path)
                let failure: StateError? = text.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> StateError? in
                    do throws(StateError) { try StateFileIO.writeAll(fd, raw.baseAddress!, raw.count, at: 0, path) } catch { return error }
                    return nil
                }
                if let failure { throw failure }
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        return fd
    }

    /// Lays the journal's pages over the data: for `.write`, pwrites those the files lack (a
    /// checkpoint interrupted after its commit) and fsyncs; for `.read`, copies them into the
    /// private mapping. Idempotent.
    func replay(_ journal: StateJournal.Mapped) throws(StateError) {
        var touched = [false, false, false]
        for i in 0..<journal.pageCount {
            let r = journal.record(i)
            let region = regions[r.file]
            let target = region.base + r.page * StateFileIO.pageSize
            if memcmp(target, r.bytes, StateFileIO.pageSize) == 0 { continue }
            if access == .write {
                try StateFileIO.writeAll(region.fd, r.bytes, StateFileIO.pageSize, at: r.page * StateFileIO.pageSize, region.path)
                region.release(first: r.page, count: 1)
                touched[r.file] = true
            } else {
                target.copyMemory(from: r.bytes, byteCount: StateFileIO.pageSize)
            }
        }
        for (i, region) in regions.enumerated() where touched[i] { try StateFileIO.sync(region.fd, region.path) }
    }

    /// Checks every page against the manifest's checksum, then rebuilds segment fill counts.
    func verify() throws(StateError) {
        for region in regions {
            for p in 0..<region.pageCount where region.computeSum(p) != region.sums[p] {
                throw .corrupt(file: region.path, detail: "checksum mismatch in page \(p)")
            }
        }
        for s in 0..<segmentCount {
            let (_, slotColumn) = segment(s)
            var n = 0
            for i in 0..<StateStore.segmentEntries where slotColumn[i] != 0 {
                guard Int(slotColumn[i]) <= slotHigh else {
                    throw .corrupt(file: index.path, detail: "segment \(s) names slot beyond the slot file")
                }
                n += 1
            }
            guard n < StateStore.segmentEntries else { throw .corrupt(file: index.path, detail: "segment \(s) is full") }
            fills[s] = UInt16(n)
        }
    }
}
