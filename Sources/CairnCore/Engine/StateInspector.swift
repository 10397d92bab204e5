/// Reads (and for erasure, writes) a state directory without a pipeline: what `cairn state`
/// shows, dumps, counts and forgets. The profile layout comes from the directory itself.
public final class StateInspector {
    public let directory: String
    public let store: StateStore
    public let checkpoint: Checkpoint
    public let profile: ProfileEngine

    /// Opens `directory`; `.write` takes the writer's lock (for `forget`), `.read` a shared
    /// one, so both fail with `.busy` while a run writes the directory.
    public init(directory: String, access: StateStore.Access) throws(StateError) {
        self.directory = directory
        let store: StateStore
        if access == .write {
            // The layout is the directory's own: read it, let go of the shared lock, then
            // take the writer's.
            let layout = try StateStore.open(directory: directory, layout: nil, access: .read).layout
            store = try StateStore.open(directory: directory, layout: layout, access: .write)
        } else {
            store = try StateStore.open(directory: directory, layout: nil, access: .read)
        }
        self.store = store
        let checkpoint = Checkpoint(json: store.meta) ?? Checkpoint()
        let description = checkpoint.profile.isEmpty ? store.layout.description : checkpoint.profile
        guard let layout = ProfileLayout(description: description), layout.payloadSize == store.layout.payloadSize else {
            throw .corrupt(file: directory, detail: "its profile layout description cannot be read")
        }
        self.checkpoint = checkpoint
        profile = ProfileEngine(layout: layout, store: store, clock: checkpoint.clock ?? .min)
        var names: [UInt32: String] = [:]
        for name in checkpoint.names { names[CompiledPipeline.nameHash(name)] = name }
        self.names = names
    }

    /// Journey, step and variant names by hash, from the checkpoint.
    let names: [UInt32: String]
    private let journeys = CustomerJourneys()

    /// Whether a customer is live: their profile is within its ttl, or journeys remember them.
    func isLive(_ payload: UnsafeRawPointer) -> Bool {
        JourneyEngine.handle(payload) != 0 || !profile.isExpired(payload)
    }

    /// The latest event time of the state (the clock windows are measured from).
    public var clock: Int64? { checkpoint.clock }

    /// The customer's line for `show` and `dump`, or nil when the state does not know the
    /// customer (never seen, forgotten, or idle past the ttl).
    public func show(_ customer: String) -> [UInt8]? {
        let key = Array(customer.utf8)
        return key.withUnsafeBytes { raw -> [UInt8]? in
            guard let payload = store.find(raw, hash: XXH64.hash(raw, seed: 0)),
                  isLive(UnsafeRawPointer(payload)) else { return nil }
            return line(key: raw, payload: UnsafeRawPointer(payload))
        }
    }

    /// Calls `body` with every live customer's line, in slot order; stops when it returns false.
    public func forEachCustomer(_ body: ([UInt8]) -> Bool) {
        for index in 0..<store.slotCount {
            guard let slot = store.slot(at: index), isLive(UnsafeRawPointer(slot.payload)) else { continue }
            if !body(line(key: slot.key, payload: UnsafeRawPointer(slot.payload))) { return }
        }
    }

    /// Customers kept, among them those idle past the ttl (not yet swept); journey instances
    /// running, and among them those waiting for a time (a timer).
    public func counts() -> (kept: Int, expired: Int, instances: Int, waiting: Int) {
        var kept = 0, expired = 0, instances = 0, waiting = 0
        for index in 0..<store.slotCount {
            guard let slot = store.slot(at: index) else { continue }
            kept += 1
            if !isLive(UnsafeRawPointer(slot.payload)) { expired += 1 }
            let handle = JourneyEngine.handle(slot.payload)
            guard handle != 0 else { continue }
            journeys.decode(store.bytes(handle))
            instances += journeys.instances.count
            waiting += journeys.instances.filter { $0.wake != .max }.count
        }
        return (kept, expired, instances, waiting)
    }

    /// Erases a customer: frees their stored values and their slot; the bytes are zeroed and
    /// leave the files at `save()`. False when the state does not hold the customer.
    public func forget(_ customer: String) -> Bool {
        let key = Array(customer.utf8)
        return key.withUnsafeBytes { raw -> Bool in
            let hash = XXH64.hash(raw, seed: 0)
            return JourneyEngine.forget(key: raw, hash: hash, in: store, profile: profile)
        }
    }

    /// Checkpoints the store with its metadata unchanged (after `forget`).
    public func save() throws(StateError) {
        try store.checkpoint(meta: store.meta)
    }

    /// `{"customer":"…","latest":"…","profile":{…},"journeys":[{…},…]}`
    func line(key: UnsafeRawBufferPointer, payload: UnsafeRawPointer) -> [UInt8] {
        var out: [UInt8] = Array(#"{"customer":""#.utf8)
        JSONText.appendEscaped(bytes: Array(key), to: &out)
        if profile.layout.fields.isEmpty {
            // Without profile fields no event time is kept per customer.
            out += Array(#"","latest":null,"profile":"#.utf8)
        } else {
            out += Array(#"","latest":""#.utf8)
            out += Array(CELTime.formatTimestamp(profile.latestEvent(payload)).utf8)
            out += Array(#"","profile":"#.utf8)
        }
        profile.appendJSON(payload, at: clock ?? .min, to: &out)
        out += Array(#","journeys":["#.utf8)
        let handle = JourneyEngine.handle(payload)
        if handle != 0 {
            journeys.decode(store.bytes(handle))
            for (i, instance) in journeys.instances.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                func name(_ hash: UInt32) -> String { names[hash] ?? String(hash, radix: 16) }
                var fields: [(String, JSONTree)] = [
                    ("journey", .string(name(instance.journeyHash))),
                    ("instance", instance.keyCount == 0 ? .null
                        : .string(journeys.withKey(i) { String(decoding: $0, as: UTF8.self) })),
                    ("step", .string(name(instance.stepHash))),
                    ("entered_at", .string(CELTime.formatTimestamp(instance.enteredAt))),
                    ("entry", .number(String(instance.entries))),
                    ("variant", instance.variantHash == 0 ? .null : .string(name(instance.variantHash))),
                    ("wakes_at", instance.wake == .max ? .null : .string(CELTime.formatTimestamp(instance.wake))),
                ]
                if instance.flags.contains(.holdout) { fields.append(("holdout", .bool(true))) }
                if instance.flags.contains(.held) { fields.append(("held", .bool(true))) }
                if instance.flags.contains(.deferred) { fields.append(("deferred", .bool(true))) }
                out += Array(JSONTree.object(fields).text.utf8)
            }
        }
        out += Array("]}".utf8)
        return out
    }

    /// The `erased` record of a customer forgotten at the state's clock.
    public func erasedRecord(_ customer: String) -> [UInt8] {
        let key = Array(customer.utf8)
        let time = checkpoint.seen ?? clock ?? 0
        let id = RecordWriter.erasedID(customerHash: key.withUnsafeBytes { XXH64.hash($0, seed: 0) }, time: time)
        var out: [UInt8] = Array(#"{"kind":"erased","id":""#.utf8)
        out += Array(Checkpoint.hex(id).utf8)
        out += Array(#"","time":""#.utf8)
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 8) { text in
            out += Array(UnsafeRawBufferPointer(rebasing: text[0..<EventTime.formatRFC3339(time, into: text)]))
        }
        out += Array(#"","customer":""#.utf8)
        JSONText.appendEscaped(bytes: key, to: &out)
        out += Array(#""}"#.utf8)
        return out
    }
}
