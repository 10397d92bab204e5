#if canImport(Glibc)
import Glibc
#endif

/// Moves every customer through every journey, on event time: entries, steps, waits and their
/// timers, exits, goals, re-entry, channel policies and erasure. Semantics: docs/journeys.md.
///
/// The runner calls `event` for each event in time order (after the profile has taken it) and
/// `fire(upTo:)` as the watermark advances; both write records through `RecordWriter`.
///
/// Work is done in *moments*: one customer at one time (an event, or the timers due for
/// them). A moment decodes the customer's journey state (if any), runs the journeys in file
/// order, arbitrates the sends it produced under the channels' caps (by priority), writes its
/// records in the order they arose, and encodes the state back.
///
/// - Complexity: per event, O(journeys) entry conditions for a customer without journey state;
///   O(state + instances × conditions) for one with it. No allocation once warm, except when a
///   send renders `data` values.
final class JourneyEngine {
    let pipeline: CompiledPipeline
    let store: StateStore?
    let profile: ProfileEngine?
    let records: RecordWriter
    let timers = TimerQueue()
    let work = CustomerJourneys()
    let scratch: EvalScratch
    /// The journeys, owned here for pointer access; entry programs unretained.
    let journeys: UnsafeMutableBufferPointer<CompiledPipeline.Journey>
    let entries: UnsafeMutableBufferPointer<Unmanaged<ProgramStorage>>
    /// Which entries an event's type allows (the first 64 journeys): an entry that requires
    /// `type == "x"` literals is not evaluated for events of other types.
    private(set) var entryGate: TypeGate
    /// Per journey: whether the current event matches its entry.
    let entering: UnsafeMutableBufferPointer<Bool>
    /// Per journey and step: the step's name as bytes, for `journey.step`.
    let stepNames: [[[UInt8]]]
    let journeyByHash: [UInt32: Int]
    /// Names as JSON strings (quoted), for records: per journey; per journey and step; per
    /// journey and step the send's template (empty for other steps); per channel.
    let journeyNames: [[UInt8]]
    let quotedSteps: [[[UInt8]]]
    let templates: [[[UInt8]]]
    let channelNames: [[UInt8]]
    let channelHashes: [UInt32]
    /// Per journey: the event paths an instance keeps (`Journey.capture`), flat.
    let captures: CaptureTable
    /// Per journey, what runs on every event of a customer with an instance, without copying
    /// the journey (its arrays would be retained) or its programs.
    let hot: UnsafeMutableBufferPointer<Hot>
    /// Per journey and step (`stepBase[j] + s`): a `wait_for`'s event condition.
    let waitForEvents: UnsafeMutableBufferPointer<Condition?>
    let stepBase: [Int]
    let erase: Condition?
    /// Which journeys' instances an event can concern, by its type.
    private(set) var filter: TypeGate

    /// A condition evaluated without reference counting (the pipeline keeps it alive).
    struct Condition {
        var program: Unmanaged<ProgramStorage>
        /// Whether it reads `journey.*` (then the instance's values are bound first).
        var readsJourney: Bool

        init(_ program: Program) {
            self.program = .passUnretained(program.storage)
            self.readsJourney = program.readsJourney
        }

        @inline(__always)
        func matches(_ activation: Activation, _ scratch: EvalScratch) -> Bool {
            program._withUnsafeGuaranteedRef { $0.matches(activation, scratch: scratch) }
        }
    }

    struct Hot {
        /// The `key` expression, unretained.
        var key: Unmanaged<ProgramStorage>?
        var exit: Condition?
        var goal: Condition?
        /// ns; .max without `within`.
        var goalWithin: Int64
        var goalContinues: Bool
        var hold: Condition?
        var holdMode: CompiledPipeline.Hold.Mode
        var holdMax: Int64
    }

    /// Per journey: its variants' names by name hash.
    let variantNames: [[UInt32: [UInt8]]]
    /// Where the `journey.*` strings start in the expressions' text (after the profile's).
    var textBase = 0
    let stepByHash: [[UInt32: Int]]
    /// Whether customers keep journey state (waits, re-entry memory, caps...): only then is the
    /// store consulted for customers without a profile.
    let keepsState: Bool
    let zones = ZoneCache()
    /// Values of `journey.*` for the instance being evaluated.
    let journeyValues: UnsafeMutablePointer<Value>
    /// Text for `journey.*` strings when there is no profile (else the profile's text is used).
    let ownText = ByteBuffer()
    /// A timer's event: the captured context of an instance, and its scanned fields.
    let contextScanner: JSONScanner
    let contextValues: UnsafeMutablePointer<ScannedValue>
    var contextLine: UnsafeMutableRawBufferPointer
    /// Instances that could not start because a customer already ran the most allowed.
    var refusedEntries = 0
    /// The most instances one customer may run in one journey at once.
    static let instanceLimit = 256

    /// Names of the pipeline that wrote the state, by hash, quoted: what an exit with reason
    /// `step_removed` names as its step.
    let formerNames: [UInt32: [UInt8]]

    init(pipeline: CompiledPipeline, store: StateStore?, profile: ProfileEngine?, records: RecordWriter,
         scratch: EvalScratch, formerNames: [String] = []) {
        var former: [UInt32: [UInt8]] = [:]
        for name in formerNames { former[CompiledPipeline.nameHash(name)] = Array(JSONText.quoted(name).utf8) }
        self.formerNames = former
        self.pipeline = pipeline
        self.store = store
        self.profile = profile
        self.records = records
        self.scratch = scratch
        journeys = .allocate(capacity: max(1, pipeline.journeys.count))
        _ = journeys.initialize(from: pipeline.journeys)
        entering = .allocate(capacity: max(1, pipeline.journeys.count))
        entering.initialize(repeating: false)
        entryGate = TypeGate(typeField: pipeline.typeField, members: pipeline.journeys.prefix(64).enumerated().map {
            (1 << UInt64($0.offset), [$0.element.entry])
        })
        entries = .allocate(capacity: max(1, pipeline.journeys.count))
        _ = entries.initialize(from: pipeline.journeys.map { Unmanaged.passUnretained($0.entry.storage) })
        stepNames = pipeline.journeys.map { $0.steps.map { Array($0.name.utf8) } }
        func quoted(_ text: String) -> [UInt8] { Array(JSONText.quoted(text).utf8) }
        journeyNames = pipeline.journeys.map { quoted($0.name) }
        quotedSteps = pipeline.journeys.map { $0.steps.map { quoted($0.name) } }
        templates = pipeline.journeys.map { journey in
            journey.steps.map { step in
                if case .send(let send) = step.op { return quoted(send.template) }
                return []
            }
        }
        channelNames = pipeline.channels.map { quoted($0.name) }
        captures = CaptureTable(pipeline)
        channelHashes = pipeline.channels.map { CompiledPipeline.nameHash($0.name) }
        variantNames = pipeline.journeys.map { journey in
            var names: [UInt32: [UInt8]] = [:]
            for step in journey.steps {
                guard case .split(let split) = step.op else { continue }
                for variant in split.variants { names[variant.nameHash] = Array(variant.name.utf8) }
            }
            return names
        }
        var byHash: [UInt32: Int] = [:]
        for (j, journey) in pipeline.journeys.enumerated() { byHash[journey.nameHash] = j }
        journeyByHash = byHash
        stepByHash = pipeline.journeys.map { journey in
            var map: [UInt32: Int] = [:]
            for (s, step) in journey.steps.enumerated() { map[step.nameHash] = s }
            return map
        }
        keepsState = store != nil && (!pipeline.profile.isEmpty || Self.needsState(pipeline))
        hot = .allocate(capacity: max(1, pipeline.journeys.count))
        _ = hot.initialize(from: pipeline.journeys.map { journey in
            Hot(key: journey.key.map { .passUnretained($0.storage) }, exit: journey.exit.map(Condition.init), goal: journey.goal.map { Condition($0.when) },
                goalWithin: journey.goal?.within ?? .max, goalContinues: journey.goal?.continues ?? false,
                hold: journey.hold.map { Condition($0.when) }, holdMode: journey.hold?.mode ?? .wait,
                holdMax: journey.hold?.max ?? 0)
        })
        var base: [Int] = []
        var conditions: [Condition?] = []
        for journey in pipeline.journeys {
            base.append(conditions.count)
            for step in journey.steps {
                if case .waitFor(let event, _, _, _) = step.op { conditions.append(Condition(event)) } else { conditions.append(nil) }
            }
        }
        stepBase = base
        erase = pipeline.erase.map(Condition.init)
        filter = EventTypeFilter.gate(pipeline)
        waitForEvents = .allocate(capacity: max(1, conditions.count))
        _ = waitForEvents.initialize(from: conditions)
        journeyValues = .allocate(capacity: 5)
        journeyValues.initialize(repeating: .null, count: 5)
        contextScanner = JSONScanner(paths: pipeline.fields)
        contextValues = .allocate(capacity: max(1, pipeline.fields.count))
        contextValues.initialize(repeating: .absent, count: max(1, pipeline.fields.count))
        contextLine = .allocate(byteCount: 4096, alignment: 16)
    }

    deinit {
        journeys.deinitialize().deallocate()
        entries.deinitialize().deallocate()
        entering.deallocate()
        entryGate.deallocate()
        filter.deallocate()
        captures.deallocate()
        hot.deinitialize().deallocate()
        waitForEvents.deinitialize().deallocate()
        journeyValues.deinitialize(count: 5).deallocate()
        contextValues.deallocate()
        contextLine.deallocate()
    }

    /// Whether some customer may have to be remembered between moments.
    static func needsState(_ pipeline: CompiledPipeline) -> Bool {
        if pipeline.channels.contains(where: { $0.cap != nil || $0.quiet?.mode == .defer }) { return true }
        for journey in pipeline.journeys {
            if journey.reentry.mode != .afterExit || journey.reentry.cooldown != nil || journey.reentry.max != nil {
                return true
            }
            if let hold = journey.hold, hold.mode == .wait { return true }
            for step in journey.steps {
                switch step.op {
                case .wait, .waitUntil, .waitFor: return true
                default: break
                }
            }
        }
        return false
    }

    // MARK: - Moments

    /// The customer of the current moment.
    struct Customer {
        /// Decoded key (for the store) and its hash; the key as JSON string content (for records).
        var key: UnsafeRawBufferPointer
        var hash: UInt64
        var text: UnsafeRawBufferPointer
        /// The store's payload (nil: not stored, no journey state).
        var payload: UnsafeMutableRawPointer?
    }

    /// Handles one event of `customer`: erasure, the running instances (goal, exit, wait_for,
    /// held sends), then entries. `activation` has the event and the profile after the event.
    func event(_ customer: Customer, activation: Activation) throws(EventFailure) {
        var customer = customer
        var activation = activation
        let t = activation.eventTime
        if let erase, erase.matches(activation, scratch) {
            try erasePurge(customer, time: t)
            return
        }
        if customer.payload == nil, keepsState, let store {
            customer.payload = store.find(customer.key, hash: customer.hash)
        }
        let handle = customer.payload.map { Self.handle($0) } ?? 0
        // Entry conditions read the event and the profile, never the instances, so they are
        // evaluated once, first.
        var any = false
        let allowed = entryGate.mask(activation)
        var j = 0
        while j < journeys.count {
            let matched = (j >= 64 || allowed & (1 << UInt64(j)) != 0)
                && entries[j]._withUnsafeGuaranteedRef { $0.matches(activation, scratch: scratch) }
            entering[j] = matched
            any = any || matched
            j += 1
        }
        if !any && (handle == 0
            || CustomerJourneys.journeys(store!.bytes(handle)) & UInt16(truncatingIfNeeded: filter.mask(activation)) == 0) {
            // The fast path: no entry, and no running instance this type of event concerns.
            return
        }
        records.beginMoment(customer: customer, time: t)
        if handle == 0 {
            work.clear()
        } else {
            work.decode(store!.bytes(handle))
            reconcile(time: t)
        }
        activation.variableText = prepareText()
        let running = work.instances.count
        j = 0
        while j < journeys.count {
            var i = 0
            while i < running {
                if work.instances[i].journey == j && !work.instances[i].flags.contains(.ended) {
                    onEvent(instance: i, customer: customer, context: activation)
                }
                i += 1
            }
            if entering[j] {
                enter(journey: j, customer: customer, context: activation)
            }
            j += 1
        }
        try finishMoment(&customer, time: t)
    }

    /// Numbers the type gates' literals by `types` (see `TypeGate.number(by:)`).
    func number(by types: EventTypes) {
        entryGate.number(by: types)
        filter.number(by: types)
    }

    /// The slot `prefetchTimers` last asked the cache for, and whether the journey state of
    /// the earliest timers is still to be asked for.
    private var prefetchedTimer = -1
    private var timerStateDue = false

    /// Asks the cache for the customers of the earliest timers. Wake-ups come in time order,
    /// so their slots in no order a prefetcher could follow: the slots of the earliest timer
    /// and of the two next are asked for when it changes, their journey state on the next
    /// call, when the slots have likely arrived. Call once per event; a hint, it changes
    /// nothing.
    @inline(__always)
    func prefetchTimers() {
        guard let store, let first = timers.slot(at: 0) else { return }
        let slots = first != prefetchedTimer
        guard slots || timerStateDue else { return }
        prefetchedTimer = first
        timerStateDue = slots
        var position = 0
        while position < 3, let slot = timers.slot(at: position) {
            if slots {
                store.prefetchSlot(at: slot)
            } else {
                store.prefetchBlock(at: slot, handleOffset: ProfileLayout.journeysOffset)
            }
            position &+= 1
        }
    }

    /// Fires the timers due at or before `time`, in (time, slot) order.
    func fire(upTo time: Int64) throws(EventFailure) {
        guard let store else { return }
        while !timers.isEmpty && timers.nextTime <= time {
            let due = timers.pop()
            guard let slot = store.slot(at: Int(due.slot)) else { continue }
            let handle = Self.handle(slot.payload)
            guard handle != 0 else { continue }
            work.decode(store.bytes(handle))
            guard work.earliestWake <= due.time else { continue }
            try wake(slot: slot, at: due.time)
        }
    }

    /// Moves the instances of one stored customer whose wake time is at or before `t`.
    private func wake(slot: (key: UnsafeRawBufferPointer, payload: UnsafeMutableRawPointer), at t: Int64) throws(EventFailure) {
        var customer = records.customer(key: slot.key, payload: slot.payload)
        records.beginMoment(customer: customer, time: t)
        reconcile(time: t)
        var activation = Activation(line: UnsafeRawBufferPointer(start: nil, count: 0),
                                    fields: UnsafePointer(contextValues), eventTime: t)
        if let profile {
            profile.load(slot.payload, at: t)
            activation.profileValues = UnsafePointer(profile.values.baseAddress)
        }
        activation.variableText = prepareText()
        // Instances in journey order, then state order; each moves at most once per wake-up.
        let running = work.instances.count
        for j in 0..<journeys.count {
            for i in 0..<running where work.instances[i].journey == j {
                let instance = work.instances[i]
                guard !instance.flags.contains(.ended), instance.wake <= t else { continue }
                onTimer(instance: i, customer: customer, context: &activation)
            }
        }
        try finishMoment(&customer, time: t)
    }

    /// Makes room after the profile's text for the `journey.*` strings of this moment, so that
    /// appending them never moves the text; returns the text as expressions see it.
    private func prepareText() -> UnsafeRawBufferPointer {
        let text = profile?.text ?? ownText
        if profile == nil { text.reset() }
        textBase = text.count
        text.reserve(textBase + 3 * StateStore.maxKeyLength + 4096)
        return text.bytes
    }

    /// Ends the moment: decides and writes the sends and records, then saves the state and
    /// schedules its timers.
    private func finishMoment(_ customer: inout Customer, time: Int64) throws(EventFailure) {
        try records.endMoment(engine: self)
        guard work.changed, keepsState, let store else { return }
        prune(time: time)
        if customer.payload == nil {
            if work.isEmpty { return }
            do {
                customer.payload = try store.insert(customer.key, hash: customer.hash)
            } catch {
                throw .state(error)
            }
        }
        let payload = customer.payload!
        let old = Self.handle(payload)
        // The decoded blob's block is exactly its size (see CustomerJourneys).
        let oldSize = old == 0 ? 0 : work.decodedSize
        if work.isEmpty {
            work.detach()
            if old != 0 { store.free(old, count: oldSize) }
            Self.setHandle(payload, 0)
            store.markDirty(payload)
            if profile == nil || pipeline.profile.isEmpty { _ = store.remove(customer.key, hash: customer.hash) }
            return
        }
        let size = work.encodedSize
        if size == oldSize {
            work.encode(into: store.bytes(old))
            store.markDirty(old, count: size)
        } else {
            // The new block is written before the old one is freed: keys and contexts may
            // still be read from it.
            let handle: UInt64
            do {
                handle = try store.allocate(size)
            } catch {
                throw .state(error)
            }
            work.encode(into: store.bytes(handle))
            store.markDirty(handle, count: size)
            if old != 0 { store.free(old, count: oldSize) }
            Self.setHandle(payload, handle)
            store.markDirty(payload)
        }
        let slot = store.slotIndex(ofPayload: payload)
        for instance in work.instances where instance.flags.contains(.scheduled) && !instance.flags.contains(.ended)
            && instance.wake != .max {
            timers.push(time: instance.wake, slot: slot)
        }
    }

    /// Drops memories no rule needs any more (and, past 65,535, the oldest), and send times
    /// older than every window.
    private func prune(time: Int64) {
        while work.memos.count > CustomerJourneys.countLimit {
            let oldest = work.memos.indices.min { work.memos[$0].lastEntry < work.memos[$1].lastEntry }!
            work.memos.remove(at: oldest)
        }
        var m = 0
        while m < work.memos.count {
            let memo = work.memos[m]
            guard let j = journeyByHash[memo.journeyHash] else {
                work.memos.remove(at: m)
                continue
            }
            let running = work.instances.indices.contains {
                !work.instances[$0].flags.contains(.ended) && work.instances[$0].journeyHash == memo.journeyHash
                    && work.keyHash($0) == memo.keyHash
            }
            if memoNeeded(memo, rules: journeys[j].reentry, running: running, at: time) { m += 1 } else { work.memos.remove(at: m) }
        }
        for l in work.logs.indices {
            let log = work.logs[l]
            guard let c = channelHashes.firstIndex(of: log.channelHash), let cap = pipeline.channels[c].cap else {
                work.logs[l].count = 0
                continue
            }
            let horizon: Int64
            switch cap.period {
            case .rolling(let nanos): horizon = nanos
            case .calendarDays(let days): horizon = Int64(days + 1) * 86_400_000_000_000
            }
            var keep = 0
            for k in 0..<log.count where time.subtractingReportingOverflow(work.times[log.start + k]).partialValue < horizon {
                work.times[log.start + keep] = work.times[log.start + k]
                keep += 1
            }
            work.logs[l].count = keep
        }
        work.logs.removeAll { $0.count == 0 }
    }

    // MARK: - Erasure and timers

    /// Purges the customer: profile, instances, re-entry memory, send logs; writes `erased`.
    private func erasePurge(_ customer: Customer, time: Int64) throws(EventFailure) {
        records.beginMoment(customer: customer, time: time)
        records.erased()
        if let store {
            Self.forget(key: customer.key, hash: customer.hash, in: store, profile: profile)
        }
        try records.endMoment(engine: self)
    }

    /// Removes a customer from the store, profile values and journey state included; their
    /// bytes are zeroed. False when the store does not hold the customer.
    @discardableResult
    static func forget(key: UnsafeRawBufferPointer, hash: UInt64, in store: StateStore, profile: ProfileEngine?) -> Bool {
        guard let payload = store.find(key, hash: hash) else { return false }
        profile?.reset(payload)
        let handle = Self.handle(payload)
        if handle != 0 {
            store.free(handle, count: CustomerJourneys.size(store.bytes(handle)))
            setHandle(payload, 0)
        }
        return store.remove(key, hash: hash)
    }

    /// Schedules the wake-up of every waiting instance in the state (at the start of a run).
    func rebuildTimers() {
        guard let store else { return }
        timers.removeAll()
        for slot in 0..<store.slotCount {
            guard let entry = store.slot(at: slot) else { continue }
            let handle = Self.handle(entry.payload)
            guard handle != 0 else { continue }
            work.decode(store.bytes(handle))
            for instance in work.instances where instance.wake != .max {
                timers.push(time: instance.wake, slot: slot)
            }
        }
        work.clear()
    }

    // MARK: - The journey handle in the payload

    @inline(__always) static func handle(_ payload: UnsafeRawPointer) -> UInt64 {
        payload.load(fromByteOffset: ProfileLayout.journeysOffset, as: UInt64.self)
    }

    @inline(__always) static func setHandle(_ payload: UnsafeMutableRawPointer, _ handle: UInt64) {
        payload.storeBytes(of: handle, toByteOffset: ProfileLayout.journeysOffset, as: UInt64.self)
    }

    // MARK: - Versions

    /// Points every instance at its journey and step in this pipeline, by name hash; an
    /// instance whose step no longer exists exits with reason `step_removed`, one whose journey
    /// no longer exists ends without a record (it has no name to give).
    private func reconcile(time: Int64) {
        for i in work.instances.indices {
            var instance = work.instances[i]
            if instance.journey >= journeys.count || journeys[instance.journey].nameHash != instance.journeyHash {
                guard let j = journeyByHash[instance.journeyHash] else {
                    work.instances[i].flags.insert(.ended)
                    work.changed = true
                    continue
                }
                instance.journey = j
                work.changed = true
            }
            let steps = journeys[instance.journey].steps
            if instance.step >= steps.count || steps[instance.step].nameHash != instance.stepHash {
                if let s = stepByHash[instance.journey][instance.stepHash] {
                    instance.step = s
                } else {
                    instance.flags.insert(.stepRemoved)
                }
                work.changed = true
            }
            work.instances[i] = instance
        }
        for i in work.instances.indices where work.instances[i].flags.contains(.stepRemoved) && !work.instances[i].flags.contains(.ended) {
            end(instance: i, reason: "step_removed", time: time)
        }
    }
}
