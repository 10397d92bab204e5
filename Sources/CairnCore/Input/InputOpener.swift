import Glibc

/// Opens an input by path (or stdin) and picks the source by content, never by file name.
///
/// The first four bytes decide: the zstd frame magic `28 B5 2F FD`, or a skippable-frame magic
/// `50..5F 2A 4D 18` (0x184D2A50...0x184D2A5F little-endian), gives a `ZstdSource`; anything
/// else, including a file shorter than four bytes, is plain input returned as is. So:
/// - a 0-byte file is an empty plain input (no lines, no error), whatever its name;
/// - a gzip file or any other non-zstd data named `.zst` is read as plain bytes, and the
///   engine rejects its lines as invalid JSON/UTF-8; the input layer does not reject it.
public enum InputOpener {
    /// Opens `path` (`nil` or `-` means stdin) and returns a source positioned at its start.
    ///
    /// Stdin is fd 0 and is never closed. When the input is a FIFO (typically stdin), its pipe
    /// buffer is enlarged (F_SETPIPE_SZ, 1 MiB down to 64 KiB; failure is ignored) to cut
    /// context switches. Regular files get POSIX_FADV_SEQUENTIAL.
    ///
    /// - Parameter readSize: size of each read(2) of compressed input. Plain input is read
    ///   straight into the caller's buffer, in the caller's chunk size.
    /// - Throws: `.notFound`, `.permissionDenied`, `.isDirectory` (with the path), or `.read`.
    public static func open(_ path: String?, readSize: Int = 1 << 20) throws(InputError) -> ByteSource {
        let name: String
        let fd: Int32
        let ownsDescriptor: Bool
        if let path, path != "-" {
            name = path
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw openError(errno, name) }
            ownsDescriptor = true
        } else {
            name = "<stdin>"
            fd = 0
            ownsDescriptor = false
        }
        var info = stat()
        if fstat(fd, &info) != 0 {
            let code = errno
            if ownsDescriptor { _ = Glibc.close(fd) }
            throw openError(code, name)
        }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR {
            if ownsDescriptor { _ = Glibc.close(fd) }
            throw InputError(kind: .isDirectory, source: name, message: "is a directory")
        }
        var totalBytes: Int64?
        if type == S_IFREG {
            totalBytes = Int64(info.st_size)
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        } else if type == S_IFIFO {
            enlargePipe(fd)
        }

        // Sniff: read until 4 bytes or the end (a pipe may deliver fewer per read).
        var prefix = [UInt8](repeating: 0, count: 4)
        var have = 0
        while have < 4 {
            let n = prefix.withUnsafeMutableBytes { SystemIO.read(fd, $0.baseAddress! + have, 4 - have) }
            if n < 0 {
                let code = errno
                if ownsDescriptor { _ = Glibc.close(fd) }
                throw InputError(kind: code == EISDIR ? .isDirectory : .read, source: name, offset: 0,
                                 message: SystemIO.message(for: code))
            }
            if n == 0 { break }
            have += n
        }
        prefix.removeLast(4 - have)

        if isZstdMagic(prefix) {
            do {
                return try ZstdSource(fd: fd, name: name, totalBytes: totalBytes, prefix: prefix,
                                      readSize: readSize, ownsDescriptor: ownsDescriptor)
            } catch {
                if ownsDescriptor { _ = Glibc.close(fd) }
                throw error
            }
        }
        return FileSource(fd: fd, name: name, totalBytes: totalBytes, prefix: prefix,
                          ownsDescriptor: ownsDescriptor)
    }

    /// Whether `bytes` start with a zstd frame or skippable-frame magic number.
    static func isZstdMagic(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        if bytes[0] == 0x28 && bytes[1] == 0xB5 && bytes[2] == 0x2F && bytes[3] == 0xFD { return true }
        return bytes[0] & 0xF0 == 0x50 && bytes[1] == 0x2A && bytes[2] == 0x4D && bytes[3] == 0x18
    }

    private static func openError(_ code: Int32, _ name: String) -> InputError {
        let kind: InputError.Kind
        switch code {
        case ENOENT, ENOTDIR: kind = .notFound
        case EACCES, EPERM: kind = .permissionDenied
        case EISDIR: kind = .isDirectory
        default: kind = .read
        }
        return InputError(kind: kind, source: name, message: SystemIO.message(for: code))
    }

    /// Tries F_SETPIPE_SZ with 1 MiB, then halves down to 64 KiB; failure is harmless.
    private static func enlargePipe(_ fd: Int32) {
        // F_SETPIPE_SZ (Linux), not exported by Glibc's Swift overlay.
        let setPipeSize: Int32 = 1031
        var size: Int32 = 1 << 20
        while size >= 1 << 16 {
            if fcntl(fd, setPipeSize, size) >= 0 { return }
            size >>= 1
        }
    }
}
