import Foundation
import Testing
@testable import CairnCore

/// What one seed gave.
private struct SeedOutcome {
    var failure: String?
    /// The memory rules (see `JMMemoryRule`) under which the model gave cairn's records.
    var rules: [JMMemoryRule] = []
    /// Whether the rules give different records for this seed.
    var rulesDiffer = false
    /// Set when cairn's records agree with the model's in all but entry numbers (and the ids
    /// made from them): the difference under each rule.
    var entryNumbers: String?
    var observations = JourneyHarness.Observations()
    /// Records by kind (and reason), for the coverage summary.
    var counts: [String: Int] = [:]
}

/// Runs one seed: generates a pipeline and events, runs them through cairn (`--emit all`,
/// `--until` as `journeyModelUntil` says), and compares each customer's records, in order,
/// with the model's; and checks that records come out in time order.
private func check(seed: UInt64) -> SeedOutcome {
    var outcome = SeedOutcome()
    let pipeline = journeyModelPipeline(seed: seed)
    let events = journeyModelEvents(seed: seed, pipeline: pipeline)
    let untilOption = journeyModelUntil(seed: seed, events: events)
    let until = untilOption ?? events.last!.time
    func context() -> String {
        "seed \(seed)\npipeline:\n\(pipeline.yaml)events:\n" + events.map { "  \($0.line)" }.joined(separator: "\n")
    }
    let compiled: CompiledPipeline
    switch JourneyHarness.compile(pipeline) {
    case .success(let c):
        compiled = c
    case .failure(let errors):
        outcome.failure = "\(context())\ndoes not compile:\n" + errors.diagnostics.map(\.message).joined(separator: "\n")
        return outcome
    }
    let lines: [String]
    do {
        lines = try JourneyHarness.run(compiled, events: events, until: untilOption)
    } catch {
        outcome.failure = "\(context())\n\(error)"
        return outcome
    }
    var byCustomer: [String: [String]] = [:]
    var latest = ""
    for line in lines {
        guard let members = JourneyHarness.members(line),
              let customer = members.first(where: { $0.0 == "customer" })?.1 else {
            outcome.failure = "\(context())\ncannot read record \(line)"
            return outcome
        }
        byCustomer[String(customer.dropFirst().dropLast()), default: []].append(line)
        // docs/pipeline-reference.md: "records come out in event-time order" (the times are
        // whole seconds in one format: text order is time order).
        let time = members.first(where: { $0.0 == "time" })?.1 ?? ""
        if time < latest {
            outcome.failure = "\(context())\nuntil: \(untilOption.map(rfc3339) ?? "none")\nrecord out of time order: \(line) after a record at \(latest)"
            return outcome
        }
        latest = time
        let kind = members[0].1, reason = members.first(where: { $0.0 == "reason" })?.1
        outcome.counts[kind + (reason.map { " " + $0 } ?? ""), default: 0] += 1
    }
    let customers = Set(events.map(\.customer)).sorted()
    guard Set(byCustomer.keys).isSubset(of: customers) else {
        outcome.failure = "\(context())\nrecords of unknown customers \(byCustomer.keys.sorted())"
        return outcome
    }
    var failures: [String] = []
    var failedCustomer: (customer: String, record: Int)?
    var records: [[JMRecord]] = []
    for rule in JMMemoryRule.allCases {
        var failure: String?
        var observations = JourneyHarness.Observations()
        var all: [JMRecord] = []
        for customer in customers {
            let model = JourneyModel.run(pipeline, customer: customer, events: events, until: until, rule: rule)
            all += model.records
            if rule == .whileNeeded { for (k, v) in model.coverage { outcome.counts[k, default: 0] += v } }
            if failure == nil, let diff = JourneyHarness.compare(byCustomer[customer] ?? [], model, observations: &observations) {
                failure = "with re-entry memory forgotten \(rule), customer \(customer), \(diff.text)"
                if failedCustomer == nil { failedCustomer = (customer, diff.record) }
            }
        }
        records.append(all)
        if let failure {
            failures.append(failure)
        } else {
            outcome.rules.append(rule)
            outcome.observations = observations
        }
    }
    outcome.rulesDiffer = records.dropFirst().contains { $0.map(\.description) != records[0].map(\.description) }
    if outcome.rules.isEmpty {
        // Everything but the entry numbers? If not, that difference is the one to show.
        var beyond: (customer: String, record: Int, text: String)?
        var observations = JourneyHarness.Observations()
        for customer in customers where beyond == nil {
            let model = JourneyModel.run(pipeline, customer: customer, events: events, until: until, rule: .whileNeeded)
            if let diff = JourneyHarness.compare(byCustomer[customer] ?? [], model, entryNumbers: .written,
                                                 observations: &observations) {
                beyond = (customer, diff.record, diff.text)
            }
        }
        guard let beyond else {
            outcome.entryNumbers = "seed \(seed):\n" + failures.joined(separator: "\n")
            outcome.observations = observations
            return outcome
        }
        failures = ["with entry numbers as cairn wrote them, customer \(beyond.customer), \(beyond.text)"]
        failedCustomer = (beyond.customer, beyond.record)
    }
    if outcome.rules.isEmpty, let (customer, n) = failedCustomer {
        // The customer's events up to the time of the first differing record, and records
        // around it.
        let got = byCustomer[customer] ?? []
        let shown = got[..<min(got.count, n + 3)]
        let last = shown.last.flatMap { JourneyHarness.members($0)?.first { $0.0 == "time" }?.1 } ?? ""
        let own = events.filter { $0.customer == customer && "\"\(rfc3339($0.time))\"" <= last }
        outcome.failure = "seed \(seed):\n" + failures.joined(separator: "\n") + "\npipeline:\n\(pipeline.yaml)"
            + "until: \(untilOption.map(rfc3339) ?? "none")\n"
            + "events of \(customer) (until the records shown):\n" + own.map { "  \($0.line)" }.joined(separator: "\n")
            + "\nrecords of \(customer), to 2 after the difference:\n"
            + shown.enumerated().map { "  \($0.offset): \($0.element)" }.joined(separator: "\n")
            + "\n(JOURNEY_MODEL_SEED=\(seed) prints everything)"
    }
    return outcome
}

@Suite("journeys' caps and re-entry against a naive model")
struct JourneyModelTests {
    /// `JOURNEY_MODEL_SEED=N swift test --filter JourneyModel` prints seed N's pipeline,
    /// events, cairn's records and the model's, for replaying a failure by hand.
    @Test("one seed, printed", .enabled(if: ProcessInfo.processInfo.environment["JOURNEY_MODEL_SEED"] != nil))
    func oneSeed() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["JOURNEY_MODEL_SEED"]!)!
        let pipeline = journeyModelPipeline(seed: seed)
        let events = journeyModelEvents(seed: seed, pipeline: pipeline)
        let untilOption = journeyModelUntil(seed: seed, events: events)
        let until = untilOption ?? events.last!.time
        let compiled = try JourneyHarness.compile(pipeline).get()
        let lines = try JourneyHarness.run(compiled, events: events, until: untilOption)
        print("pipeline:\n\(pipeline.yaml)events:\n" + events.map { "  \($0.line)" }.joined(separator: "\n"))
        print("until: \(untilOption.map(rfc3339) ?? "none")")
        for customer in Set(events.map(\.customer)).sorted() {
            print("records of \(customer):")
            for line in lines where line.contains(#""customer":"\#(customer)""#) { print("  \(line)") }
            for rule in JMMemoryRule.allCases {
                print("model (\(rule)):")
                let model = JourneyModel.run(pipeline, customer: customer, events: events, until: until, rule: rule)
                for r in model.records { print("  \(r.description)") }
            }
        }
        let outcome = check(seed: seed)
        print(outcome.failure ?? outcome.entryNumbers ?? "agrees under \(outcome.rules)")
    }

    /// 150 seeds of 60–120 events, in batches that run in parallel.
    @Test("records equal the naive model's for seeded pipelines of caps, keys, re-entry rules, exits and priorities",
          arguments: [UInt64(1)...50, 51...100, 101...150])
    func randomPipelines(seeds: ClosedRange<UInt64>) {
        var failures: [String] = []
        var entryNumbers: [String] = []
        var summary: [String: Int] = [:]
        for seed in seeds {
            let outcome = check(seed: seed)
            if let e = outcome.entryNumbers {
                entryNumbers.append(e)
                summary["entry numbers only", default: 0] += 1
            }
            if let failure = outcome.failure {
                failures.append(failure)
                if failures.count >= 3 { break }
                continue
            }
            for (k, v) in outcome.counts { summary[k, default: 0] += v }
            if outcome.rulesDiffer { summary["rules: " + (outcome.rules.isEmpty ? "none" : outcome.rules.map(\.rawValue).joined(separator: "+")), default: 0] += 1 }
            for s in outcome.observations.completedSteps { summary["completed at " + s, default: 0] += 1 }
        }
        if ProcessInfo.processInfo.environment["JOURNEY_MODEL_VERBOSE"] != nil {
            print("seeds \(seeds):", summary.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        #expect(entryNumbers.isEmpty, "\(entryNumbers.prefix(3).joined(separator: "\n\n"))")
    }
}

@Suite("journeys on shuffled streams")
struct JourneyLatenessTests {
    /// docs/pipeline-reference.md: "a stream shuffled by up to `lateness` gives the same
    /// records, byte for byte, as the same stream in time order"; timers fire in time order
    /// with the events, once the watermark has reached them.
    @Test("a stream shuffled within events.lateness gives the records of the stream in order, byte for byte",
          arguments: [UInt64(1)...40, 41...80])
    func shuffledWithinLateness(seeds: ClosedRange<UInt64>) throws {
        var failures: [String] = []
        var reordered = 0
        for seed in seeds {
            var pipeline = journeyModelPipeline(seed: seed)
            let events = journeyModelEvents(seed: seed, pipeline: pipeline)
            let until = journeyModelUntil(seed: seed, events: events)
            let inOrder = try JourneyHarness.run(JourneyHarness.compile(pipeline).get(), events: events, until: until)
            let lateness: Int64 = [600, 1800, 3600][Int(seed % 3)]
            pipeline.lateness = lateness
            let shuffled = journeyModelShuffled(events, lateness: lateness, seed: seed)
            if shuffled.map(\.line) != events.map(\.line) { reordered += 1 }
            let got = try JourneyHarness.run(JourneyHarness.compile(pipeline).get(), events: shuffled, until: until)
            if got != inOrder {
                let n = zip(got, inOrder).prefix { $0 == $1 }.count
                failures.append("seed \(seed), lateness \(durationText(lateness)), until \(until.map(rfc3339) ?? "none"): record \(n) "
                    + "differs\nin order:\n  \(n < inOrder.count ? inOrder[n] : "(none)")\nshuffled:\n  \(n < got.count ? got[n] : "(none)")"
                    + "\npipeline:\n\(pipeline.yaml)arrival order:\n" + shuffled.map { "  \($0.line)" }.joined(separator: "\n"))
                if failures.count >= 3 { break }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
        #expect(reordered >= seeds.count * 3 / 4, "only \(reordered) streams were out of order")
    }
}

/// The smallest cases the model found, stated where a reader can see them.
@Suite("journey re-entry memory, found by the model")
struct JourneyReentryMemoryTests {
    private static let channel = JMChannel(name: "email", cap: nil, bare: true)

    private static func journey(_ name: String, entry: String, mode: ReentryMode? = nil, cooldown: Int64? = nil,
                                exit: String? = nil, steps: [JMStep]) -> JMJourney {
        JMJourney(name: name, entryType: entry, keyed: false, writesReentry: mode != nil || cooldown != nil, mode: mode,
                  cooldown: cooldown, max: nil, exitType: exit, priority: nil, steps: steps,
                  ids: steps.map { _ in nil })
    }

    /// The `entry` of each `enter` record of journey `name`, in order.
    private static func entries(_ pipeline: JMPipeline, _ events: [(Int64, String)], journey name: String) throws -> [Int] {
        let stream = events.map { JMEvent(customer: "c", time: journeyModelBase + $0.0, type: $0.1, key: nil) }
        let compiled = try JourneyHarness.compile(pipeline).get()
        let lines = try JourneyHarness.run(compiled, events: stream, until: stream.last!.time + 86_400)
        return lines.compactMap { line in
            guard let m = JourneyHarness.members(line), m[0].1 == "\"enter\"", m[4].1 == "\"\(name)\"" else { return nil }
            return Int(m.last!.1)
        }
    }

    @Test("an event that ends an instance (exit) and enters again starts entry 1 without re-entry rules")
    func exitAndEnterInOneMoment() throws {
        // docs/journeys.md: "otherwise it is dropped when the instance ends. `journey.entries`
        // counts the entries remembered, so without those rules each entry after the previous
        // instance ended is entry 1."
        for mode in [ReentryMode.afterExit, .always] {
            let pipeline = JMPipeline(channels: [Self.channel], journeys: [
                Self.journey("j", entry: "a", mode: mode, exit: "a",
                             steps: [.wait(3600), .send(channel: 0, template: "t")]),
            ])
            let got = try Self.entries(pipeline, [(0, "a"), (600, "a"), (1200, "a")], journey: "j")
            #expect(got == [1, 1, 1], "mode \(mode)")
        }
    }

    @Test("an unrelated journey's entry does not change the next entry number of a journey with a cooldown")
    func cooldownMemoryDoesNotDependOnOtherMoments() throws {
        // Entries of `j` at 0 and 60m with a 30m cooldown; in the second stream, `other` enters
        // at 45m. Whether memory is forgotten when the instance ends (entry 2 both times) or once
        // the cooldown has passed (entry 1 both times), `other` cannot change it.
        let pipeline = JMPipeline(channels: [Self.channel], journeys: [
            Self.journey("j", entry: "a", cooldown: 1800, steps: [.send(channel: 0, template: "t")]),
            Self.journey("other", entry: "b", steps: [.send(channel: 0, template: "t")]),
        ])
        let alone = try Self.entries(pipeline, [(0, "a"), (3600, "a")], journey: "j")
        let besides = try Self.entries(pipeline, [(0, "a"), (2700, "b"), (3600, "a")], journey: "j")
        #expect(alone == besides, "without 'other': \(alone); with it: \(besides)")
    }
}
