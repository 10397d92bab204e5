import CairnCore

/// A pipeline file read, loaded and compiled: the one path `cairn run` and `cairn check` share.
struct PipelineFile {
    /// The path as the user wrote it; diagnostics name the file this way.
    var path: String
    var source: String
    /// Every error and warning, in file order (line, then column).
    var diagnostics: [Diagnostic]
    /// The compiled pipeline; nil when there is any error.
    var compiled: CompiledPipeline?

    var errorCount: Int { diagnostics.count { $0.severity == .error } }
    var warningCount: Int { diagnostics.count { $0.severity == .warning } }

    /// Reads and compiles `path`; fails only when the file cannot be read.
    static func load(_ path: String) -> Result<PipelineFile, FileReadError> {
        readTextFile(path).map { compile(path: path, source: $0) }
    }

    /// Reads and compiles standard input, named `<stdin>` in diagnostics.
    static func loadStandardInput() -> Result<PipelineFile, FileReadError> {
        readText(fd: 0).map { compile(path: "<stdin>", source: $0) }
    }

    static func compile(path: String, source: String) -> PipelineFile {
        switch PipelineCompiler.compile(file: path, source: source) {
        case .failure(let errors):
            return PipelineFile(path: path, source: source, diagnostics: errors.diagnostics, compiled: nil)
        case .success(let compiled):
            let warnings = PipelineErrors(diagnostics: compiled.warnings, source: source).diagnostics
            return PipelineFile(path: path, source: source, diagnostics: warnings, compiled: compiled)
        }
    }

    /// Every diagnostic rendered compiler-style, with the source line and a caret.
    func rendered() -> String {
        diagnostics.map { $0.rendered(source: source) }.joined()
    }

    /// The one-line verdict on the file: `cairn: 2 errors and 1 warning in 'a.yaml'`,
    /// `cairn: 'a.yaml' is valid, with 1 warning`, `cairn: 'a.yaml' is valid`.
    func summary() -> String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
        let errors = errorCount, warnings = warningCount
        if errors > 0 {
            let also = warnings > 0 ? " and \(count(warnings, "warning"))" : ""
            return "cairn: \(count(errors, "error"))\(also) in '\(path)'\n"
        }
        if warnings > 0 { return "cairn: '\(path)' is valid, with \(count(warnings, "warning"))\n" }
        return "cairn: '\(path)' is valid\n"
    }

    /// The message for a pipeline file that cannot be read.
    /// Loads and compiles a pipeline for a run: its diagnostics on stderr; an unreadable file
    /// ends the command with 66, one with errors with 78.
    static func compiledForRun(_ path: String) throws -> (pipeline: CompiledPipeline, source: String) {
        switch load(path) {
        case .failure(let why):
            StandardError.emit(unreadable(path, why))
            throw ExitStatus.noInput.code
        case .success(let file):
            StandardError.emit(file.rendered())
            guard let compiled = file.compiled else {
                StandardError.emit(file.summary())
                throw ExitStatus.config.code
            }
            return (compiled, file.source)
        }
    }

    static func unreadable(_ path: String, _ why: FileReadError) -> String {
        "cairn: error: cannot read pipeline '\(path)': \(why.reason)\n"
    }
}

extension PipelineFile {
    /// XXH64 of a pipeline's text: a checkpoint records it to notice a changed pipeline.
    static func fingerprint(of source: String) -> UInt64 {
        Array(source.utf8).withUnsafeBytes { XXH64.hash($0, seed: 0) }
    }
}
