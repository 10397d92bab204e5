extension PipelineCompiler {
    /// What compiling channels and journeys shares: the expression environment, the channels
    /// found so far, and the diagnostics.
    struct Context {
        var env: ExprEnvironment
        let loader: PipelineLoader
        var diagnostics: [Diagnostic]
        /// Declared channels first (file order), then those sends name without a declaration.
        var channels: [CompiledPipeline.Channel] = []
        /// The pipeline's `timezone:`, given to channels added for sends.
        var pipelineTimezone: Program?

        init(env: ExprEnvironment, loader: PipelineLoader, diagnostics: [Diagnostic]) {
            self.env = env
            self.loader = loader
            self.diagnostics = diagnostics
        }

        mutating func compile(_ expression: ExpressionSpec) -> Program? {
            PipelineCompiler.compileExpression(expression, env: &env, loader: loader, diagnostics: &diagnostics)
        }

        static func nanos(_ duration: PipelineDuration) -> Int64 { duration.seconds * 1_000_000_000 }

        // MARK: Channels

        /// A declared channel: its policies; its `timezone:`, else the pipeline's.
        mutating func compileChannel(_ spec: ChannelSpec, pipelineTimezone: Program?) -> CompiledPipeline.Channel {
            var channel = CompiledPipeline.Channel(name: spec.name.value)
            if let cap = spec.cap?.value {
                let period: CompiledPipeline.Cap.Period = switch cap.period {
                case .rolling(let d): .rolling(nanos: Self.nanos(d))
                case .calendarDays(let k): .calendarDays(k)
                }
                channel.cap = CompiledPipeline.Cap(count: cap.count, period: period)
            }
            if let quiet = spec.quiet?.value {
                channel.quiet = CompiledPipeline.Quiet(start: quiet.start, end: quiet.end, mode: quiet.mode)
            }
            channel.timezone = spec.timezone.flatMap { compile($0) } ?? pipelineTimezone
            channel.consent = spec.consent.flatMap { compile($0) }
            return channel
        }

        /// The index of a channel a send names, adding it (without policies) when undeclared.
        mutating func channelIndex(_ name: String) -> Int {
            if let i = channels.firstIndex(where: { $0.name == name }) { return i }
            var channel = CompiledPipeline.Channel(name: name)
            channel.timezone = pipelineTimezone
            channels.append(channel)
            return channels.count - 1
        }

        // MARK: Journeys

        /// A journey with its steps flattened (see `CompiledPipeline.Journey`); nil when an
        /// expression failed (its errors are in `diagnostics`).
        mutating func compileJourney(_ spec: JourneySpec) -> CompiledPipeline.Journey? {
            let errorsBefore = diagnostics.count { $0.severity == .error }
            let entry = compile(spec.entry)
            let key = spec.key.flatMap { compile($0) }
            let exit = spec.exit.flatMap { compile($0) }
            var hold: CompiledPipeline.Hold?
            if let h = spec.hold, let when = compile(h.when) {
                hold = CompiledPipeline.Hold(
                    when: when, mode: h.mode?.value ?? .wait,
                    max: h.max.map { Self.nanos($0.value) } ?? PipelineCompiler.defaultHoldMax)
            }
            var goal: CompiledPipeline.Goal?
            if let g = spec.goal, let when = compile(g.when) {
                goal = CompiledPipeline.Goal(when: when, within: g.within.map { Self.nanos($0.value) },
                                             continues: g.continues)
            }
            var layout = StepLayout()
            let end = layout.size(of: spec.steps)
            layout.steps.reserveCapacity(end + 1)
            lay(spec.steps, continuation: end, into: &layout)
            layout.steps.append(CompiledPipeline.Step(name: "end", op: .complete))

            guard let entry, diagnostics.count(where: { $0.severity == .error }) == errorsBefore else { return nil }
            var journey = CompiledPipeline.Journey(name: spec.name.value, entry: entry, steps: layout.steps)
            journey.key = key
            if let r = spec.reentry {
                journey.reentry = CompiledPipeline.Reentry(
                    mode: r.mode.value, cooldown: r.cooldown.map { Self.nanos($0.value) }, max: r.max?.value)
            }
            journey.exit = exit
            journey.hold = hold
            journey.goal = goal
            journey.priority = spec.priority?.value ?? 0
            var capture = Set(layout.programs.flatMap(\.fieldsRead))
            for program in [hold?.when, exit, goal?.when] {
                if let program { capture.formUnion(program.fieldsRead) }
            }
            journey.capture = capture.sorted()
            return journey
        }

        /// Lays out `list` from `layout.steps.count` on, depth first in file order; the list
        /// ends by going on at `continuation`.
        mutating func lay(_ list: [StepSpec], continuation: Int, into layout: inout StepLayout) {
            for (i, step) in list.enumerated() {
                let at = layout.steps.count
                let next = i + 1 < list.count ? at + layout.size(of: step) : continuation
                // Nested lists start right after the step, one after the other.
                var nested = at + 1
                func start(_ steps: [StepSpec]) -> Int {
                    defer { nested += layout.size(of: steps) }
                    return steps.isEmpty ? next : nested
                }
                let op: CompiledPipeline.Op
                var children: [[StepSpec]] = []
                switch step.kind {
                case .send(let send):
                    var data: [CompiledPipeline.DataField] = []
                    for field in send.data {
                        if let value = compile(field.value) {
                            layout.programs.append(value)
                            data.append(CompiledPipeline.DataField(name: field.name.value, value: value))
                        }
                    }
                    op = .send(CompiledPipeline.Send(channel: channelIndex(send.channel.value),
                                                     template: send.template.value, data: data, next: next))
                case .wait(let d):
                    op = .wait(nanos: Self.nanos(d.value), next: next)
                case .waitUntil(let w):
                    op = .waitUntil(minute: w.minute.value, days: w.days, next: next)
                case .waitFor(let w):
                    let event = compile(w.event)
                    if let event { layout.programs.append(event) }
                    let then = start(w.then), otherwise = start(w.otherwise)
                    children = [w.then, w.otherwise]
                    op = .waitFor(event: event ?? Self.placeholder, timeout: Self.nanos(w.timeout.value),
                                  then: then, otherwise: otherwise)
                case .branch(let armSpecs):
                    var arms: [CompiledPipeline.BranchArm] = []
                    var otherwise = next
                    for arm in armSpecs {
                        let target = start(arm.steps)
                        children.append(arm.steps)
                        if let when = arm.when {
                            let program = compile(when)
                            if let program { layout.programs.append(program) }
                            arms.append(CompiledPipeline.BranchArm(when: program ?? Self.placeholder, target: target))
                        } else {
                            otherwise = target
                        }
                    }
                    op = .branch(arms: arms, otherwise: otherwise)
                case .split(let split):
                    var upper: UInt64 = 0
                    var variants: [CompiledPipeline.Variant] = []
                    for variant in split.variants {
                        upper += UInt64(variant.weight.value)
                        let target = start(variant.steps)
                        children.append(variant.steps)
                        variants.append(CompiledPipeline.Variant(
                            name: variant.name.value, nameHash: CompiledPipeline.nameHash(variant.name.value),
                            upper: upper, holdout: variant.holdout, target: target))
                    }
                    let salt = Array(split.salt.value.utf8).withUnsafeBytes { XXH64.hash($0, seed: 0) }
                    op = .split(CompiledPipeline.Split(salt: salt, total: upper, variants: variants))
                case .exit(let reason):
                    op = .exit(reason: reason.value)
                }
                layout.steps.append(CompiledPipeline.Step(name: step.name, op: op))
                for child in children { lay(child, continuation: next, into: &layout) }
            }
        }

        /// Stands in for a program that failed to compile; the journey is then dropped.
        static let placeholder: Program = {
            var env = ExprEnvironment(fields: FieldPaths(), typeField: 0, customerField: 0)
            return try! ExprCompiler.compile("false", in: &env).get()
        }()
    }

    /// The flattened steps of one journey as they are laid out, and the programs its steps run.
    struct StepLayout {
        var steps: [CompiledPipeline.Step] = []
        var programs: [Program] = []

        /// How many flattened steps a step takes: itself and its nested lists.
        func size(of step: StepSpec) -> Int {
            switch step.kind {
            case .send, .wait, .waitUntil, .exit: 1
            case .waitFor(let w): 1 + size(of: w.then) + size(of: w.otherwise)
            case .branch(let arms): 1 + arms.reduce(0) { $0 + size(of: $1.steps) }
            case .split(let split): 1 + split.variants.reduce(0) { $0 + size(of: $1.steps) }
            }
        }

        func size(of list: [StepSpec]) -> Int { list.reduce(0) { $0 + size(of: $1) } }
    }

    /// `hold:` without `max:` waits at most this long (7 days, in ns).
    public static let defaultHoldMax: Int64 = 7 * 86_400 * 1_000_000_000
}
