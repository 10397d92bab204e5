import ArgumentParser
import CairnCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `cairn-gen`: writes a seeded, realistic web-shop event stream as NDJSON.
///
/// By default it simulates interleaved browsing sessions (``Generator``); `--scenario
/// journeys` writes months of scripted customer stories in the scenario vocabulary instead
/// (``JourneyScenario``). The same arguments give byte-identical output on any machine:
/// the generator uses its own PRNG (xoshiro256**), integer arithmetic only, and formats
/// numbers and timestamps by hand.
@main
struct CairnGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-gen",
        abstract: "Generate a seeded, realistic web-shop event stream as NDJSON.",
        discussion: """
            Events are page_view, add_to_cart, checkout_started, purchase, ticket_opened, \
            ticket_resolved and email_preference, one JSON object per line with a fixed key \
            order, in non-decreasing event time. The same arguments produce the same bytes \
            on every machine.

            With --scenario journeys it writes instead the scenario stream of the journey \
            pipelines: --customers customers (u-00001 ...) over --days days from --start, \
            with the events signup, app_open, feature_used, page_view, add_to_cart, \
            checkout_started, purchase, subscription_started, ticket_opened, \
            ticket_resolved, consent_changed and erasure_request (keys event, ts, user_id, \
            tz on signup and app_open, props). Its customers buy computers and open repair \
            tickets, sign up and try features, abandon and recover carts, lapse for 45+ \
            days and come back, raise one ticket topic on several channels, change consent \
            and ask for erasure. --events and --rate do not apply to it.

            Examples:
              cairn-gen --seed 42 --events 2000 --customers 200 \\
                  --start 2024-03-01T09:00:00Z --rate 0.05 > samples/shop.ndjson
              cairn-gen --events 1000000 --customers 100000 --out events.ndjson
              cairn-gen --events 100 | jq -c 'select(.event == "purchase")'
              cairn-gen --scenario journeys --seed 7 --customers 400 --days 120 \\
                  --start 2024-01-01T00:00:00Z --out samples/journeys.ndjson
            """)

    /// The scripted streams `--scenario` can write.
    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case journeys
    }

    @Option(help: ArgumentHelp(
        "Write a scripted scenario instead of the simulated shop sessions.", valueName: "name"))
    var scenario: Scenario?

    @Option(help: "Seed of the random generator.")
    var seed: UInt64 = 1

    @Option(help: "Number of events to write (default: 1000; not with --scenario).")
    var events: Int?

    @Option(help: "Number of customers (ids c-000001 ..., with --scenario u-00001 ... up to 99999).")
    var customers: Int = 1000

    @Option(help: ArgumentHelp(
        "Days of event time the scenario covers from --start (default: 120; only with --scenario).",
        valueName: "days"))
    var days: Int?

    @Option(help: ArgumentHelp(
        "Event time of the first event (RFC 3339); with --scenario, the start of the period.",
        valueName: "rfc3339"))
    var start: String = "2024-03-01T00:00:00Z"

    @Option(help: ArgumentHelp(
        "Mean events per second of event time (default: 10; not with --scenario).",
        valueName: "events-per-second"))
    var rate: Double?

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var out: String?

    func validate() throws {
        if scenario != nil {
            if events != nil { throw ValidationError("'--events' does not apply to '--scenario'") }
            if rate != nil { throw ValidationError("'--rate' does not apply to '--scenario'") }
            guard customers >= 1, customers <= 99_999 else {
                throw ValidationError("'--customers' must be between 1 and 99999 with '--scenario', got \(customers)")
            }
            if let days, days < 1 || days > 3650 {
                throw ValidationError("'--days' must be between 1 and 3650, got \(days)")
            }
        } else if days != nil {
            throw ValidationError("'--days' applies only to '--scenario'")
        }
        let events = events ?? 1000, rate = rate ?? 10
        guard events >= 0 else { throw ValidationError("'--events' must be 0 or more, got \(events)") }
        guard customers >= 1, customers <= 100_000_000 else {
            throw ValidationError("'--customers' must be between 1 and 100000000, got \(customers)")
        }
        guard rate.isFinite, rate >= 0.0001, rate <= 1_000_000 else {
            throw ValidationError("'--rate' must be between 0.0001 and 1000000 events per second")
        }
        // Keep every timestamp after 1970 and well inside cairn's range (up to 2262-04-11),
        // with 60 years to spare for long streams.
        guard let micros = Self.microseconds(start), micros >= 0, micros < 7_258_118_400_000_000 else {
            throw ValidationError(
                "'--start' must be an RFC 3339 time from 1970 to 2199 such as 2024-03-01T09:00:00Z, got '\(start)'")
        }
    }

    /// Microseconds since the epoch of an RFC 3339 time, as cairn parses it (rounded down).
    static func microseconds(_ text: String) -> Int64? {
        let ns = Array(text.utf8).withUnsafeBytes { EventTime.parseRFC3339($0) }
        guard let ns else { return nil }
        return ns >= 0 ? ns / 1000 : (ns - 999) / 1000
    }

    func run() throws {
        do throws(WriteError) {
            if let out, out != "-" {
                var writer = try EventWriter(path: out)
                try generate(into: &writer)
            } else {
                var writer = EventWriter(fd: STDOUT_FILENO)
                try generate(into: &writer)
            }
        } catch {
            if error.errno == EPIPE { throw ExitCode.success }
            var stderr = StandardError()
            print("cairn-gen: error: \(error)", to: &stderr)
            throw ExitCode(74)  // EX_IOERR
        }
    }

    /// Runs the shop simulation, or the scenario, into `writer`.
    private func generate(into writer: inout EventWriter) throws(WriteError) {
        let startMicros = Self.microseconds(start)!
        switch scenario {
        case nil:
            let config = Generator.Configuration(
                seed: seed, events: events ?? 1000, customers: customers,
                startMicros: startMicros, rate: rate ?? 10)
            var generator = Generator(config)
            try generator.run(count: config.events, into: &writer)
        case .journeys:
            let config = JourneyScenario.Configuration(
                seed: seed, customers: customers,
                startMs: startMicros >= 0 ? startMicros / 1000 : (startMicros - 999) / 1000,
                days: days ?? 120)
            try JourneyScenario(config).run(into: &writer)
        }
    }
}

/// Standard error as a `TextOutputStream`, for diagnostics.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { writeToStandardError($0) }
    }
}

private func writeToStandardError(_ bytes: UnsafeBufferPointer<UInt8>) {
    _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count)
}
