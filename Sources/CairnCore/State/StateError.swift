import Glibc

/// Why the state store could not open, grow, or checkpoint.
///
/// The store reports; it never prints. `description` is one lowercase line without a final
/// period that names the file, e.g. `st/slots.cairn: checksum mismatch in page 12`.
public enum StateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Another process holds the directory's lock (`DIR/lock`): a writer, or for a writer, a
    /// reader. `pid` is the holder's process id when the lock file names one.
    case busy(directory: String, pid: Int32?)
    /// The directory holds state of another layout; both layout descriptions are given.
    case layoutChanged(directory: String, stored: [UInt8], current: [UInt8])
    /// Bad magic, version or checksum, a truncated file, or inconsistent sizes.
    case corrupt(file: String, detail: String)
    /// A system call failed.
    case io(file: String, operation: String, errno: Int32)
    /// A request beyond the store's limits (a key longer than `StateStore.maxKeyLength`, an
    /// arena block beyond `StateStore.maxAllocation`, a region beyond its reservation).
    case tooLarge(String)

    public var description: String {
        switch self {
        case let .busy(directory, pid):
            if let pid { return "\(directory): state is locked by another process (pid \(pid))" }
            return "\(directory): state is locked by another process"
        case let .layoutChanged(directory, _, _):
            return "\(directory): state layout changed since the state was written"
        case let .corrupt(file, detail):
            return "\(file): \(detail)"
        case let .io(file, operation, code):
            return "\(file): \(operation): \(SystemIO.message(for: code))"
        case let .tooLarge(what):
            return what
        }
    }
}
