import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#endif

/// `cairn diff OLD.yaml NEW.yaml INPUT ...`: how decisions change between two versions of a
/// pipeline over the same input.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Run two versions of a pipeline over the same input and report how their decisions differ.",
        discussion: """
            Each version runs over the INPUT files with fresh state in memory, as 'cairn run' \
            would, and their records are compared by id: an id names the journey, step, \
            customer, key and entry of a decision, not its content. A record with the same id \
            and other content (another template, channel, data, a skip instead of an action) \
            is changed; one only before is removed, one only after is added.

            The report gives the records before and after, per journey, step, kind (a skip \
            with its reason), channel and template where the counts differ, the customers \
            affected, and the first differences (--show N), earliest first, before ('-') \
            above after ('+'). --format json prints one object instead.

            Examples:
              cairn diff pipelines/cart-recovery.yaml new.yaml samples/shop.ndjson
              cairn diff old.yaml new.yaml archive/*.zst --until 2024-04-01T00:00:00Z --format json

            Exit status:
              0   the decisions are identical
              1   they differ
              64  usage (e.g. standard input, which cannot be read twice)
              66  an input or pipeline cannot be read
              78  a pipeline has errors
            """)

    @Argument(help: "The pipeline before the change.")
    var old: String

    @Argument(help: "The pipeline after the change.")
    var new: String

    @Argument(help: "Input files (NDJSON, plain or zstd); read once per version.")
    var inputs: [String] = []

    @Option(name: .customLong("emit"), help: ArgumentHelp(
        "The kinds of records compared, as for 'cairn run --emit' (default: action,skip: the decisions).",
        valueName: "KINDS"))
    var emit: EmitArgument = EmitArgument(kinds: [.action, .skip])

    @Option(name: .customLong("until"), help: ArgumentHelp(
        "Move the clock of both runs on to TIME at the end of the input, as 'cairn run --until'.",
        valueName: "TIME|now"))
    var until: UntilArgument?

    @Option(name: .customLong("show"), help: ArgumentHelp("How many differences to show.", valueName: "N"))
    var show = 10

    @Option(help: ArgumentHelp("Output format.", valueName: "text|json"))
    var format: DiffFormat = .text

    enum DiffFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func validate() throws {
        guard !inputs.isEmpty, !inputs.contains("-") else {
            throw ValidationError("cairn diff reads its input once per version: give input files, not standard input")
        }
        guard show >= 0 else { throw ValidationError("--show must be 0 or more") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // Both pipelines are checked before either runs.
        let oldPipeline = try PipelineFile.compiledForRun(old).pipeline
        let newPipeline = try PipelineFile.compiledForRun(new).pipeline
        let paths = try inputPaths(inputs)
        let before = try records(of: oldPipeline, named: old, over: paths)
        let after = try records(of: newPipeline, named: new, over: paths)
        let diff = RecordDiff.compare(old: before, new: after)
        let out = OutputSink(fd: 1, flushEachRecord: false)
        var text = format == .json ? json(diff) : report(diff)
        text += "\n"
        _ = try? out.append(Array(text.utf8))
        _ = try? out.flush()
        if !diff.isEmpty { throw ExitStatus.failure.code }
    }

    /// Runs `compiled` (the file `pipeline`) over `paths` with fresh state; its record lines.
    func records(of compiled: CompiledPipeline, named pipeline: String, over paths: [String?]) throws -> [String] {
        var options = RunOptions()
        options.emit = emit.kinds
        options.until = until?.time
        var run = PipelineRun()
        do {
            try run.run(compiled, inputs: paths, options: options)
        } catch {
            StandardError.emit("cairn: error: \(pipeline): \(error.message)\n")
            throw error.status.code
        }
        if !run.bad.isEmpty || !run.late.isEmpty {
            StandardError.emit("cairn: note: \(pipeline): \(run.bad.count) bad lines and \(run.late.count) late events skipped (cairn run shows them)\n")
        }
        return run.records
    }

    func report(_ diff: RecordDiff) -> String {
        var text = "cairn diff: \(old) → \(new): \(diff.before) records before, \(diff.after) after"
        guard !diff.isEmpty else { return text + "; the same records" }
        text += "; \(diff.added) added, \(diff.removed) removed, \(diff.changed) changed; \(diff.customers) customers affected"
        if !diff.groups.isEmpty {
            text += "\n\nby journey, step, kind, channel and template (before → after):"
            for g in diff.groups {
                let what = [g.group.journey, g.group.step, g.group.kind,
                            g.group.channel.isEmpty ? nil : "\(g.group.channel)/\(g.group.template)"]
                    .compactMap { $0 }.joined(separator: "  ")
                text += "\n  \(what)  \(g.before) → \(g.after)"
            }
        }
        if show > 0 {
            text += "\n\nfirst \(min(show, diff.changes.count)) of \(diff.changes.count) differences:"
            for change in diff.changes.prefix(show) {
                if let b = change.before { text += "\n- \(b.text)" }
                if let a = change.after { text += "\n+ \(a.text)" }
            }
        }
        return text
    }

    func json(_ diff: RecordDiff) -> String {
        func record(_ r: RecordDiff.Record?) -> JSONTree {
            guard let r else { return .null }
            return JSONTree.parse(Array(r.text.utf8)) ?? .string(r.text)
        }
        let fields: [(String, JSONTree)] = [
            ("old", .string(old)), ("new", .string(new)),
            ("before", .number(String(diff.before))), ("after", .number(String(diff.after))),
            ("added", .number(String(diff.added))), ("removed", .number(String(diff.removed))),
            ("changed", .number(String(diff.changed))), ("customers", .number(String(diff.customers))),
            ("groups", .array(diff.groups.map { g in
                .object([("journey", .string(g.group.journey)), ("step", .string(g.group.step)),
                         ("kind", .string(g.group.kind)), ("channel", .string(g.group.channel)),
                         ("template", .string(g.group.template)),
                         ("before", .number(String(g.before))), ("after", .number(String(g.after)))])
            })),
            ("differences", .array(diff.changes.prefix(show).map { c in
                .object([("before", record(c.before)), ("after", record(c.after))])
            })),
        ]
        return JSONTree.object(fields).text
    }
}
