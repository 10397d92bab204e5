/// The compiled form of journeys, channels and erasure: what `JourneyEngine` runs.
///
/// A journey's steps are flattened into one array: nested lists (`then`, `else`, branch arms,
/// split variants) follow their parent step in file order, and every step names the index it
/// continues with. The last element is always `.complete` (the end of the top-level list), so a
/// journey that runs off the end of any list reaches it. Semantics: docs/journeys.md.
extension CompiledPipeline {
    /// One journey as the runtime executes it.
    public struct Journey: Sendable {
        public var name: String
        /// Low 32 bits of XXH64(name): how instances in the state name their journey, so that
        /// they find it again after the pipeline changes.
        public var nameHash: UInt32
        public var entry: Program
        /// `key:`: one instance per value (its text: a string as is, other values as JSON).
        public var key: Program?
        public var reentry: Reentry
        /// `exit:`, checked on every event of the customer while an instance runs.
        public var exit: Program?
        public var hold: Hold?
        public var goal: Goal?
        /// `priority:` (default 0): higher sends first when a cap allows fewer sends than asked
        /// for at one moment.
        public var priority: Int
        /// Flattened; never empty (the last is `.complete`).
        public var steps: [Step]
        /// The event fields any step expression of this journey reads (send data, branch
        /// conditions, `hold`, `wait_for`...), sorted: an instance keeps these values of the
        /// event that entered it, so that a step run by a timer (no event) still reads them as
        /// `event.…`. Includes the pipeline's type and customer fields when steps read them.
        public var capture: [FieldID]

        public init(name: String, entry: Program, steps: [Step]) {
            self.name = name
            self.nameHash = CompiledPipeline.nameHash(name)
            self.entry = entry
            self.reentry = Reentry(mode: .afterExit, cooldown: nil, max: nil)
            self.priority = 0
            self.steps = steps
            self.capture = []
        }
    }

    public struct Reentry: Sendable, Equatable {
        public var mode: ReentryMode
        /// ns between the previous entry and the next.
        public var cooldown: Int64?
        public var max: Int?
    }

    /// `hold:`: while `when` holds, a send waits (`.wait`, at most `max` ns, then it is skipped
    /// with reason `hold`) or is skipped at once (`.skip`).
    public struct Hold: Sendable {
        public enum Mode: String, Sendable, CaseIterable { case wait, skip }
        public var when: Program
        public var mode: Mode
        /// ns; used with `.wait`.
        public var max: Int64
    }

    /// `goal:`: conversion, checked on every event while an instance runs.
    public struct Goal: Sendable {
        public var when: Program
        /// ns after entry; nil = as long as the instance runs.
        public var within: Int64?
        /// `continue: true`: record the goal and go on; default: the instance ends (reason `goal`).
        public var continues: Bool
    }

    /// One step of the flattened list.
    public struct Step: Sendable {
        /// `id:` or the YAML path (`steps[2].then[0]`): how records and the state name it.
        public var name: String
        /// Low 32 bits of XXH64(name).
        public var nameHash: UInt32
        public var op: Op

        public init(name: String, op: Op) {
            self.name = name
            self.nameHash = CompiledPipeline.nameHash(name)
            self.op = op
        }
    }

    public enum Op: Sendable {
        case send(Send)
        /// `wait: DURATION`: go on at `next` that long after the wait began.
        case wait(nanos: Int64, next: Int)
        /// `wait: { until: "HH:MM", days: [...] }`: go on at `next` at the first instant, at or
        /// after the wait began, when the customer's local time is `minute` on one of `days`.
        case waitUntil(minute: Int, days: WeekdaySet, next: Int)
        /// Go on at `then` when an event matching `event` arrives before `timeout` ns have
        /// passed; at `otherwise` when they have.
        case waitFor(event: Program, timeout: Int64, then: Int, otherwise: Int)
        /// The first arm whose condition holds, else `otherwise`.
        case branch(arms: [BranchArm], otherwise: Int)
        case split(Split)
        /// The instance ends with this reason.
        case exit(reason: String)
        /// The end of the journey's steps: the instance ends with reason `completed`.
        case complete
    }

    public struct BranchArm: Sendable {
        public var when: Program
        public var target: Int
    }

    /// A `send` step.
    public struct Send: Sendable {
        /// Index into `CompiledPipeline.channels`.
        public var channel: Int
        public var template: String
        /// `data:` in file order.
        public var data: [DataField]
        public var next: Int
    }

    public struct DataField: Sendable {
        public var name: String
        public var value: Program
    }

    /// A split: variant `i` takes customers whose bucket (XXH64 of customer, key and salt,
    /// modulo `total`) is below `variants[i].upper` and at or above the previous one's.
    public struct Split: Sendable {
        /// XXH64 of the salt's text.
        public var salt: UInt64
        /// Sum of the weights (> 0).
        public var total: UInt64
        public var variants: [Variant]
    }

    public struct Variant: Sendable {
        public var name: String
        public var nameHash: UInt32
        /// Cumulative weight up to and including this variant.
        public var upper: UInt64
        public var holdout: Bool
        /// Where its steps begin (the step after the split for a variant without steps).
        public var target: Int
    }

    /// A channel and its policies. Every channel a send names is here: those without an entry
    /// under `channels:` (allowed when the pipeline declares none) have no policies.
    public struct Channel: Sendable {
        public var name: String
        public var cap: Cap?
        public var quiet: Quiet?
        /// `timezone:` of the channel, else the pipeline's `timezone:`; nil: the default zone.
        public var timezone: Program?
        public var consent: Program?

        public init(name: String) { self.name = name }
    }

    /// `cap: N per DURATION` (rolling: at most `count` sends in any `per` ns) or `cap: N per K
    /// calendar days` (at most `count` sends from local midnight K−1 days before today).
    public struct Cap: Sendable, Equatable {
        public var count: Int
        public enum Period: Sendable, Equatable {
            case rolling(nanos: Int64)
            case calendarDays(Int)
        }
        public var period: Period
    }

    /// `quiet:` local hours [start, end) in minutes after midnight (wrapping past midnight
    /// when end < start), and what a send in them does.
    public struct Quiet: Sendable, Equatable {
        public enum Mode: String, Sendable, CaseIterable { case `defer`, drop }
        public var start: Int
        public var end: Int
        public var mode: Mode
    }

    /// Days of the week, bit 0 Monday ... bit 6 Sunday.
    public struct WeekdaySet: OptionSet, Sendable, Equatable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let all = WeekdaySet(rawValue: 0x7F)
    }

    /// Low 32 bits of XXH64 of a name (seed 0).
    public static func nameHash(_ name: String) -> UInt32 {
        let bytes = Array(name.utf8)
        return UInt32(truncatingIfNeeded: bytes.withUnsafeBytes { XXH64.hash($0, seed: 0) })
    }
}

extension CompiledPipeline {
    /// The names of journeys, steps and variants, each once, in file order.
    public var names: [String] {
        var names: [String] = []
        var seen = Set<String>()
        func add(_ name: String) { if seen.insert(name).inserted { names.append(name) } }
        for journey in journeys {
            add(journey.name)
            for step in journey.steps {
                add(step.name)
                if case .split(let split) = step.op { split.variants.forEach { add($0.name) } }
            }
        }
        return names
    }

    /// Every program that runs after the profile has taken an event: journeys, channels,
    /// erasure and the customer's zone.
    public var programs: [Program] {
        var all: [Program] = []
        for journey in journeys {
            all.append(journey.entry)
            all += [journey.key, journey.exit, journey.hold?.when, journey.goal?.when].compactMap { $0 }
            for step in journey.steps {
                switch step.op {
                case .send(let send): all += send.data.map(\.value)
                case .waitFor(let event, _, _, _): all.append(event)
                case .branch(let arms, _): all += arms.map(\.when)
                case .wait, .waitUntil, .split, .exit, .complete: break
                }
            }
        }
        for channel in channels { all += [channel.consent, channel.timezone].compactMap { $0 } }
        all += [erase, timezone].compactMap { $0 }
        return all
    }
}
