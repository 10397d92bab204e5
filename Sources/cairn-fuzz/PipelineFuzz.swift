import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Any bytes as a pipeline file: loading and compiling never crash, every diagnostic points
/// inside the file, and rendering them works.
enum PipelineFuzz {
    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        // As the command line reads a pipeline file.
        let source = String(decoding: bytes, as: UTF8.self)
        let diagnostics: [Diagnostic]
        switch PipelineCompiler.compile(file: "fuzz.yaml", source: source) {
        case .failure(let errors):
            precondition(errors.diagnostics.contains { $0.severity == .error }, "a failure without an error")
            diagnostics = errors.diagnostics
        case .success(let compiled):
            precondition(!compiled.warnings.contains { $0.severity == .error }, "a success with an error")
            diagnostics = compiled.warnings
        }
        checkPositions(diagnostics, source: source)
    }
}

/// Every diagnostic has a message and points inside `source` (a line and a column within it,
/// or line 0 for the whole file), and renders.
func checkPositions(_ diagnostics: [Diagnostic], source: String) {
    // Line lengths in Unicode scalars; lines end at LF, CRLF or a lone CR, as in YAML.
    var lines: [Int] = []
    var length = 0, afterCR = false
    for scalar in source.unicodeScalars {
        if scalar == "\n" && afterCR { afterCR = false; continue }
        afterCR = scalar == "\r"
        if scalar == "\n" || scalar == "\r" {
            lines.append(length)
            length = 0
        } else {
            length += 1
        }
    }
    lines.append(length)
    let strict = getenv("CAIRN_FUZZ_STRICT").map { String(cString: $0) == "1" } ?? false
    for d in diagnostics {
        precondition(!d.message.isEmpty, "an empty message")
        if !strict && KnownIssue.excuses(d, source: source, lineCount: lines.count) { continue }
        precondition(d.length >= 1 || d.column == 0, "length \(d.length) at \(d.line):\(d.column): \(d.message)")
        if d.line == 0 {
            precondition(d.column == 0, "a column without a line: \(d.message)")
            continue
        }
        precondition(d.line >= 1 && d.line <= lines.count,
                     "line \(d.line) outside a file of \(lines.count) lines: \(d.message)")
        precondition(d.column >= 1 && d.column <= lines[d.line - 1] + 1,
                     "column \(d.column) outside line \(d.line) of \(lines[d.line - 1]) columns: \(d.message)")
        _ = d.rendered(source: source)
    }
}

/// Position bugs already found and reported, excused so that fuzzing goes on past them
/// (CAIRN_FUZZ_STRICT=1 excuses nothing). Each names its input in fuzz/crashes/; delete the
/// case once the bug is fixed.
enum KnownIssue {
    static func excuses(_ d: Diagnostic, source: String, lineCount: Int) -> Bool {
        // None open: every position bug the fuzzer found is fixed (fuzz/crashes/README.md).
        false
    }
}
