import ArgumentParser

/// The exit statuses of cairn, after sysexits(3).
enum ExitStatus: Int32 {
    case ok = 0
    case usage = 64
    case badData = 65
    case noInput = 66
    case software = 70
    case ioError = 74
    case config = 78

    var code: ExitCode { ExitCode(rawValue) }

    static let helpText = """
        Exit status:
          0   success, also when bad lines were skipped (they are reported on
              stderr and counted) and when a reader such as `head` closed the
              output early
          64  usage error: unknown option, missing argument
          65  a bad input line under --on-error fail
          66  an input file or the pipeline file cannot be opened
          70  internal error (a bug: please report it)
          74  I/O error: a corrupt or truncated .zst input, a read or write error
          78  the pipeline file has errors (all are reported, compiler-style)
        """
}
