#if canImport(Glibc)
import Glibc
#endif

/// The state a run keeps: the store (files in `--state DIR`, or memory), the profiles in it,
/// and the checkpoint that says how far the inputs have been applied.
public final class RunState {
    public let directory: String?
    public let store: StateStore
    /// Nil when the pipeline has no profile: then no customer is stored.
    public let profile: ProfileEngine?
    /// As loaded at open, then as last saved.
    public private(set) var checkpoint: Checkpoint
    /// Whether the directory held a checkpoint written by another version of the pipeline
    /// (with the same state layout).
    public let pipelineChanged: Bool
    /// The journey, step and variant names of the pipeline that wrote the last checkpoint.
    public let formerNames: [String]
    /// Whether the directory held no checkpoint yet.
    public let isNew: Bool

    /// Opens the state of a run.
    ///
    /// - Parameters:
    ///   - directory: `--state DIR`, or nil to keep state in memory for this run.
    ///   - fingerprint: XXH64 of the pipeline file's text.
    /// - Throws: `StateError` (busy, layout changed, corrupt, I/O).
    public init(directory: String?, pipeline: CompiledPipeline, fingerprint: UInt64) throws(StateError) {
        let layout = ProfileLayout(fields: pipeline.profile, ttl: pipeline.profileTTL)
        let store = try StateStore.open(directory: directory, layout: layout.storeLayout, access: .write)
        self.directory = directory
        self.store = store
        var checkpoint = Checkpoint(json: store.meta) ?? Checkpoint()
        isNew = store.meta.isEmpty
        pipelineChanged = !isNew && checkpoint.pipeline != fingerprint
        checkpoint.pipeline = fingerprint
        checkpoint.profile = layout.description
        formerNames = checkpoint.names
        checkpoint.names = pipeline.names
        self.checkpoint = checkpoint
        if pipeline.profile.isEmpty {
            profile = nil
        } else {
            let engine = ProfileEngine(pipeline: pipeline.profile, layout: layout, store: store,
                                       typeField: pipeline.typeField)
            engine.resume(clock: checkpoint.clock ?? .min, sweepCursor: checkpoint.sweepCursor)
            profile = engine
        }
    }

    /// Writes a checkpoint: the store's bytes and `checkpoint` with the given input positions,
    /// counters added to the totals since the last save.
    /// `seen`, `nextSeq` and `buffered` are the reorder buffer's: the greatest event time seen,
    /// the next arrival number and the events it holds.
    public func save(inputs: [Checkpoint.Input], events: Int64, records: Int64,
                     seen: Int64?, nextSeq: Int64, buffered: [Checkpoint.Buffered]) throws(StateError) {
        var next = checkpoint
        for input in inputs { next.record(input) }
        next.seen = seen
        next.nextSeq = nextSeq
        next.buffered = buffered
        if let profile {
            next.clock = profile.clock == .min ? nil : profile.clock
            next.sweepCursor = profile.sweepCursor
        }
        next.events = events
        next.records = records
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        next.writtenAt = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        try store.checkpoint(meta: next.json)
        checkpoint = next
    }
}
