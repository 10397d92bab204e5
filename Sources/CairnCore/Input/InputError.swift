/// Why an input could not be opened or read to its end.
///
/// The input layer reports; it never prints. The executable formats these like a compiler
/// diagnostic (`cairn: error: events.ndjson.zst: zstd: restored data doesn't match checksum`).
/// Messages are lowercase without a final period; libzstd's error names are lowercased.
public struct InputError: Error, Sendable, Equatable {
    /// The class of failure, for exit codes and tests.
    public enum Kind: Sendable, Equatable {
        /// The path does not exist (ENOENT, ENOTDIR).
        case notFound
        /// The path exists but may not be opened for reading (EACCES, EPERM).
        case permissionDenied
        /// The path names a directory.
        case isDirectory
        /// read(2) or another system call failed while reading.
        case read
        /// The compressed stream is invalid, truncated, or needs more than the decoder allows.
        case corrupt
    }

    public var kind: Kind
    /// Display name of the input: the path as given, or `<stdin>`.
    public var source: String
    /// For `.corrupt`: the number of compressed bytes libzstd had consumed when it reported
    /// the error. That is the start of the failing frame when libzstd decoded the frame in one
    /// pass (a frame wholly in one read), else at or just past the failing block; for a
    /// truncated stream it is the compressed size. For `.read`: the decompressed (or plain)
    /// offset reached. `nil` for open errors.
    public var offset: Int64?
    /// Lowercase, no final period, e.g. `truncated zstd frame`.
    public var message: String

    public init(kind: Kind, source: String, offset: Int64? = nil, message: String) {
        self.kind = kind
        self.source = source
        self.offset = offset
        self.message = message
    }
}
