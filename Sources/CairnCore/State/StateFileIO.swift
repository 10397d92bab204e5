import Glibc

/// The system calls the state store makes, each retried on EINTR and turned into `StateError`.
///
/// Kept apart from the store so that error wording (file name + operation + errno) is uniform.
enum StateFileIO {
    static let pageSize = 4096

    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(StateError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw .io(file: path, operation: "open", errno: errno) }
        }
    }

    /// Size of an open file.
    static func size(_ fd: Int32, _ path: String) throws(StateError) -> Int {
        var st = stat()
        if fstat(fd, &st) != 0 { throw .io(file: path, operation: "fstat", errno: errno) }
        return Int(st.st_size)
    }

    /// Whether `path` exists (any type).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    static func truncate(_ fd: Int32, _ size: Int, _ path: String) throws(StateError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno != EINTR { throw .io(file: path, operation: "ftruncate", errno: errno) }
        }
    }

    /// pwrite(2) of all `count` bytes at `offset`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, at offset: Int,
                         _ path: String) throws(StateError) {
        var done = 0
        while done < count {
            let n = pwrite(fd, bytes + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(file: path, operation: "write", errno: errno)
            }
            done += n
        }
    }

    /// pread(2) of up to `count` bytes at `offset`; fewer only at end of file.
    static func readAll(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int, at offset: Int,
                        _ path: String) throws(StateError) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, bytes + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(file: path, operation: "read", errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func sync(_ fd: Int32, _ path: String) throws(StateError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw .io(file: path, operation: "fsync", errno: errno) }
        }
    }

    static func rename(_ from: String, _ to: String) throws(StateError) {
        if Glibc.rename(from, to) != 0 { throw .io(file: to, operation: "rename", errno: errno) }
    }

    /// Monotonic clock in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Anonymous, zero-filled, lazily committed memory that never moves: bookkeeping tables
    /// sized for the largest store (dirty bitmaps, page checksums, the index directory), so
    /// that growing them on the hot path neither allocates nor copies.
    static func reserveZeroed(_ bytes: Int) -> UnsafeMutableRawPointer {
        // SAFETY: a fresh private anonymous mapping; MAP_NORESERVE so that untouched pages
        // cost neither memory nor commit charge. Freed with munmap by the owner's deinit.
        let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("cairn: cannot reserve \(bytes) bytes of address space (errno \(errno))")
        }
        return p
    }
}
