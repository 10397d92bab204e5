import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check pipeline files for errors without running them.",
        discussion: """
            Loads and compiles each PIPELINE exactly as 'cairn run' does, without reading \
            any events, and reports every error and warning of every file compiler-style on \
            standard error, then one summary line per file. A directory stands for the \
            *.yaml and *.yml files directly inside it (not hidden files, not \
            subdirectories, not the test files *.test.yaml of 'cairn test'), in byte order \
            of their names; '-' is standard input, named <stdin> in diagnostics. A file that cannot be read is reported and the others \
            are still checked.

            With --format json, each diagnostic is one JSON object per line on standard \
            output, for editors and CI, keys always in this order:

              {"file":"a.yaml","line":3,"column":1,"end_column":6,"severity":"error",
               "message":"unknown key 'evnts' in the pipeline",
               "hint":"did you mean 'events'?"}

            'line' and 'column' are 1-based, columns counted in Unicode scalars (a tab is \
            one column), both 0 for a finding about the whole file; the marked token spans \
            'column' up to, not including, 'end_column'; 'severity' is 'error' or \
            'warning'; 'hint' is null when there is none. Standard error then stays quiet \
            except for files that cannot be read.

            Examples:
              cairn check pipelines/shop.yaml
              cairn check pipelines/          # every .yaml and .yml file in it
              cairn check -q pipelines/ && echo ok
              cairn check --format json - < unsaved-buffer.yaml
              cairn check --format json pipelines/ | jq -c 'select(.severity == "error")'

            \(ExitStatus.helpText([
                (.ok, "every file is valid (warnings allowed)"),
                (.usage, "usage error: unknown option, no PIPELINE"),
                (.noInput, """
                    a file or directory cannot be read, or a directory holds no
                    pipeline file (the other files are still checked; this status
                    wins over 78)
                    """),
                (.software, "internal error (a bug: please report it)"),
                (.ioError, "writing standard output failed"),
                (.config, "a file has errors (all are reported, compiler-style)"),
            ]))
            """
    )

    @Argument(help: ArgumentHelp(
        "Pipeline files (YAML), directories of them, or '-' for standard input.", valueName: "PIPELINE"))
    var paths: [String]

    @Option(name: .customLong("format"), help: ArgumentHelp(
        "'text': compiler-style diagnostics and summaries on stderr; 'json': one JSON object per diagnostic on stdout.",
        valueName: "text|json"))
    var format: CheckFormat = .text

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: ArgumentHelp(
        "No summary line for a file without errors, so a valid pipeline prints nothing (its warnings still print)."))
    var quiet = false

    func validate() throws {
        guard !paths.isEmpty else { throw ValidationError("Missing expected argument '<PIPELINE> ...'") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let output = OutputSink(fd: 1, flushEachRecord: false, capacity: 1 << 16)
        var status = CheckStatus.valid
        for argument in paths {
            let files: [String]
            switch Self.expand(argument) {
            case .failure(let error):
                StandardError.emit("cairn: error: \(error.message)\n")
                status.note(.unreadable)
                continue
            case .success(let found): files = found
            }
            for path in files {
                let file: PipelineFile
                switch path == "-" ? PipelineFile.loadStandardInput() : PipelineFile.load(path) {
                case .failure(let why):
                    StandardError.emit(PipelineFile.unreadable(path == "-" ? "<stdin>" : path, why))
                    status.note(.unreadable)
                    continue
                case .success(let loaded): file = loaded
                }
                if file.errorCount > 0 { status.note(.invalid) }
                switch format {
                case .text:
                    StandardError.emit(file.rendered())
                    if !quiet || file.errorCount > 0 { StandardError.emit(file.summary()) }
                case .json:
                    do {
                        for diagnostic in file.diagnostics {
                            try output.append(diagnostic.jsonLine(source: file.source))
                        }
                        try output.flush()
                    } catch .brokenPipe {
                        throw status.exitStatus.code
                    } catch .writeFailed(let why) {
                        StandardError.emit("cairn: error: writing standard output failed: \(why)\n")
                        throw ExitStatus.ioError.code
                    }
                }
            }
        }
        if status.exitStatus != .ok { throw status.exitStatus.code }
    }

    /// The files an argument names: itself (`-` too), or for a directory the files of `kind`
    /// directly in it (not hidden ones, not subdirectories) sorted by the bytes of their names:
    /// pipelines are its `*.yaml` and `*.yml` files but test files (`*.test.yaml`,
    /// `*.test.yml`), which are `cairn test`'s. A path that does not exist is returned as is,
    /// so that reading it reports why.
    static func expand(_ argument: String, kind: FileKind = .pipelines) -> Result<[String], ExpandError> {
        var st = stat()
        guard argument != "-", stat(argument, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            return .success([argument])
        }
        guard let dir = opendir(argument) else {
            return .failure(ExpandError("cannot read directory '\(argument)': \(systemMessage(errno))"))
        }
        defer { closedir(dir) }
        let prefix = argument.hasSuffix("/") ? argument : argument + "/"
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let isTest = name.hasSuffix(".test.yaml") || name.hasSuffix(".test.yml")
            guard !name.hasPrefix("."), name.hasSuffix(".yaml") || name.hasSuffix(".yml"),
                  isTest == (kind == .tests) else { continue }
            var entryStat = stat()
            if stat(prefix + name, &entryStat) == 0, (entryStat.st_mode & S_IFMT) == S_IFDIR { continue }
            names.append(name)
        }
        guard !names.isEmpty else {
            let what = kind == .tests ? "test files (*.test.yaml, *.test.yml)" : "pipeline files (*.yaml, *.yml)"
            return .failure(ExpandError("no \(what) in directory '\(argument)'"))
        }
        return .success(names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { prefix + $0 })
    }

    enum FileKind { case pipelines, tests }

    struct ExpandError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}

enum CheckFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// The verdict over all files: the worst seen so far.
struct CheckStatus {
    enum Finding: Int, Comparable {
        case valid, invalid, unreadable
        static func < (a: Finding, b: Finding) -> Bool { a.rawValue < b.rawValue }
    }
    private var worst = Finding.valid

    static let valid = CheckStatus()

    mutating func note(_ finding: Finding) { worst = max(worst, finding) }

    var exitStatus: ExitStatus {
        switch worst {
        case .valid: return .ok
        case .invalid: return .config
        case .unreadable: return .noInput
        }
    }
}
