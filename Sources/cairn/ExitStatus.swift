import ArgumentParser

/// The exit statuses of cairn, after sysexits(3).
enum ExitStatus: Int32 {
    case ok = 0
    /// `cairn diff`: the decisions differ; `cairn test`: a test failed.
    case failure = 1
    case usage = 64
    case badData = 65
    case noInput = 66
    case software = 70
    case ioError = 74
    case tempFail = 75
    case config = 78

    var code: ExitCode { ExitCode(rawValue) }

    /// The exit statuses of `cairn run`, for its `--help` and the root command's.
    static let helpText = helpText([
        (.ok, """
            success, also when bad lines or late events were skipped (they
            are reported on stderr and counted) and when a reader such as `head`
            closed the output early
            """),
        (.usage, "usage error: unknown option, missing argument"),
        (.badData, "a bad input line or a late event under --on-error fail"),
        (.noInput, "an input file or the pipeline file cannot be opened"),
        (.software, "internal error (a bug: please report it)"),
        (.ioError, """
            I/O error: a corrupt or truncated .zst input, a read or write error,
            a damaged state directory (a checksum mismatch, a truncated file)
            """),
        (.tempFail, "the state directory is in use by another cairn process"),
        (.config, """
            the pipeline file has errors (all are reported, compiler-style), or
            the state directory keeps another profile layout than the pipeline's
            """),
    ])

    /// An "Exit status:" section for `--help`: each code and what it means for one command.
    static func helpText(_ entries: [(ExitStatus, String)]) -> String {
        var out = "Exit status:"
        for (status, meaning) in entries {
            let code = "\(status.rawValue)"
            let lines = meaning.split(separator: "\n", omittingEmptySubsequences: false)
            out += "\n  " + code + String(repeating: " ", count: max(1, 4 - code.count)) + lines[0]
            for more in lines.dropFirst() { out += "\n      " + more }
        }
        return out
    }
}
