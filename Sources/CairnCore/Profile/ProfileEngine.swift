#if canImport(Glibc)
import Glibc
#endif

/// Keeps every customer's profile: applies each event to the customer's aggregates in the
/// state store, and reads the values that expressions see as `profile.NAME`.
///
/// Semantics (docs/pipeline-reference.md, `profile`): windows are rings of buckets aligned to
/// the Unix epoch and measured from the customer's latest event; `last`/`first` go by event
/// time, ties by input order; a customer idle for `ttl` (measured against the latest event
/// time of the whole stream, `clock`) starts afresh.
///
/// - Complexity: O(fields × buckets) per event, no allocation once warm (a value longer than
///   any seen before grows the text buffer once).
public final class ProfileEngine {
    public let layout: ProfileLayout
    public let store: StateStore
    /// The latest event time applied so far (`Int64.min` before the first).
    public internal(set) var clock: Int64 = .min
    /// Slot index where the next expiry sweep step starts.
    public internal(set) var sweepCursor = 0

    /// Per field: layout and unretained programs (the pipeline keeps them alive).
    let fields: UnsafeMutableBufferPointer<RuntimeField>
    /// Which fields `load` computes: all by default; the runner narrows it to those its
    /// expressions read.
    let needed: UnsafeMutableBufferPointer<Bool>
    /// Each field's value program (nil in a reader), for the rare value that must be rendered.
    private let valuePrograms: [Program?]
    /// Per field: the window's bucket that holds the latest time seen (see `bucket(_:_:)`).
    let clocks: UnsafeMutableBufferPointer<BucketClock>
    /// The ring field with the narrowest buckets, when every other ring's bucket width is a
    /// multiple of its (so every ring's bucket boundaries are among its); -1 when there is
    /// none such, or no ring. See `sameBucket(_:_:)`.
    let grain: Int
    /// One value per field, for `Activation.profileValues`.
    public let values: UnsafeMutableBufferPointer<Value>
    /// Text the string, list and map values point into (origin `.variables`).
    public let text = ByteBuffer()
    /// Defaults as bytes, per field (strings only).
    let defaultText: [[UInt8]]

    struct RuntimeField {
        var layout: ProfileLayout.Shape
        var value: Unmanaged<ProgramStorage>?
        var filter: Unmanaged<ProgramStorage>?
        var minus: Unmanaged<ProgramStorage>?
    }

    /// A windowed field's latest bucket: `k = ⌊t / width⌋` for the times in
    /// `[start, start + width)`, at ring position `position = k mod B`.
    ///
    /// Events come in time order and customers' latest events lie close behind them, so
    /// nearly every time a window is asked about falls in this bucket or the one before:
    /// their index and ring position come without the two 64-bit divisions (about 40
    /// cycles each) per field and time that computing them takes.
    struct BucketClock {
        var start: Int64 = 0
        var k: Int64 = 0
        var position = 0
    }

    /// A runtime for a run: programs from the pipeline.
    ///
    /// - Parameter typeField: the pipeline's type field; with it, the fields whose conditions
    ///   require some `type == "..."` are skipped for events of other types (see `gate`).
    public convenience init(pipeline fields: [CompiledPipeline.ProfileField], layout: ProfileLayout, store: StateStore,
                            typeField: FieldID? = nil) {
        self.init(layout: layout, store: store, programs: fields, clock: .min)
        if let typeField {
            // A count concerns the events its value or minus may count; another kind those its
            // where may match, or every event without one.
            gate = TypeGate(typeField: typeField, members: fields.prefix(64).enumerated().map { i, field in
                (1 << UInt64(i), field.kind == .count ? [field.value, field.minus].compactMap { $0 } : field.filter.map { [$0] })
            })
        }
    }

    /// Which fields (among the first 64) an event can change, by its type (`TypeGate`); nil
    /// without a type field: every field.
    private(set) var gate: TypeGate?
    /// Bits of the fields every event may change (all fields from the 64th on are too).
    var gateAlways: UInt64 { gate?.always ?? ~0 }

    /// Numbers the type gate's literals by `types` (see `TypeGate.number(by:)`).
    func number(by types: EventTypes) {
        gate?.number(by: types)
    }

    /// A reader without programs, for `cairn state` (no event is applied).
    public convenience init(layout: ProfileLayout, store: StateStore, clock: Int64) {
        self.init(layout: layout, store: store, programs: nil, clock: clock)
    }

    /// - Parameter programs: one per field of `layout`, in order; nil for a reader.
    private init(layout: ProfileLayout, store: StateStore, programs: [CompiledPipeline.ProfileField]?, clock: Int64) {
        self.layout = layout
        self.store = store
        self.clock = clock
        let count = layout.fields.count
        self.fields = .allocate(capacity: max(1, count))
        for (i, f) in layout.fields.enumerated() {
            let spec = programs?[i]
            (self.fields.baseAddress! + i).initialize(to: RuntimeField(
                layout: f.shape, value: spec.map { .passUnretained($0.value.storage) },
                filter: spec?.filter.map { .passUnretained($0.storage) },
                minus: spec?.minus.map { .passUnretained($0.storage) }))
        }
        self.valuePrograms = layout.fields.indices.map { programs?[$0].value }
        self.clocks = .allocate(capacity: max(1, count))
        self.clocks.initialize(repeating: BucketClock())
        // The rings `advance` clears.
        let rings = layout.fields.indices.filter { layout.fields[$0].shape.clearsBuckets }
        let narrowest = rings.min { layout.fields[$0].shape.bucketNanos < layout.fields[$1].shape.bucketNanos }
        if let narrowest, rings.allSatisfy({
            layout.fields[$0].shape.bucketNanos % layout.fields[narrowest].shape.bucketNanos == 0
        }) {
            self.grain = narrowest
        } else {
            self.grain = -1
        }
        self.needed = .allocate(capacity: max(1, count))
        self.needed.initialize(repeating: true)
        self.values = .allocate(capacity: max(1, count))
        self.values.initialize(repeating: .null)
        self.defaultText = layout.fields.map { f in
            if case .string(let s)? = f.defaultValue { return Array(s.utf8) }
            return []
        }
    }

    deinit {
        needed.deallocate()
        gate?.deallocate()
        clocks.deallocate()
        fields.deinitialize().deallocate()
        values.deinitialize().deallocate()
    }

    /// Computes only these fields in `load` (the others keep their last value, which no
    /// expression reads).
    public func load(only indices: Set<Int>) {
        for i in 0..<needed.count { needed[i] = indices.contains(i) }
    }

    /// Restores the clock and sweep position of a checkpoint.
    public func resume(clock: Int64, sweepCursor: Int) {
        self.clock = clock
        self.sweepCursor = sweepCursor
    }

    // MARK: - Applying an event

    /// Applies the event to the customer's profile and returns the customer's payload.
    ///
    /// - Parameters:
    ///   - key: the customer key, decoded; `hash` is XXH64 of it (seed 0).
    ///   - activation: the event (its `eventTime` is the event time).
    public func apply(
        key: UnsafeRawBufferPointer, hash: UInt64, activation: Activation, scratch: EvalScratch
    ) throws(StateError) -> UnsafeMutableRawPointer {
        let t = activation.eventTime
        if t > clock { clock = t }
        var fresh = false
        let payload: UnsafeMutableRawPointer
        if let found = store.find(key, hash: hash) {
            payload = found
            if let ttl = layout.ttl, isExpired(latest(payload), ttl: ttl) {
                reset(payload)
                fresh = true
            }
        } else {
            payload = try store.insert(key, hash: hash)
            fresh = true
        }
        let previous = latest(payload)
        if fresh {
            payload.storeBytes(of: t, toByteOffset: ProfileLayout.latestOffset, as: Int64.self)
        } else if t > previous {
            if !sameBucket(previous, t) { advance(payload, from: previous, to: t) }
            payload.storeBytes(of: t, toByteOffset: ProfileLayout.latestOffset, as: Int64.self)
        }
        let now = fresh ? t : max(previous, t)
        // Fields a literal gates need no mayApply: the event has the type they require.
        let gated = gate?.mask(activation) ?? ~0
        var i = 0
        while i < fields.count {
            let bit: UInt64 = i < 64 ? 1 << UInt64(i) : 0
            if i >= 64 || (gated & bit != 0 && (gateAlways & bit == 0 || mayApply(i, activation))) {
                try applyField(i, payload: payload, time: t, latest: now,
                               activation: activation, scratch: scratch)
            }
            i += 1
        }
        store.markDirty(payload)
        return payload
    }

    @inline(__always)
    func latest(_ payload: UnsafeRawPointer) -> Int64 {
        payload.load(fromByteOffset: ProfileLayout.latestOffset, as: Int64.self)
    }

    /// Whether a customer whose latest event is `latest` has been idle for `ttl` at `clock`.
    @inline(__always)
    func isExpired(_ latest: Int64, ttl: Int64) -> Bool {
        let (idle, overflow) = clock.subtractingReportingOverflow(latest)
        return overflow || idle >= ttl
    }

    /// Frees the payload's arena text and zeroes it, but for the journey state, which outlives
    /// the profile.
    func reset(_ payload: UnsafeMutableRawPointer) {
        for i in 0..<fields.count {
            forEachCell(fields[i].layout, payload) { ValueCell.clear($0, store: store) }
        }
        let journeys = payload.load(fromByteOffset: ProfileLayout.journeysOffset, as: UInt64.self)
        payload.initializeMemory(as: UInt8.self, repeating: 0, count: layout.payloadSize)
        payload.storeBytes(of: journeys, toByteOffset: ProfileLayout.journeysOffset, as: UInt64.self)
    }

    /// Calls `body` with every value cell of field `f`.
    private func forEachCell(_ f: ProfileLayout.Shape, _ payload: UnsafeMutableRawPointer,
                             _ body: (UnsafeMutableRawPointer) -> Void) {
        let base = payload + f.offset
        switch f.kind {
        case .min, .max:
            for b in 0..<max(f.buckets, 1) { body(base + b * ValueCell.size) }
        case .last:
            body(base)
        case .first:
            for b in 0..<max(f.buckets, 1) { body(base + b * (ValueCell.size + 8)) }
        default:
            break
        }
    }

    /// Whether `old` and `new` (old < new) lie in the bucket of the `grain` field's clock, so
    /// that no ring has a bucket boundary between them and `advance` would clear nothing. A
    /// customer's events mostly come close together (a session's page views), so most moves
    /// of its clock take two compares instead of a pass over every ring. False when unsure
    /// (the clock lags, or there is no grain): `advance` then decides, and moves the clock.
    ///
    /// Why it holds: with widths w and m·w and buckets ⌊t / width⌋, ⌊t / (m·w)⌋ =
    /// ⌊⌊t / w⌋ / m⌋, so times in one bucket of width w share their bucket of width m·w.
    @inline(__always)
    func sameBucket(_ old: Int64, _ new: Int64) -> Bool {
        guard grain >= 0 else { return false }
        let clock = clocks[grain]
        // SAFETY of the sum: a clock's start + width never overflows (see `moveClock`; the
        // initial clock is [0, width)).
        return old >= clock.start && new < clock.start &+ fields[grain].layout.bucketNanos
    }

    /// Clears the ring buckets that the customer's clock passes when it moves from `old` to
    /// `new`.
    private func advance(_ payload: UnsafeMutableRawPointer, from old: Int64, to new: Int64) {
        var i = 0
        while i < fields.count {
            let f = fields[i].layout
            let field = i
            i += 1
            guard f.clearsBuckets else { continue }
            let kOld = bucket(field, old)
            let kNew = bucket(field, new)
            guard kNew > kOld else { continue }
            if f.kind == .distinct {
                // Entries keep their bucket modulo 2^32: a jump past the whole window empties
                // the set here, so that buckets compared later are never 2^32 apart.
                if kNew - kOld >= Int64(f.buckets) {
                    (payload + f.offset).initializeMemory(as: UInt8.self, repeating: 0, count: f.size)
                }
                continue
            }
            let steps = kNew - kOld >= Int64(f.buckets) ? f.buckets : Int(kNew - kOld)
            var p = position(field, kOld + 1)
            for _ in 0..<steps {
                clearBucket(f, payload, p)
                p = p + 1 == f.buckets ? 0 : p + 1
            }
        }
    }

    private func clearBucket(_ f: ProfileLayout.Shape, _ payload: UnsafeMutableRawPointer, _ p: Int) {
        let base = payload + f.offset
        switch f.kind {
        case .count:
            base.storeBytes(of: Int32(0), toByteOffset: 4 * p, as: Int32.self)
        case .sum, .avg:
            base.storeBytes(of: UInt64(0), toByteOffset: 8 * p, as: UInt64.self)
            if f.counted { base.storeBytes(of: UInt32(0), toByteOffset: 8 * f.buckets + 4 * p, as: UInt32.self) }
        case .min, .max:
            ValueCell.clear(base + p * ValueCell.size, store: store)
        case .first:
            let cell = base + p * (ValueCell.size + 8)
            ValueCell.clear(cell, store: store)
            cell.storeBytes(of: Int64(0), toByteOffset: ValueCell.size, as: Int64.self)
        case .last, .distinct:
            break
        }
    }

    /// `⌊t / width⌋`, also for negative times.
    @inline(__always)
    static func bucket(_ t: Int64, _ width: Int64) -> Int64 {
        let q = t / width
        return (t % width != 0 && t < 0) ? q - 1 : q
    }

    @inline(__always)
    static func position(_ k: Int64, _ buckets: Int) -> Int {
        let r = Int(k % Int64(buckets))
        return r < 0 ? r + buckets : r
    }

    /// `⌊t / width⌋` for windowed field `i`, from its `BucketClock` when `t` falls in the
    /// clock's bucket or the one before; otherwise divides, and moves the clock forward to a
    /// later bucket.
    ///
    /// - Complexity: O(1); no division for the times near the latest one.
    @inline(__always)
    func bucket(_ i: Int, _ t: Int64) -> Int64 {
        let clock = clocks[i]
        let width = fields[i].layout.bucketNanos
        let (d, overflow) = t.subtractingReportingOverflow(clock.start)
        if !overflow && d < width && d >= -width {
            return d >= 0 ? clock.k : clock.k - 1
        }
        return moveClock(i, t)
    }

    /// `k mod B` for windowed field `i`, from its `BucketClock` for the clock's bucket and
    /// the one before.
    @inline(__always)
    func position(_ i: Int, _ k: Int64) -> Int {
        let clock = clocks[i]
        if k == clock.k { return clock.position }
        if k == clock.k &- 1 { return clock.position == 0 ? fields[i].layout.buckets - 1 : clock.position - 1 }
        return Self.position(k, fields[i].layout.buckets)
    }

    @inline(never)
    func moveClock(_ i: Int, _ t: Int64) -> Int64 {
        let f = fields[i].layout
        let k = Self.bucket(t, f.bucketNanos)
        let (start, overflow) = k.multipliedReportingOverflow(by: f.bucketNanos)
        if k > clocks[i].k, !overflow,
           !start.addingReportingOverflow(f.bucketNanos).overflow {
            clocks[i] = BucketClock(start: start, k: k, position: Self.position(k, f.buckets))
        }
        return k
    }

    /// Evaluates a program; the scratch is reset first, so values of an earlier evaluation
    /// must have been used before.
    @inline(__always)
    private func evaluate(_ program: Unmanaged<ProgramStorage>, _ activation: Activation, _ scratch: EvalScratch) -> Value {
        program._withUnsafeGuaranteedRef { $0.evaluate(activation, scratch: scratch) }
    }

    @inline(__always)
    private func matches(_ program: Unmanaged<ProgramStorage>, _ activation: Activation, _ scratch: EvalScratch) -> Bool {
        program._withUnsafeGuaranteedRef { $0.matches(activation, scratch: scratch) }
    }

    /// False when field `index` is sure to ignore the event: its condition (a count's value
    /// and `minus`, another kind's `where`) starts with `type == "..."` (or a field equal to a
    /// string) that the event fails, so `applyField` would return without a change.
    /// Most fields count one type of event: this spares them the call for all the others.
    @inline(__always)
    private func mayApply(_ index: Int, _ activation: Activation) -> Bool {
        let rf = fields.baseAddress! + index
        if rf.pointee.layout.kind == .count {
            if let p = rf.pointee.value, p._withUnsafeGuaranteedRef({ $0.mayMatch(activation) }) { return true }
            if let p = rf.pointee.minus, p._withUnsafeGuaranteedRef({ $0.mayMatch(activation) }) { return true }
            return false
        }
        if let p = rf.pointee.filter { return p._withUnsafeGuaranteedRef { $0.mayMatch(activation) } }
        return true
    }

    private func applyField(
        _ index: Int, payload: UnsafeMutableRawPointer, time t: Int64, latest: Int64,
        activation: Activation, scratch: EvalScratch
    ) throws(StateError) {
        let rf = fields.baseAddress! + index
        let f = rf.pointee.layout
        let base = payload + f.offset
        // The event's bucket position, or nil when the window no longer covers it.
        var position = 0
        if f.windowed {
            let k = bucket(index, t)
            guard k > bucket(index, latest) - Int64(f.buckets) else { return }
            position = self.position(index, k)
        }
        if f.kind == .count {
            var delta: Int64 = 0
            if let p = rf.pointee.value, matches(p, activation, scratch) { delta += 1 }
            if let p = rf.pointee.minus, matches(p, activation, scratch) { delta -= 1 }
            guard delta != 0 else { return }
            if f.windowed {
                let old = base.load(fromByteOffset: 4 * position, as: Int32.self)
                let (sum, overflow) = old.addingReportingOverflow(Int32(delta))
                base.storeBytes(of: overflow ? old : sum, toByteOffset: 4 * position, as: Int32.self)
            } else {
                let old = base.load(as: Int64.self)
                let (sum, overflow) = old.addingReportingOverflow(delta)
                base.storeBytes(of: overflow ? old : sum, as: Int64.self)
            }
            return
        }
        if let p = rf.pointee.filter {
            guard matches(p, activation, scratch) else { return }
        }
        guard let program = rf.pointee.value else { return }
        let value = evaluate(program, activation, scratch)
        switch f.kind {
        case .count:
            break
        case .sum, .avg:
            addNumber(value, f, base, position)
        case .min, .max:
            try keepExtreme(value, f, base, position, field: index, program: program, activation: activation, scratch: scratch)
        case .last:
            guard ValueCell.isSet(base) == false || t >= base.load(fromByteOffset: ValueCell.size, as: Int64.self) else { return }
            if try storeValue(value, in: base, field: index, program: program, activation: activation, scratch: scratch) {
                base.storeBytes(of: t, toByteOffset: ValueCell.size, as: Int64.self)
            }
        case .first:
            let cell = base + position * (ValueCell.size + 8)
            guard ValueCell.isSet(cell) == false || t < cell.load(fromByteOffset: ValueCell.size, as: Int64.self) else { return }
            if try storeValue(value, in: cell, field: index, program: program, activation: activation, scratch: scratch) {
                cell.storeBytes(of: t, toByteOffset: ValueCell.size, as: Int64.self)
            }
        case .distinct:
            guard let hash = distinctHash(value, program: program, activation: activation, scratch: scratch) else { return }
            DistinctSet.insert(hash, bucket: f.windowed ? bucket(index, t) : 0,
                               latestBucket: f.windowed ? bucket(index, latest) : 0,
                               field: f, base: base)
        }
    }

    private func addNumber(_ value: Value, _ f: ProfileLayout.Shape, _ base: UnsafeMutableRawPointer, _ position: Int) {
        let at = f.windowed ? 8 * position : 0
        if f.intSum {
            let n: Int64
            switch value {
            case .int(let i): n = i
            case .uint(let u) where u <= UInt64(Int64.max): n = Int64(u)
            default: return
            }
            let old = base.load(fromByteOffset: at, as: Int64.self)
            let (sum, overflow) = old.addingReportingOverflow(n)
            base.storeBytes(of: overflow ? (n > 0 ? Int64.max : Int64.min) : sum, toByteOffset: at, as: Int64.self)
        } else {
            let d: Double
            switch value {
            case .int(let i): d = Double(i)
            case .uint(let u): d = Double(u)
            case .double(let x): d = x
            default: return
            }
            base.storeBytes(of: base.load(fromByteOffset: at, as: Double.self) + d, toByteOffset: at, as: Double.self)
        }
        if f.counted {
            if f.windowed {
                let c = 8 * f.buckets + 4 * position
                base.storeBytes(of: base.load(fromByteOffset: c, as: UInt32.self) &+ 1, toByteOffset: c, as: UInt32.self)
            } else {
                base.storeBytes(of: base.load(fromByteOffset: 8, as: Int64.self) &+ 1, toByteOffset: 8, as: Int64.self)
            }
        }
    }

    // MARK: - Values of any type

    /// Stores a value in a cell; false (and the cell unchanged) for values a profile does not
    /// keep: errors, bytes and types.
    private func storeValue(
        _ value: Value, in cell: UnsafeMutableRawPointer, field: Int, program: Unmanaged<ProgramStorage>,
        activation: Activation, scratch: EvalScratch
    ) throws(StateError) -> Bool {
        switch value {
        case .null: ValueCell.storeScalar(.null, bits: 0, in: cell, store: store)
        case .bool(let b): ValueCell.storeScalar(.bool, bits: b ? 1 : 0, in: cell, store: store)
        case .int(let i): ValueCell.storeScalar(.int, bits: UInt64(bitPattern: i), in: cell, store: store)
        case .uint(let u): ValueCell.storeScalar(.uint, bits: u, in: cell, store: store)
        case .double(let d): ValueCell.storeScalar(.double, bits: d.bitPattern, in: cell, store: store)
        case .timestamp(let ns): ValueCell.storeScalar(.timestamp, bits: UInt64(bitPattern: ns), in: cell, store: store)
        case .duration(let ns): ValueCell.storeScalar(.duration, bits: UInt64(bitPattern: ns), in: cell, store: store)
        case .string(let span):
            let source = ValueBytes(activation: activation, program: program, scratch: scratch)
            try source.withRaw(span) { (raw) throws(StateError) in
                try ValueCell.storeText(raw, json: false, escaped: span.escaped, in: cell, store: store)
            }
        case .list(let ref), .map(let ref):
            if ref.isJSON {
                let source = ValueBytes(activation: activation, program: program, scratch: scratch)
                let raw = source.json(ref)
                try ValueCell.storeText(raw, json: true, escaped: false, in: cell, store: store)
            } else {
                // A list or map built by the expression: rendered (this allocates; rare).
                guard let json = valuePrograms[field]?.jsonText(of: value, activation: activation, scratch: scratch) else {
                    return false
                }
                let stored: Result<Void, StateError> = Array(json.utf8).withUnsafeBytes { raw in
                    Result { () throws(StateError) in
                        try ValueCell.storeText(raw, json: true, escaped: false, in: cell, store: store)
                    }
                }
                try stored.get()
            }
        case .bytes, .type, .error:
            return false
        }
        return true
    }

    /// Kinds `min` and `max` compare within.
    enum Ordered: Equatable { case number, string, timestamp, duration }

    static func orderedKind(of value: Value) -> Ordered? {
        switch value {
        case .int, .uint, .double: .number
        case .string: .string
        case .timestamp: .timestamp
        case .duration: .duration
        default: nil
        }
    }

    static func orderedKind(ofCell cell: UnsafeRawPointer) -> Ordered? {
        switch ValueCell.tag(cell) {
        case .int, .uint, .double: .number
        case .stringInline, .stringArena: .string
        case .timestamp: .timestamp
        case .duration: .duration
        default: nil
        }
    }

    private func keepExtreme(
        _ value: Value, _ f: ProfileLayout.Shape, _ base: UnsafeMutableRawPointer, _ position: Int,
        field: Int, program: Unmanaged<ProgramStorage>, activation: Activation, scratch: EvalScratch
    ) throws(StateError) {
        guard let kind = Self.orderedKind(of: value) else { return }
        // The aggregate keeps the kind of the first value it took: any set cell says which.
        for b in 0..<max(f.buckets, 1) {
            if let held = Self.orderedKind(ofCell: base + b * ValueCell.size) {
                guard held == kind else { return }
                break
            }
        }
        let cell = base + position * ValueCell.size
        if ValueCell.isSet(cell) {
            let source = ValueBytes(activation: activation, program: program, scratch: scratch)
            let order = compare(value, cell, source)
            if f.kind == .min ? order >= 0 : order <= 0 { return }
        }
        _ = try storeValue(value, in: cell, field: field, program: program, activation: activation, scratch: scratch)
    }

    /// -1, 0 or 1 as `value` is less than, equal to or greater than the cell's value (of the
    /// same ordered kind).
    private func compare(_ value: Value, _ cell: UnsafeRawPointer, _ source: ValueBytes) -> Int {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
        let bits = ValueCell.bits(cell)
        switch value {
        case .int(let i):
            switch ValueCell.tag(cell) {
            case .int: return sign(i, Int64(bitPattern: bits))
            case .uint: return i < 0 ? -1 : sign(UInt64(i), bits)
            default: return sign(Double(i), Double(bitPattern: bits))
            }
        case .uint(let u):
            switch ValueCell.tag(cell) {
            case .int: let c = Int64(bitPattern: bits); return c < 0 ? 1 : sign(u, UInt64(c))
            case .uint: return sign(u, bits)
            default: return sign(Double(u), Double(bitPattern: bits))
            }
        case .double(let d):
            switch ValueCell.tag(cell) {
            case .int: return sign(d, Double(Int64(bitPattern: bits)))
            case .uint: return sign(d, Double(bits))
            default: return sign(d, Double(bitPattern: bits))
            }
        case .timestamp(let ns), .duration(let ns):
            return sign(ns, Int64(bitPattern: bits))
        case .string(let span):
            return source.withDecoded(span) { a in
                ValueBytes.withDecoded(ValueCell.text(cell, store: store), escaped: ValueCell.escaped(cell)) { b in
                    ValueBytes.compareBytes(a, b)
                }
            }
        default:
            return 0
        }
    }

    /// The 32-bit hash `distinct` counts by, or nil for values it skips (errors, lists, maps,
    /// bytes, types). Numbers hash by their double value, so 1 and 1.0 are one value;
    /// strings by their decoded bytes.
    private func distinctHash(
        _ value: Value, program: Unmanaged<ProgramStorage>, activation: Activation, scratch: EvalScratch
    ) -> UInt32? {
        var head: (UInt8, UInt64)
        switch value {
        case .null: head = (1, 0)
        case .bool(let b): head = (2, b ? 1 : 0)
        case .int(let i): head = (3, Double(i).bitPattern)
        case .uint(let u): head = (3, Double(u).bitPattern)
        case .double(let d): head = (3, (d == 0 ? 0.0 : d).bitPattern)
        case .timestamp(let ns): head = (4, UInt64(bitPattern: ns))
        case .duration(let ns): head = (5, UInt64(bitPattern: ns))
        case .string(let span):
            let source = ValueBytes(activation: activation, program: program, scratch: scratch)
            let h = source.withDecoded(span) { XXH64.hash($0, seed: 6) }
            return UInt32(truncatingIfNeeded: h ^ (h >> 32))
        default:
            return nil
        }
        let h = withUnsafeBytes(of: &head.1) { XXH64.hash($0, seed: UInt64(head.0)) }
        return UInt32(truncatingIfNeeded: h ^ (h >> 32))
    }
}
