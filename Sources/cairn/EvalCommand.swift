import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// `cairn eval`: one CEL expression against each input event, one JSON result per line.
///
/// The expression is compiled exactly as a pipeline's conditions are; each line is scanned,
/// and with `--pipeline` mapped, exactly as `cairn run` does it, so what eval prints is what
/// a condition sees.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a CEL expression against each event and print the results.",
        discussion: """
            Compiles EXPR as cairn compiles a pipeline's conditions, then evaluates it \
            against each event of the INPUT files (or standard input; zstd is recognised) \
            and prints one JSON value per input line, in input order: numbers, strings, \
            booleans, null, lists and maps as JSON; timestamps as RFC 3339 strings in UTC \
            ("2024-03-01T11:32:00.25Z"); durations as CEL duration strings ("5400s"); bytes \
            as base64 strings. A line that is not a usable event, or whose evaluation fails, \
            prints {"error":"..."} on its line instead, so the output stays aligned with the \
            input.

            The event is bound as 'event'. 'type', 'customer', 'time' and 'now' need the \
            event mapping of a pipeline: give one with --pipeline (its journeys are not run, \
            and keys whose runtime is not built yet are accepted, but the file must load \
            without errors). With a pipeline, a line that \
            `cairn run` would skip as bad (no customer, an invalid time, ...) is an error \
            line here too.

            --var NAME=JSON binds NAME to a JSON value; -n evaluates the expression once, \
            with only those bindings and no event.

            Examples:
              cairn eval 'event.geo.country' samples/shop.ndjson | sort | uniq -c
              cairn eval --pipeline pipelines/shop.yaml 'time.getHours("Europe/Berlin")' samples/shop.ndjson
              cairn eval -n --var limit=100 --var xs='[1,2,300]' 'xs.filter(x, x > limit)'
              cairn eval -n 'duration("1h30m") + duration("45m")'

            Exit status: 0 when every line evaluated; 1 when any line printed an error; \
            64 usage error (also an invalid --var); 66 an input or the pipeline cannot be \
            read; 74 a corrupt .zst input or a read or write error; 78 the expression or \
            the pipeline has errors (reported compiler-style, all of them).
            """
    )

    @Argument(help: "The CEL expression.")
    var expression: String

    @Argument(help: "Event files, plain or .zst; '-' or none for standard input.")
    var inputs: [String] = []

    @Option(name: .customLong("pipeline"), help: ArgumentHelp(
        "Take the event mapping (customer, time, type) from this pipeline file.", valueName: "FILE"))
    var pipeline: String?

    @Option(name: .customLong("var"), help: ArgumentHelp(
        "Bind NAME to a JSON value, e.g. --var limit=100 --var tags='[\"a\"]' (repeatable).",
        valueName: "NAME=JSON"))
    var variables: [String] = []

    @Flag(name: [.customShort("n"), .customLong("null-input")],
          help: "Evaluate once, with the --var bindings and no event; read no input.")
    var nullInput = false

    @Option(name: .customLong("max-line-length"), help: ArgumentHelp(
        "Longest input line in bytes; a longer line prints an error line.", valueName: "BYTES"))
    var maxLineLength: Int = 1 << 20

    static let builtins: Set<String> = ["event", "type", "customer", "time", "now", "profile", "journey"]

    func validate() throws {
        guard maxLineLength >= 1, maxLineLength <= 1 << 30 else {
            throw ValidationError("--max-line-length must be between 1 and 1073741824 bytes")
        }
        if nullInput && !inputs.isEmpty {
            throw ValidationError("-n/--null-input reads no input; drop the input files or -n")
        }
        var seen = Set<String>()
        for binding in variables {
            guard let eq = binding.firstIndex(of: "=") else {
                throw ValidationError("--var '\(binding)' is not NAME=JSON")
            }
            let name = String(binding[..<eq])
            guard Self.isIdentifier(name) else {
                throw ValidationError("--var name '\(name)' is not an identifier (letters, digits, _; not first a digit)")
            }
            guard !Self.builtins.contains(name) else {
                throw ValidationError("--var name '\(name)' is a variable of cairn; choose another name")
            }
            guard seen.insert(name).inserted else { throw ValidationError("--var '\(name)' is given twice") }
        }
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let names = variables.map { String($0[..<$0.firstIndex(of: "=")!]) }
        let texts = variables.map { String($0[$0.index(after: $0.firstIndex(of: "=")!)...]) }
        let bound: ExprVariables
        switch ExprVariables.make(json: texts) {
        case .success(let v): bound = v
        case .failure(let error):
            StandardError.emit("cairn: error: --var \(names[error.index]): '\(texts[error.index])' is not one JSON value\n")
            throw ExitStatus.usage.code
        }

        // The environment: the pipeline's event mapping, if any, interned first.
        var fields = FieldPaths()
        var mapping: EventMapping?
        if let pipeline {
            let events = try Self.loadEventMapping(pipeline)
            let customer = fields.intern(events.customer.value)
            let time = fields.intern(events.time.value)
            let type = fields.intern(events.type.value)
            mapping = EventMapping(
                customerField: customer, timeField: time, typeField: type, timeFormat: events.timeFormat,
                customerPath: events.customer.value.joined(separator: "."),
                timePath: events.time.value.joined(separator: "."),
                typePath: events.type.value.joined(separator: "."))
        }
        var env = ExprEnvironment(
            fields: fields, typeField: mapping?.typeField ?? 0, customerField: mapping?.customerField ?? 0,
            variables: names, hasEventMapping: mapping != nil,
            profile: .unavailable(message: "'profile' is not available in cairn eval: profiles are kept by cairn run",
                                  hint: "bind a stand-in with --var, e.g. --var carts=3, and read it as 'carts'"),
            journey: .unavailable(message: "'journey' is not available in cairn eval: journey instances are kept by cairn run",
                                  hint: "bind a stand-in with --var, e.g. --var key='\"cart-7\"', and read it as 'key'"))
        let program: Program
        switch ExprCompiler.compile(expression, in: &env) {
        case .success(let p): program = p
        case .failure(let diagnostics):
            for item in diagnostics.items { StandardError.emit(Self.diagnostic(item, expression).rendered(source: expression)) }
            let count = diagnostics.items.filter { $0.severity == .error }.count
            StandardError.emit("cairn: \(count) error\(count == 1 ? "" : "s") in the expression\n")
            throw ExitStatus.config.code
        }

        let paths = nullInput ? [] : try inputPaths(inputs)
        let output = OutputSink(fd: 1, flushEachRecord: isatty(1) == 1)
        let evaluator = LineEvaluator(program: program, fields: env.fields, mapping: mapping, variables: bound,
                                      maxLineLength: maxLineLength)
        var failures = 0
        var status = ExitStatus.ok
        do {
            if nullInput {
                failures += try evaluator.evaluateWithoutEvent(into: output)
            } else {
                for path in paths {
                    let source: any ByteSource
                    do {
                        source = try InputOpener.open(path)
                    } catch {
                        StandardError.emit("cairn: error: \(error.commandLineMessage(written: "results"))\n")
                        status = error.kind == .read || error.kind == .corrupt ? .ioError : .noInput
                        break
                    }
                    defer { source.close() }
                    do {
                        failures += try evaluator.evaluateLines(of: source, into: output)
                    } catch let error as InputError {
                        try output.flush()
                        StandardError.emit("cairn: error: \(error.commandLineMessage(written: "results"))\n")
                        status = .ioError
                        break
                    }
                }
            }
            try output.flush()
        } catch OutputError.brokenPipe {
            throw ExitStatus.ok.code
        } catch let error as OutputError {
            StandardError.emit("cairn: error: cannot write the results: \(error)\n")
            throw ExitStatus.ioError.code
        }
        if status != .ok { throw status.code }
        if failures > 0 {
            StandardError.emit("cairn: \(failures) line\(failures == 1 ? "" : "s") printed an error\n")
            throw ExitCode(1)
        }
    }

    /// The `events:` mapping of a pipeline (the whole file is loaded and checked).
    static func loadEventMapping(_ path: String) throws -> EventsSpec {
        let text: String
        switch readTextFile(path) {
        case .success(let t): text = t
        case .failure(let why):
            StandardError.emit(PipelineFile.unreadable(path, why))
            throw ExitStatus.noInput.code
        }
        switch PipelineLoader.load(file: path, source: text) {
        case .success(let spec): return spec.events
        case .failure(let errors):
            StandardError.emit(errors.rendered())
            let count = errors.diagnostics.filter { $0.severity == .error }.count
            StandardError.emit("cairn: \(count) error\(count == 1 ? "" : "s") in '\(path)'\n")
            throw ExitStatus.config.code
        }
    }

    /// An expression diagnostic placed in the "file" `<expression>`, whose lines are the
    /// expression's (it may span several).
    static func diagnostic(_ item: ExprDiagnostic, _ source: String) -> Diagnostic {
        let bytes = Array(source.utf8)
        func position(_ offset: Int) -> (line: Int, column: Int) {
            let prefix = String(decoding: bytes[0..<min(max(offset, 0), bytes.count)], as: UTF8.self)
            let lines = SourceLines.split(prefix)
            return (lines.count, lines[lines.count - 1].unicodeScalars.count + 1)
        }
        let start = position(item.range.start)
        let end = position(item.range.end)
        let length = end.line == start.line ? end.column - start.column : 1
        return Diagnostic(item.severity == .error ? .error : .warning, file: "<expression>", line: start.line,
                          column: start.column, length: max(1, length), message: item.message, hint: item.hint)
    }
}

/// Scans, maps and evaluates lines for `cairn eval`; one result line per input line.
final class LineEvaluator {
    let program: Program
    let scanner: JSONScanner
    let mapping: EventMapping?
    let variables: ExprVariables
    let maxLineLength: Int
    let scratch = EvalScratch()
    private var values: [ScannedValue]
    private var decode: [UInt8]

    init(program: Program, fields: FieldPaths, mapping: EventMapping?, variables: ExprVariables, maxLineLength: Int) {
        self.program = program
        self.scanner = JSONScanner(paths: fields)
        self.mapping = mapping
        self.variables = variables
        self.maxLineLength = maxLineLength
        values = Array(repeating: .absent, count: max(1, fields.count))
        decode = Array(repeating: 0, count: 64)
    }

    /// One evaluation with no event; returns 1 if it printed an error.
    func evaluateWithoutEvent(into output: OutputSink) throws -> Int {
        let empty: [UInt8] = Array("{}".utf8)
        for i in values.indices { values[i] = .absent }
        return try empty.withUnsafeBytes { line in
            try write(evaluate(line: line, eventTime: 0), into: output)
        }
    }

    /// Every line of `source`; returns how many printed an error.
    func evaluateLines(of source: any ByteSource, into output: OutputSink) throws -> Int {
        let framer = LineFramer(source: source, maxLineLength: maxLineLength)
        var failures = 0
        while true {
            switch try framer.next() {
            case .end:
                return failures
            case .oversized(let number, _, let length):
                failures += try write(.failure(Failure("\(source.name):\(number): line is \(length) bytes long, "
                    + "over the limit of \(maxLineLength) (see --max-line-length)")), into: output)
            case .line(let line):
                failures += try write(evaluate(line.bytes, name: source.name, number: line.number), into: output)
            }
        }
    }

    private func evaluate(_ line: UnsafeRawBufferPointer, name: String, number: Int) -> Result<String, Failure> {
        if decode.count < line.count { decode = Array(repeating: 0, count: line.count) }
        let outcome = values.withUnsafeMutableBufferPointer { scanner.scan(line, into: $0.baseAddress!) }
        var eventTime: Int64 = 0
        if let mapping {
            let mapped = values.withUnsafeBufferPointer { v in
                decode.withUnsafeMutableBytes { mapping.map(line, outcome: outcome, values: v.baseAddress!, scratch: $0) }
            }
            switch mapped {
            case .event(let ns): eventTime = ns
            case .bad(let problem): return .failure(Failure("\(name):\(number): \(mapping.describe(problem))"))
            }
        } else {
            let problem: EventMapping.Problem
            switch outcome {
            case .event: return evaluate(line: line, eventTime: 0)
            case .invalid(let error): problem = .json(error)
            case .notObject(let kind): problem = .notObject(kind)
            }
            return .failure(Failure("\(name):\(number): \(EventMapping.describeShape(problem)!)"))
        }
        return evaluate(line: line, eventTime: eventTime)
    }

    private func evaluate(line: UnsafeRawBufferPointer, eventTime: Int64) -> Result<String, Failure> {
        values.withUnsafeBufferPointer { fields in
            variables.withActivationParts { text, bound in
                let activation = Activation(line: line, fields: fields.baseAddress!, eventTime: eventTime,
                                            variableText: text, variableValues: bound)
                let value = program.evaluate(activation, scratch: scratch)
                if case .error(let error) = value { return .failure(Failure(program.message(for: error))) }
                guard let json = program.jsonText(of: value, activation: activation, scratch: scratch) else {
                    return .failure(Failure("the result has no JSON form"))
                }
                return .success(json)
            }
        }
    }

    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// Writes the result line; returns 1 for an error line.
    private func write(_ result: Result<String, Failure>, into output: OutputSink) throws(OutputError) -> Int {
        switch result {
        case .success(let json):
            try output.append(Array(json.utf8) + [0x0A])
            try output.endRecord()
            return 0
        case .failure(let failure):
            try output.append(Array("{\"error\":\(JSONText.quoted(failure.message))}\n".utf8))
            try output.endRecord()
            return 1
        }
    }
}
