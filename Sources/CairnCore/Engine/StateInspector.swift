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
    }

    /// The latest event time of the state (the clock windows are measured from).
    public var clock: Int64? { checkpoint.clock }

    /// The customer's line for `show` and `dump`, or nil when the state does not know the
    /// customer (never seen, forgotten, or idle past the ttl).
    public func show(_ customer: String) -> [UInt8]? {
        let key = Array(customer.utf8)
        return key.withUnsafeBytes { raw -> [UInt8]? in
            guard let payload = store.find(raw, hash: XXH64.hash(raw, seed: 0)),
                  !profile.isExpired(UnsafeRawPointer(payload)) else { return nil }
            return line(key: raw, payload: UnsafeRawPointer(payload))
        }
    }

    /// Calls `body` with every live customer's line, in slot order; stops when it returns false.
    public func forEachCustomer(_ body: ([UInt8]) -> Bool) {
        for index in 0..<store.slotCount {
            guard let slot = store.slot(at: index), !profile.isExpired(UnsafeRawPointer(slot.payload)) else { continue }
            if !body(line(key: slot.key, payload: UnsafeRawPointer(slot.payload))) { return }
        }
    }

    /// Customers kept, and among them those idle past the ttl (not yet swept).
    public func counts() -> (kept: Int, expired: Int) {
        var kept = 0, expired = 0
        for index in 0..<store.slotCount {
            guard let slot = store.slot(at: index) else { continue }
            kept += 1
            if profile.isExpired(UnsafeRawPointer(slot.payload)) { expired += 1 }
        }
        return (kept, expired)
    }

    /// Erases a customer: frees their stored values and their slot; the bytes are zeroed and
    /// leave the files at `save()`. False when the state does not hold the customer.
    public func forget(_ customer: String) -> Bool {
        let key = Array(customer.utf8)
        return key.withUnsafeBytes { raw -> Bool in
            let hash = XXH64.hash(raw, seed: 0)
            guard let payload = store.find(raw, hash: hash) else { return false }
            profile.reset(payload)
            return store.remove(raw, hash: hash)
        }
    }

    /// Checkpoints the store with its metadata unchanged (after `forget`).
    public func save() throws(StateError) {
        try store.checkpoint(meta: store.meta)
    }

    /// `{"customer":"…","latest":"…","profile":{…}}`
    func line(key: UnsafeRawBufferPointer, payload: UnsafeRawPointer) -> [UInt8] {
        var out: [UInt8] = Array(#"{"customer":""#.utf8)
        JSONText.appendEscaped(bytes: Array(key), to: &out)
        out += Array(#"","latest":""#.utf8)
        out += Array(CELTime.formatTimestamp(profile.latestEvent(payload)).utf8)
        out += Array(#"","profile":"#.utf8)
        profile.appendJSON(payload, at: clock ?? .min, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
