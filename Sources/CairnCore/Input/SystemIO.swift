import Glibc

/// Thin wrappers over the system calls the input layer uses.
///
/// Kept in one place so that EINTR handling and error wording are the same for every source.
enum SystemIO {
    /// read(2), retried on EINTR. Returns the byte count, 0 at end of file, or -1 with `errno` set.
    ///
    /// - Complexity: one system call (more only when interrupted).
    @inline(__always)
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        while true {
            let n = Glibc.read(fd, buffer, count)
            if n >= 0 || errno != EINTR { return n }
        }
    }

    /// strerror text, lowercased to match the diagnostic style ("no such file or directory").
    static func message(for code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text).lowercased()
    }
}
