import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered writes to standard error: diagnostics, warnings and the progress bar.
enum StandardError {
    static func emit(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(2, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 { if errno == EINTR { continue } else { return } }
                done += n
            }
        }
    }

    static var isTerminal: Bool { isatty(2) == 1 }
}

/// Reads a whole (small) file as UTF-8 text, e.g. a pipeline file.
struct FileReadError: Error { var reason: String }

func readTextFile(_ path: String) -> Result<String, FileReadError> {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return .failure(FileReadError(reason: systemMessage(errno))) }
    defer { close(fd) }
    return readText(fd: fd)
}

/// Replaces a file's text: written beside it, then renamed over it, so that a reader sees the
/// old text or the new, never a part.
func writeTextFile(_ path: String, _ text: String) -> Result<Void, FileReadError> {
    let temporary = path + ".cairn-new"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return .failure(FileReadError(reason: systemMessage(errno))) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            let why = systemMessage(errno)
            close(fd)
            unlink(temporary)
            return .failure(FileReadError(reason: why))
        }
        bytes = bytes.dropFirst(n)
    }
    var st = stat()
    if stat(path, &st) == 0 { fchmod(fd, st.st_mode & 0o7777) }
    guard close(fd) == 0, rename(temporary, path) == 0 else {
        let why = systemMessage(errno)
        unlink(temporary)
        return .failure(FileReadError(reason: why))
    }
    return .success(())
}

/// Reads an open descriptor to its end as UTF-8 text (invalid bytes become U+FFFD).
func readText(fd: Int32) -> Result<String, FileReadError> {
    var st = stat()
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return .failure(FileReadError(reason: "is a directory")) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return .failure(FileReadError(reason: systemMessage(errno))) }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return .success(String(decoding: bytes, as: UTF8.self))
}

extension InputError {
    /// The text after `cairn: error: ` for an input that failed; `written` names what was
    /// written before the failure ("records", "results").
    func commandLineMessage(written: String) -> String {
        switch kind {
        case .corrupt:
            let at = offset.map { " at byte \($0)" } ?? ""
            return "\(source): corrupt compressed input\(at): \(message); the \(written) before it were written"
        case .read:
            return "\(source): read error: \(message)"
        case .notFound, .permissionDenied, .isDirectory:
            return "cannot open '\(source)': \(message)"
        }
    }
}

/// The inputs as the engine takes them (nil for standard input: none given, or '-'), each
/// file checked before any is read, so that a typo in the last path fails at once (66).
func inputPaths(_ inputs: [String]) throws -> [String?] {
    let paths: [String?] = inputs.isEmpty ? [nil] : inputs.map { $0 == "-" ? nil : $0 }
    for path in paths {
        guard let path else { continue }
        var st = stat()
        if stat(path, &st) != 0 {
            StandardError.emit("cairn: error: cannot open '\(path)': \(systemMessage(errno))\n")
            throw ExitStatus.noInput.code
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            StandardError.emit("cairn: error: cannot open '\(path)': is a directory\n")
            throw ExitStatus.noInput.code
        }
        if access(path, R_OK) != 0 {
            StandardError.emit("cairn: error: cannot open '\(path)': \(systemMessage(errno))\n")
            throw ExitStatus.noInput.code
        }
    }
    return paths
}

/// The system's text for an errno value, lowercased as cairn's messages are
/// ("no such file or directory").
func systemMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "error \(code)" }
    return String(cString: text).lowercased()
}
