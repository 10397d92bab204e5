/// Compiles a `PipelineSpec` into a `CompiledPipeline`, or reports every error it finds.
public enum PipelineCompiler {
    /// Loads and compiles a pipeline file's text for a run.
    ///
    /// The load's warnings travel on in `CompiledPipeline.warnings`.
    public static func compile(file: String, source: String) -> Result<CompiledPipeline, PipelineErrors> {
        switch PipelineLoader.load(file: file, source: source, accepting: .runnable) {
        case .failure(let errors): return .failure(errors)
        case .success(let spec): return compile(spec)
        }
    }

    /// Compiles a loaded spec. A spec that uses parts of the language this version does not run
    /// (`spec.unsupported`, possible after a `.language` load) is refused with those errors.
    public static func compile(_ spec: PipelineSpec) -> Result<CompiledPipeline, PipelineErrors> {
        if !spec.unsupported.isEmpty {
            return .failure(PipelineErrors(diagnostics: spec.unsupported + spec.warnings, source: spec.source))
        }
        var fields = FieldPaths()
        let customer = fields.intern(spec.events.customer.value)
        let time = fields.intern(spec.events.time.value)
        let type = fields.intern(spec.events.type.value)
        var env = ExprEnvironment(fields: fields, typeField: type, customerField: customer)
        let loader = PipelineLoader(file: spec.file, source: spec.source)
        var diagnostics: [Diagnostic] = spec.warnings
        var journeys: [CompiledPipeline.Journey] = []

        // The aggregates first: they cannot read the profile; everything after them can.
        var profile: [CompiledPipeline.ProfileField] = []
        for field in spec.profile {
            if let compiled = compileProfileField(field, env: &env, loader: loader, diagnostics: &diagnostics) {
                profile.append(compiled)
            }
        }
        env.profile = .fields(profile.map { ExprProfile.Field(name: $0.name, type: $0.type) })

        var channels: [CompiledPipeline.Channel] = []
        for journey in spec.journeys {
            let program = compileExpression(journey.entry, env: &env, loader: loader, diagnostics: &diagnostics)
            var steps: [CompiledPipeline.Step] = []
            for step in journey.steps {
                switch step.kind {
                case .send(let send):
                    var channel = channels.firstIndex { $0.name == send.channel.value }
                    if channel == nil {
                        channels.append(CompiledPipeline.Channel(name: send.channel.value))
                        channel = channels.count - 1
                    }
                    steps.append(CompiledPipeline.Step(name: step.name, op: .send(CompiledPipeline.Send(
                        channel: channel!, template: send.template.value, data: [], next: steps.count + 1))))
                case .wait, .waitFor, .branch, .split, .exit:
                    // Listed in `spec.unsupported` by the loader, refused above.
                    preconditionFailure("a '\(step.kind.keyword)' step reached the compiler")
                }
            }
            steps.append(CompiledPipeline.Step(name: "end", op: .complete))
            if let program {
                journeys.append(CompiledPipeline.Journey(name: journey.name.value, entry: program, steps: steps))
            }
        }
        if diagnostics.contains(where: { $0.severity == .error }) {
            return .failure(PipelineErrors(diagnostics: diagnostics, source: spec.source))
        }
        var compiled = CompiledPipeline(
            name: spec.name.value, fields: env.fields,
            customerField: customer, timeField: time, typeField: type,
            timeFormat: spec.events.timeFormat, journeys: journeys,
            profile: profile, profileTTL: profileTTL(spec),
            customerPath: spec.events.customer.value.joined(separator: "."),
            timePath: spec.events.time.value.joined(separator: "."),
            typePath: spec.events.type.value.joined(separator: "."),
            warnings: PipelineErrors(diagnostics: diagnostics, source: spec.source).diagnostics)
        compiled.channels = channels
        compiled.lateness = (spec.events.lateness?.value.seconds ?? 0) * 1_000_000_000
        return .success(compiled)
    }

    /// One expression compiled against `env`, its errors placed in the file.
    static func compileExpression(
        _ expression: ExpressionSpec, env: inout ExprEnvironment, loader: PipelineLoader, diagnostics: inout [Diagnostic]
    ) -> Program? {
        switch ExprCompiler.compile(expression.text, in: &env) {
        case .success(let program): return program
        case .failure(let errors):
            diagnostics += loader.place(errors, of: expression)
            return nil
        }
    }

    /// A profile field with its defaults resolved; its programs read the event (their paths
    /// interned in `env.fields`), never the profile.
    static func compileProfileField(
        _ field: ProfileFieldSpec, env: inout ExprEnvironment, loader: PipelineLoader, diagnostics: inout [Diagnostic]
    ) -> CompiledPipeline.ProfileField? {
        let readable = env.profile
        env.profile = CompiledPipeline.ProfileField.unreadableProfile(field.name.value)
        defer { env.profile = readable }
        let value = compileExpression(field.aggregate.expression, env: &env, loader: loader, diagnostics: &diagnostics)
        var filter: Program?, minus: Program?
        var failed = value == nil
        if let spec = field.filter {
            filter = compileExpression(spec, env: &env, loader: loader, diagnostics: &diagnostics)
            failed = failed || filter == nil
        }
        if let spec = field.minus {
            minus = compileExpression(spec, env: &env, loader: loader, diagnostics: &diagnostics)
            failed = failed || minus == nil
        }
        guard let value, !failed else { return nil }
        let kind = field.aggregate.kind
        let type = CompiledPipeline.ProfileField.type(of: kind, valueType: value.resultType)
        let window = field.window.map { $0.value.seconds * 1_000_000_000 }
        // Windows are whole seconds, so window / 8 is a whole number of nanoseconds.
        let bucket = window.map { w in field.bucket.map { $0.value.seconds * 1_000_000_000 } ?? w / 8 }
        var defaultValue = field.defaultValue?.value
        if type == .double, case .int(let i) = defaultValue { defaultValue = .double(Double(i)) }
        return CompiledPipeline.ProfileField(
            name: field.name.value, kind: kind, value: value, filter: filter, minus: minus, window: window,
            bucket: bucket, capacity: kind == .distinct ? field.capacity?.value ?? PipelineLoader.defaultCapacity : 0,
            defaultValue: defaultValue, type: type)
    }

    /// `ttl:` in ns; without it, the longest window (nil, never, when no field has one).
    static func profileTTL(_ spec: PipelineSpec) -> Int64? {
        switch spec.profileTTL?.value {
        case .after(let d): return d.seconds * 1_000_000_000
        case .never: return nil
        case nil: return spec.profile.compactMap { $0.window?.value.seconds }.max().map { $0 * 1_000_000_000 }
        }
    }
}
