/// Compiles a `PipelineSpec` into a `CompiledPipeline`, or reports every error it finds.
public enum PipelineCompiler {
    /// Loads and compiles a pipeline file's text.
    ///
    /// The load's warnings travel on in `CompiledPipeline.warnings`.
    public static func compile(file: String, source: String) -> Result<CompiledPipeline, PipelineErrors> {
        switch PipelineLoader.load(file: file, source: source) {
        case .failure(let errors): return .failure(errors)
        case .success(let spec): return compile(spec)
        }
    }

    /// Compiles a loaded spec.
    public static func compile(_ spec: PipelineSpec) -> Result<CompiledPipeline, PipelineErrors> {
        var fields = FieldPaths()
        let customer = fields.intern(spec.events.customer.value)
        let time = fields.intern(spec.events.time.value)
        let type = fields.intern(spec.events.type.value)
        var env = ExprEnvironment(fields: fields, typeField: type, customerField: customer)
        let loader = PipelineLoader(file: spec.file, source: spec.source)
        var diagnostics: [Diagnostic] = spec.warnings

        // The aggregates first: they cannot read the profile; everything after them can.
        var profile: [CompiledPipeline.ProfileField] = []
        for field in spec.profile {
            if let compiled = compileProfileField(field, env: &env, loader: loader, diagnostics: &diagnostics) {
                profile.append(compiled)
            }
        }
        env.profile = .fields(profile.map { ExprProfile.Field(name: $0.name, type: $0.type) })

        var context = Context(env: env, loader: loader, diagnostics: diagnostics)
        let timezone = spec.timezone.flatMap { context.compile($0) }
        for channel in spec.channels {
            context.channels.append(context.compileChannel(channel, pipelineTimezone: timezone))
        }
        context.pipelineTimezone = timezone
        let erase = spec.erase.flatMap { context.compile($0) }
        var defaultZone = CELTimeZone.utc
        if let name = spec.defaultTimezone {
            if let zone = CELTimeZone.named(name.value) {
                defaultZone = zone
            } else {
                // Checked at load; the zone database changed since.
                context.diagnostics.append(Diagnostic(
                    .error, file: spec.file, line: name.location.line, column: name.location.column,
                    length: max(1, name.value.unicodeScalars.count), message: "unknown time zone '\(name.value)'"))
            }
        }
        var journeys: [CompiledPipeline.Journey] = []
        for journey in spec.journeys {
            if let compiled = context.compileJourney(journey) { journeys.append(compiled) }
        }
        env = context.env
        diagnostics = context.diagnostics
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
        compiled.channels = context.channels
        compiled.erase = erase
        compiled.timezone = timezone
        compiled.defaultZone = defaultZone
        compiled.lateness = (spec.events.lateness?.value.seconds ?? 0) * 1_000_000_000
        return .success(compiled)
    }

    /// One expression compiled against `env`, its errors placed in the file.
    static func compileExpression(
        _ expression: ExpressionSpec, env: inout ExprEnvironment, loader: PipelineLoader, diagnostics: inout [Diagnostic]
    ) -> Program? {
        env.journey = expression.journey
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
