import ArgumentParser
import CairnCore
#if canImport(Glibc)
import Glibc
#endif

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Show, dump, count and forget what a state directory keeps.",
        discussion: """
            A state directory (cairn run --state DIR) keeps each customer's profile and \
            journey state: running instances (their step, entry, variant and the time they \
            wake), re-entry memory and send logs. These commands read it without the \
            pipeline: the directory records its own profile layout and the names of its \
            journeys and steps. Windowed values are shown as of the state's clock, the latest event \
            time applied. A customer idle for longer than the profile's ttl is shown as \
            absent, as the next run would treat them, unless journeys still keep state \
            for them.

            While a run writes the directory, these commands fail with exit status 75.

            Examples:
              cairn state show --state st/ c-1042
              cairn state dump --state st/ | jq -c 'select(.profile.open_tickets > 0)'
              cairn state dump --state st/ | jq -c 'select(any(.journeys[]; .wakes_at != null))'
              cairn state stats --state st/
              cairn state forget --state st/ c-1042

            Exit status:
              0   success
              1   show: a customer is not in the state
              66  the directory does not exist or holds no state
              74  the directory is damaged (a checksum mismatch, a truncated file)
                  or cannot be read
              75  a run is writing the directory
            """,
        subcommands: [Show.self, Dump.self, Stats.self, Forget.self]
    )

    struct Location: ParsableArguments {
        @Option(name: .customLong("state"), help: ArgumentHelp("The state directory.", valueName: "DIR"))
        var directory: String

        /// Opens the directory, or ends the command with a message and an exit status.
        func open(_ access: StateStore.Access) throws -> StateInspector {
            var st = stat()
            guard stat(directory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
                StandardError.emit("cairn: error: '\(directory)' is not a state directory: \(systemMessage(errno == 0 ? ENOTDIR : errno))\n")
                throw ExitStatus.noInput.code
            }
            var journal = stat()
            guard stat(directory + "/journal", &journal) == 0 else {
                StandardError.emit("cairn: error: '\(directory)' is not a state directory: it holds no checkpoint\n"
                    + "  help: 'cairn run PIPELINE INPUT... --state \(directory)' makes one\n")
                throw ExitStatus.noInput.code
            }
            do {
                return try StateInspector(directory: directory, access: access)
            } catch {
                throw StateFailure.exit(error, directory: directory)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print customers' profiles and journeys as JSON, one line each.",
            discussion: """
                Each line is {"customer", "latest" (the customer's latest event time, null \
                without profile fields), "profile": {NAME: value, ...}, "journeys": [{"journey", \
                "instance", "step", "entered_at", "entry", "variant", "wakes_at"}, ...]}. A \
                customer the state does not hold is reported on stderr, and the exit status \
                is then 1.
                """)

        @OptionGroup var location: Location
        @Argument(help: "Customer keys, as in the events.")
        var customers: [String]

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            let state = try location.open(.read)
            let out = OutputSink(fd: 1, flushEachRecord: false)
            var missing = 0
            for customer in customers {
                guard let line = state.show(customer) else {
                    StandardError.emit("cairn: '\(customer)' is not in the state\n")
                    missing += 1
                    continue
                }
                guard write(line, to: out) else { return }
            }
            _ = try? out.flush()
            if missing > 0 { throw ExitCode(1) }
        }
    }

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every customer's profile as NDJSON, in storage order.",
            discussion: "The lines are those of 'cairn state show'.")

        @OptionGroup var location: Location

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            let state = try location.open(.read)
            let out = OutputSink(fd: 1, flushEachRecord: false)
            var ok = true
            state.forEachCustomer { line in
                ok = write(line, to: out)
                return ok
            }
            if ok { _ = try? out.flush() }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count customers, journey instances and bytes; show the last checkpoint and input positions.")

        @OptionGroup var location: Location
        @Option(help: ArgumentHelp("Output format.", valueName: "text|json"))
        var format: StatsFormat = .text

        func run() throws {
            let state = try location.open(.read)
            let counts = state.counts()
            let store = state.store.stats
            let checkpoint = state.checkpoint
            let clock = checkpoint.clock.map { CELTime.formatTimestamp($0) }
            let totalBytes = store.files.reduce(0) { $0 + $1.bytes }
            let perCustomer = counts.kept > 0 ? totalBytes / counts.kept : 0
            switch format {
            case .json:
                var fields: [(String, JSONTree)] = [
                    ("directory", .string(state.directory)),
                    ("customers", .number(String(counts.kept - counts.expired))),
                    ("expired", .number(String(counts.expired))),
                    ("bytes", .number(String(totalBytes))),
                    ("bytes_per_customer", .number(String(perCustomer))),
                    ("files", .array(store.files.map { .object([("name", .string($0.name)), ("bytes", .number(String($0.bytes)))]) })),
                    ("checkpoint", .number(String(store.checkpointSequence))),
                    ("written_at", checkpoint.writtenAt.map { .string(CELTime.formatTimestamp($0)) } ?? .null),
                    ("clock", clock.map { .string($0) } ?? .null),
                    ("events", .number(String(checkpoint.events))),
                    ("records", .number(String(checkpoint.records))),
                    ("buffered", .number(String(checkpoint.buffered.count))),
                    ("instances", .number(String(counts.instances))),
                    ("timers", .number(String(counts.waiting))),
                ]
                fields.append(("inputs", .array(checkpoint.inputs.map { input in
                    .object([("path", .string(input.path)), ("offset", .number(String(input.offset))),
                             ("line", .number(String(input.line))), ("done", .bool(input.done))])
                })))
                print(JSONTree.object(fields).text)
            case .text:
                var text = "state:      \(state.directory)\n"
                text += "customers:  \(counts.kept - counts.expired)"
                    + (counts.expired > 0 ? " (and \(counts.expired) idle past the ttl, freed as the next runs go)" : "") + "\n"
                text += "journeys:   \(counts.instances) instances running, \(counts.waiting) of them waiting for a time\n"
                text += "bytes:      \(totalBytes) (\(perCustomer) per customer)\n"
                for file in store.files { text += "  \(file.name): \(file.bytes)\n" }
                text += "checkpoint: #\(store.checkpointSequence)\(checkpoint.writtenAt.map { " written at " + CELTime.formatTimestamp($0) } ?? ""), clock \(clock ?? "none"), \(checkpoint.events) events and \(checkpoint.records) records applied in all\n"
                if !checkpoint.buffered.isEmpty {
                    text += "buffered:   \(checkpoint.buffered.count) events held for time order (applied by the next run)\n"
                }
                if checkpoint.inputs.isEmpty {
                    text += "inputs:     none\n"
                } else {
                    text += "inputs:\n"
                    for input in checkpoint.inputs {
                        let place = input.done ? "read to the end" : "read up to byte \(input.offset), line \(input.line + 1)"
                        text += "  \(input.path): \(place) (\(input.offset) bytes)\n"
                    }
                }
                print(text, terminator: "")
            }
        }
    }

    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase customers: zero their bytes, free their slots, checkpoint.",
            discussion: """
                Purges each customer everywhere (profile, journey instances and their \
                timers, re-entry memory, send logs) and prints an 'erased' record for \
                them, as 'cairn run' does for the pipeline's erase condition, timed at the \
                state's clock; a customer the state does not hold gets a note on stderr. \
                After it, no byte of a forgotten customer's key or values remains in the \
                state's files. Needs the directory to itself: exit status 75 while a run \
                writes it.
                """)

        @OptionGroup var location: Location
        @Argument(help: "Customer keys, as in the events.")
        var customers: [String]

        func run() throws {
            signal(SIGPIPE, SIG_IGN)
            let state = try location.open(.write)
            var lines: [[UInt8]] = []
            for customer in customers {
                if state.forget(customer) {
                    lines.append(state.erasedRecord(customer))
                } else {
                    StandardError.emit("cairn: note: '\(customer)' is not in the state: nothing to forget\n")
                }
            }
            do {
                try state.save()
            } catch {
                throw StateFailure.exit(error, directory: location.directory)
            }
            let out = OutputSink(fd: 1, flushEachRecord: false)
            for line in lines { guard write(line, to: out) else { return } }
            _ = try? out.flush()
        }
    }

    enum StatsFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }
}

/// Writes one NDJSON line; false when the reader has gone (EPIPE) or writing failed.
private func write(_ line: [UInt8], to out: OutputSink) -> Bool {
    do {
        try out.append(line)
        try out.append([0x0A])
        try out.endRecord()
        return true
    } catch {
        if error != .brokenPipe { StandardError.emit("cairn: error: writing standard output failed\n") }
        return false
    }
}
