import Testing
@testable import CairnCore

/// Journeys, channels, erase and zones compiled into `CompiledPipeline` (the contract with the
/// journey runtime, CompiledPipeline+Journeys.swift): the flattened step list and its
/// continuations, policies with their defaults, and the errors of the new forms.
struct JourneyCompileTests {
    static func compile(_ source: String) throws -> CompiledPipeline {
        switch PipelineCompiler.compile(file: "p.yaml", source: source) {
        case .success(let pipeline): return pipeline
        case .failure(let errors):
            Issue.record("did not compile:\n\(errors.rendered())")
            throw errors
        }
    }

    static func errors(_ source: String) -> [Diagnostic] {
        switch PipelineCompiler.compile(file: "p.yaml", source: source) {
        case .success: return []
        case .failure(let errors): return errors.diagnostics.filter { $0.severity == .error }
        }
    }

    static let header = """
        cairn: 1
        name: t
        events: { customer: user_id, time: ts, type: event }

        """

    /// A compact view of a step for comparing: its name and its op with continuations.
    static func describe(_ step: CompiledPipeline.Step, _ channels: [CompiledPipeline.Channel]) -> String {
        switch step.op {
        case .send(let s): "\(step.name) send \(channels[s.channel].name)/\(s.template) -> \(s.next)"
        case let .wait(nanos, next): "\(step.name) wait \(nanos / 1_000_000_000)s -> \(next)"
        case let .waitUntil(minute, days, next): "\(step.name) until \(minute) days \(days.rawValue) -> \(next)"
        case let .waitFor(_, timeout, then, otherwise):
            "\(step.name) wait_for \(timeout / 1_000_000_000)s then \(then) else \(otherwise)"
        case let .branch(arms, otherwise):
            "\(step.name) branch \(arms.map(\.target)) else \(otherwise)"
        case .split(let split):
            "\(step.name) split \(split.variants.map { "\($0.name)<\($0.upper)@\($0.target)\($0.holdout ? "h" : "")" }) of \(split.total)"
        case .exit(let reason): "\(step.name) exit \(reason)"
        case .complete: "\(step.name) complete"
        }
    }

    static let flattening = header + """
        journeys:
          - name: j
            entry: type == "a"
            steps:
              - id: w
                wait_for: { event: type == "b", timeout: 1d }
                then: [ { send: { channel: email, template: t1 } } ]
                else: [ { wait: 1h }, { exit: timed_out } ]
              - branch:
                  - when: event.x > 1.0
                    steps: [ { send: { channel: email, template: big } } ]
                  - else: [ { send: { channel: push, template: small } } ]
              - split:
                  salt: s1
                  variants:
                    a: { weight: 30, steps: [ { send: { channel: email, template: va } }, { wait: { until: "09:00", days: [mon, fri] } } ] }
                    control: { weight: 10, holdout: true }
                    b: { weight: 60 }
              - send: { channel: email, template: last }
        """

    @Test("steps are flattened depth first in file order, each nested list continuing after its parent")
    func flattening() throws {
        let pipeline = try Self.compile(Self.flattening)
        let journey = pipeline.journeys[0]
        #expect(journey.steps.map { Self.describe($0, pipeline.channels) } == [
            "w wait_for 86400s then 1 else 2",
            "steps[0].then[0] send email/t1 -> 4",
            "steps[0].else[0] wait 3600s -> 3",
            "steps[0].else[1] exit timed_out",
            "steps[1] branch [5] else 6",
            "steps[1].branch[0].steps[0] send email/big -> 7",
            "steps[1].branch[1].else[0] send push/small -> 7",
            "steps[2] split [\"a<30@8\", \"control<40@10h\", \"b<100@10\"] of 100",
            "steps[2].split.variants.a.steps[0] send email/va -> 9",
            "steps[2].split.variants.a.steps[1] until 540 days 17 -> 10",
            "steps[3] send email/last -> 11",
            "end complete",
        ])
        #expect(journey.steps.map(\.nameHash) == journey.steps.map { CompiledPipeline.nameHash($0.name) })
        guard case .split(let split) = journey.steps[7].op else { Issue.record("not a split"); return }
        #expect(split.salt == Array("s1".utf8).withUnsafeBytes { XXH64.hash($0, seed: 0) })
        #expect(split.variants.map(\.nameHash) == ["a", "control", "b"].map(CompiledPipeline.nameHash))
        #expect(pipeline.channels.map(\.name) == ["email", "push"])
        // Fields read by the steps (type in wait_for, event.x in the branch), sorted.
        let x = try #require(pipeline.fields.id(of: ["x"]))
        #expect(journey.capture == [pipeline.typeField, x].sorted())
    }

    @Test("a list nested two deep continues with the step after its outermost parent's list item")
    func nested() throws {
        let pipeline = try Self.compile(Self.header + """
            journeys:
              - name: j
                entry: type == "a"
                steps:
                  - branch:
                      - when: type == "x"
                        steps:
                          - wait_for: { event: type == "y", timeout: 1h }
                            then: [ { send: { channel: email, template: a } } ]
                  - send: { channel: email, template: b }
            """)
        #expect(pipeline.journeys[0].steps.map { Self.describe($0, pipeline.channels) } == [
            "steps[0] branch [1] else 3",
            "steps[0].branch[0].steps[0] wait_for 3600s then 2 else 3",
            "steps[0].branch[0].steps[0].then[0] send email/a -> 3",
            "steps[1] send email/b -> 4",
            "end complete",
        ])
    }

    @Test("an empty then, else or arm goes on with the step after its parent")
    func emptyLists() throws {
        let pipeline = try Self.compile(Self.header + """
            journeys:
              - name: j
                entry: type == "a"
                steps:
                  - wait_for: { event: type == "y", timeout: 1h }
                  - branch:
                      - when: type == "x"
                        steps: []
                  - exit: done
            """)
        #expect(pipeline.journeys[0].steps.map { Self.describe($0, pipeline.channels) } == [
            "steps[0] wait_for 3600s then 1 else 1",
            "steps[1] branch [2] else 2",
            "steps[2] exit done",
            "end complete",
        ])
    }

    static let policies = header + """
        profile:
          open: { count: type == "ticket_opened", minus: type == "ticket_closed" }
          tz: { last: event.tz, where: has(event.tz), default: "UTC" }
        timezone: profile.tz
        default_timezone: Europe/Paris
        channels:
          email: { cap: 3 per 7d, quiet: 21:00-08:00, consent: event.ok == true }
          push: { cap: 1 per calendar day, quiet: { hours: "22:30-07:00", mode: drop }, timezone: event.ptz }
          sms: { cap: 2 per 7 calendar days }
        erase: type == "erasure_request"
        journeys:
          - name: full
            entry: type == "add_to_cart"
            key: event.cart
            reentry: { mode: always, cooldown: 1h, max: 3 }
            exit: type == "purchase" && event.cart == journey.key
            hold: { when: profile.open > 0, mode: wait, max: 2d }
            goal: { when: type == "purchase", within: 7d, continue: true }
            priority: 5
            steps:
              - send: { channel: sms, template: a, data: { sku: event.sku, step: journey.step } }
          - name: plain
            entry: type == "x"
            hold: profile.open > 0
            goal: { when: type == "y" }
            steps:
              - send: { channel: email, template: b }
          - name: skipping
            entry: type == "z"
            hold: { when: profile.open > 0, mode: skip }
            steps:
              - send: { channel: push, template: c }
        """

    @Test("channels, zones, erase and journey policies compile with their defaults")
    func policiesCompile() throws {
        let pipeline = try Self.compile(Self.policies)
        #expect(pipeline.channels.map(\.name) == ["email", "push", "sms"])
        let email = pipeline.channels[0], push = pipeline.channels[1], sms = pipeline.channels[2]
        #expect(email.cap == CompiledPipeline.Cap(count: 3, period: .rolling(nanos: 7 * 86_400 * 1_000_000_000)))
        #expect(email.quiet == CompiledPipeline.Quiet(start: 21 * 60, end: 8 * 60, mode: .defer))
        #expect(email.consent != nil)
        #expect(push.cap == CompiledPipeline.Cap(count: 1, period: .calendarDays(1)))
        #expect(push.quiet == CompiledPipeline.Quiet(start: 22 * 60 + 30, end: 7 * 60, mode: .drop))
        #expect(sms.cap == CompiledPipeline.Cap(count: 2, period: .calendarDays(7)))
        // A channel's own timezone wins; the others take the pipeline's.
        #expect(push.timezone?.profileFieldsRead == [])
        #expect(push.timezone?.fieldsRead == [pipeline.fields.id(of: ["ptz"])!])
        #expect(email.timezone?.profileFieldsRead == [1])
        #expect(sms.timezone?.profileFieldsRead == [1])
        #expect(pipeline.timezone?.profileFieldsRead == [1])
        #expect(pipeline.defaultZone.name == "Europe/Paris")
        #expect(pipeline.erase != nil)

        let full = pipeline.journeys[0]
        #expect(full.key != nil)
        #expect(full.reentry == CompiledPipeline.Reentry(mode: .always, cooldown: 3_600_000_000_000, max: 3))
        #expect(full.exit?.readsJourney == true)
        #expect(full.hold?.mode == .wait)
        #expect(full.hold?.max == Int64(172_800_000_000_000))
        #expect(full.goal?.within == Int64(604_800_000_000_000))
        #expect(full.goal?.continues == true)
        #expect(full.priority == 5)
        guard case .send(let send) = full.steps[0].op else { Issue.record("not a send"); return }
        #expect(send.data.map(\.name) == ["sku", "step"])
        #expect(send.data[1].value.readsJourney)
        #expect(send.data[1].value.journeyFieldsRead == [ExprJourney.Field.step.rawValue])
        // Captured: what steps, hold, exit and goal read of the event (not entry's or key's own).
        let ids = [["sku"], ["cart"]].map { pipeline.fields.id(of: $0)! } + [pipeline.typeField]
        #expect(full.capture == ids.sorted())

        let plain = pipeline.journeys[1]
        #expect(plain.key == nil)
        #expect(plain.reentry == CompiledPipeline.Reentry(mode: .afterExit, cooldown: nil, max: nil))
        #expect(plain.hold?.mode == .wait)
        #expect(plain.hold?.max == PipelineCompiler.defaultHoldMax)
        #expect(plain.goal?.within == nil)
        #expect(plain.goal?.continues == false)
        #expect(plain.priority == 0)
        #expect(pipeline.journeys[2].hold?.mode == .skip)
    }

    @Test("without zones the default zone is UTC and no channel has a timezone")
    func noZones() throws {
        let pipeline = try Self.compile(Self.flattening)
        #expect(pipeline.defaultZone == .utc)
        #expect(pipeline.timezone == nil)
        #expect(pipeline.channels.allSatisfy { $0.timezone == nil && $0.cap == nil && $0.quiet == nil })
        #expect(pipeline.erase == nil)
    }

    @Test("a pipeline timezone reaches channels added for sends when none are declared")
    func undeclaredChannelZone() throws {
        let pipeline = try Self.compile(Self.header + """
            timezone: event.tz
            journeys:
              - name: j
                entry: type == "a"
                steps: [ { send: { channel: email, template: t } } ]
            """)
        #expect(pipeline.channels.map(\.name) == ["email"])
        #expect(pipeline.channels[0].timezone != nil)
    }

    /// A pipeline with `fragment` at the journey level (`journey`), at the top (`top`), or as
    /// its steps (`steps`).
    static func pipeline(top: String = "", journey: String = "",
                         steps: String = "      - send: { channel: email, template: hi }") -> String {
        var text = header
        if !top.isEmpty { text += top + "\n" }
        text += "journeys:\n  - name: j\n    entry: type == \"a\"\n"
        if !journey.isEmpty { text += journey + "\n" }
        return text + "    steps:\n" + steps + "\n"
    }

    struct Rule: CustomTestStringConvertible, Sendable {
        var source: String
        /// The text the error points at (its first occurrence).
        var at: String
        var message: String
        var hint: String?
        var testDescription: String { message }
    }

    static let rules: [Rule] = [
        Rule(source: pipeline(steps: "      - wait: { days: [mon] }"), at: "{ days",
             message: "missing key 'until' in 'wait' of steps[0] of journey 'j'",
             hint: "the local time of day to wait for, e.g. until: \"09:00\"; or write wait: DURATION"),
        Rule(source: pipeline(steps: "      - wait: { until: \"24:00\" }"), at: "\"24:00",
             message: "expected a time of day such as 09:00, got '24:00'",
             hint: "local time HH:MM on a 24-hour clock; quote it: until: \"09:00\""),
        Rule(source: pipeline(steps: "      - wait: { until: \"09:00\", days: [mon, Tue] }"), at: "Tue",
             message: "unknown day 'Tue'", hint: "did you mean 'tue'?"),
        Rule(source: pipeline(steps: "      - wait: { until: \"09:00\", days: [fri, fri] }"), at: "fri]",
             message: "day 'fri' appears twice in 'days' of 'wait' of steps[0] of journey 'j'", hint: "list each day once"),
        Rule(source: pipeline(steps: "      - wait: { until: \"09:00\", days: [] }"), at: "[]",
             message: "'days' of 'wait' of steps[0] of journey 'j' is empty",
             hint: "list at least one day, or leave 'days' out to wait for any day"),
        Rule(source: pipeline(steps: "      - wait: { until: \"09:00\", on: [mon] }"), at: "on",
             message: "unknown key 'on' in 'wait' of steps[0] of journey 'j'", hint: "expected one of 'until', 'days'"),
        Rule(source: pipeline(journey: "    hold: { mode: skip }"), at: "{ mode",
             message: "missing key 'when' in 'hold' of journey 'j'",
             hint: "the condition that holds sends back, e.g. when: profile.open_tickets > 0"),
        Rule(source: pipeline(journey: "    hold: { when: type == \"t\", mode: skip, max: 1d }"), at: "max",
             message: "'max' does not apply to hold mode 'skip'",
             hint: "with 'skip' a held send is skipped at once; 'max' bounds how long mode 'wait' waits"),
        Rule(source: pipeline(journey: "    hold: { when: type == \"t\", mode: pause }"), at: "pause",
             message: "unknown hold mode 'pause'", hint: "expected one of 'wait', 'skip'"),
        Rule(source: pipeline(journey: "    hold: { when: type == \"t\", max: 0s }"), at: "0s",
             message: "'max' of 'hold' of journey 'j' must be longer than 0s",
             hint: "a zero duration has no effect here; leave the key out or give a length"),
        Rule(source: pipeline(journey: "    goal: { when: type == \"t\", continue: 1 }"), at: "1 }",
             message: "'continue' of 'goal' of journey 'j' must be true or false, got '1'"),
        Rule(source: pipeline(top: "default_timezone: Mars/Olympus"), at: "Mars",
             message: "unknown time zone 'Mars/Olympus'",
             hint: "an IANA zone name such as Europe/Paris or America/New_York, 'UTC', or an offset such as +02:00"),
        Rule(source: pipeline(top: "timezone: profile.tz"), at: "tz",
             message: "undeclared profile field 'tz'", hint: "declare it under 'profile' in the pipeline"),
        Rule(source: pipeline(top: "channels:\n  email: { quiet: { mode: drop } }"), at: "{ mode",
             message: "missing key 'hours' in 'quiet' of channel 'email'",
             hint: "the local hours when nothing is sent, e.g. hours: 21:00-08:00"),
        Rule(source: pipeline(top: "channels:\n  email: { quiet: { hours: 09:00-09:00 } }"), at: "09:00-",
             message: "quiet hours '09:00-09:00' start and end at the same time",
             hint: "give a range such as 21:00-08:00, or leave 'quiet' out"),
        Rule(source: pipeline(top: "channels:\n  email: { quiet: { hours: 21:00-08:00, mode: later } }"), at: "later",
             message: "unknown quiet mode 'later'", hint: "expected one of 'defer', 'drop'"),
        Rule(source: pipeline(top: "channels:\n  email: { cap: 1 per calendar week }"), at: "1 per",
             message: "expected a cap such as 1 per calendar day or 2 per 7 calendar days, got '1 per calendar week'",
             hint: PipelineSchemaTests.capHint),
        Rule(source: pipeline(top: "channels:\n  email: { cap: 1 per 400 calendar days }"), at: "400",
             message: "the days of a calendar cap must be between 1 and 366, got 400", hint: PipelineSchemaTests.capHint),
        Rule(source: pipeline(journey: "    exit: journey.entries > 2 && journey.steps == \"x\""), at: "steps",
             message: "'journey' has no field 'steps'", hint: "did you mean 'step'?"),
        Rule(source: pipeline(journey: "    key: journey.key"), at: "journey.key",
             message: "'journey' is not available in 'key' of journey 'j'",
             hint: "'key' names the instance, so it is evaluated before there is one; " + ExprJourney.whereAvailable),
        Rule(source: pipeline(top: "profile:\n  n: { count: journey.step == \"x\" }"), at: "journey.step",
             message: "'journey' is not available in 'count' of profile 'n'",
             hint: "it is evaluated outside any journey instance; " + ExprJourney.whereAvailable),
        Rule(source: pipeline(top: "channels:\n  email: { timezone: journey.variant }"), at: "journey.variant",
             message: "'journey' is not available in 'timezone' of channel 'email'",
             hint: "it is evaluated outside any journey instance; " + ExprJourney.whereAvailable),
    ]

    @Test("each error of the new forms is reported at its line and column, with its hint", arguments: rules)
    func rule(_ rule: Rule) throws {
        let found = Self.errors(rule.source)
        #expect(found.count == 1, "\(found.map(\.message))")
        let d = try #require(found.first)
        let lines = rule.source.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains(rule.at) })
        let column = lines[line].unicodeScalars.distance(
            from: lines[line].startIndex, to: lines[line].range(of: rule.at)!.lowerBound) + 1
        #expect(d.message == rule.message)
        #expect((d.line, d.column) == (line + 1, column))
        #expect(d.hint == rule.hint)
    }

    @Test("journey is readable in exit, hold, goal, wait_for, branch and send data", arguments: [
        "    exit: journey.key == \"k\"",
        "    hold: journey.entries > 1",
        "    hold: { when: journey.step == \"s\", mode: skip }",
        "    goal: { when: journey.variant == \"a\" }",
    ])
    func journeyWhereAvailable(_ fragment: String) {
        #expect(Self.errors(Self.pipeline(journey: fragment)) == [])
    }

    @Test("journey is readable in the steps' expressions")
    func journeyInSteps() {
        let steps = """
                  - wait_for: { event: journey.entered_at < now, timeout: 1h }
                  - branch:
                      - when: journey.entries == 1
                        steps: []
                  - send: { channel: email, template: t, data: { v: journey.variant } }
            """
        #expect(Self.errors(Self.pipeline(steps: steps)) == [])
    }
}
