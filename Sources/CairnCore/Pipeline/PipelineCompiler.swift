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

        for journey in spec.journeys {
            var program: Program?
            switch ExprCompiler.compile(journey.entry.text, in: &env) {
            case .success(let p): program = p
            case .failure(let errors): diagnostics += loader.place(errors, of: journey.entry)
            }
            var sends: [CompiledPipeline.Send] = []
            for step in journey.steps {
                switch step.kind {
                case .send(let send):
                    sends.append(makeSend(journey: journey.name.value, step: step.name,
                                          channel: send.channel.value, template: send.template.value))
                case .wait, .waitFor, .branch, .split, .exit:
                    // Listed in `spec.unsupported` by the loader, refused above.
                    preconditionFailure("a '\(step.kind.keyword)' step reached the compiler")
                }
            }
            if let program {
                journeys.append(CompiledPipeline.Journey(name: journey.name.value, entry: program, sends: sends))
            }
        }
        if diagnostics.contains(where: { $0.severity == .error }) {
            return .failure(PipelineErrors(diagnostics: diagnostics, source: spec.source))
        }
        return .success(CompiledPipeline(
            name: spec.name.value, fields: env.fields,
            customerField: customer, timeField: time, typeField: type,
            timeFormat: spec.events.timeFormat, journeys: journeys,
            customerPath: spec.events.customer.value.joined(separator: "."),
            timePath: spec.events.time.value.joined(separator: "."),
            typePath: spec.events.type.value.joined(separator: "."),
            warnings: PipelineErrors(diagnostics: diagnostics, source: spec.source).diagnostics))
    }

    static func makeSend(journey: String, step: String, channel: String, template: String) -> CompiledPipeline.Send {
        var tail: [UInt8] = []
        func field(_ key: String, _ value: String) {
            tail.append(contentsOf: Array(",\"\(key)\":\"".utf8))
            JSONText.appendEscaped(value, to: &tail)
            tail.append(UInt8(ascii: "\""))
        }
        field("journey", journey)
        field("step", step)
        field("channel", channel)
        field("template", template)
        tail.append(contentsOf: Array("}\n".utf8))
        var seedBytes = Array(journey.utf8)
        seedBytes.append(0x1F)
        seedBytes.append(contentsOf: step.utf8)
        let seed = seedBytes.withUnsafeBytes { XXH64.hash($0, seed: 0) }
        return CompiledPipeline.Send(step: step, channel: channel, template: template, recordTail: tail, idSeed: seed)
    }
}
