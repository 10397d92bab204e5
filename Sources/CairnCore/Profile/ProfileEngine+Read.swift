extension ProfileEngine {
    /// A field's value at a clock, before it becomes a CEL value or JSON text.
    enum Resolved {
        case int(Int64)
        case double(Double)
        case cell(UnsafeRawPointer)
        case defaultValue
    }

    /// Loads every field's value of a customer into `values` (and their text into `text`), as
    /// expressions see them: windows measured from the customer's latest event.
    ///
    /// - Complexity: O(fields × buckets); no allocation once `text` has grown to its need.
    public func load(_ payload: UnsafeRawPointer) {
        load(payload, at: latest(payload))
    }

    /// Loads the fields as at time `at`, with the windows measured from there (for a timer,
    /// later than the customer's latest event); a profile idle for the ttl by then reads as new.
    public func load(_ payload: UnsafeRawPointer, at time: Int64) {
        text.reset()
        let at = max(time, latest(payload))
        if let ttl = layout.ttl, at.subtractingReportingOverflow(latest(payload)).partialValue >= ttl {
            // As a new profile reads: counts 0, the others their defaults.
            for i in 0..<fields.count where needed[i] {
                let kind = fields[i].layout.kind
                values[i] = kind == .count || kind == .distinct ? .int(0) : value(of: i, .defaultValue)
            }
            return
        }
        let asOfLatest = at == latest(payload)
        var i = 0
        while i < fields.count {
            if needed[i] {
                let f = fields[i].layout
                if f.kind == .count && asOfLatest {
                    // As `resolve` counts, without its detour through `Resolved`.
                    values[i] = .int(Self.countAsOfLatest(f, payload + f.offset))
                } else {
                    values[i] = value(of: i, resolve(i, payload, at: at))
                }
            }
            i += 1
        }
    }

    private func value(of index: Int, _ resolved: Resolved) -> Value {
        switch resolved {
        case .int(let n): return .int(n)
        case .double(let d): return .double(d)
        case .cell(let cell): return ValueCell.value(cell, store: store, text: text) ?? .null
        case .defaultValue:
            switch layout.fields[index].defaultValue {
            case nil, .null?: return .null
            case .bool(let b)?: return .bool(b)
            case .int(let n)?: return .int(n)
            case .double(let d)?: return .double(d)
            case .string?:
                let start = defaultText[index].withUnsafeBytes { text.append($0) }
                return .string(StringSpan(origin: .variables, escaped: false, start: start,
                                          count: Int32(defaultText[index].count)))
            }
        }
    }

    /// Appends `{"NAME":value,...}` for a customer at `clock` (the windows measured from
    /// there, as `cairn state` shows them).
    public func appendJSON(_ payload: UnsafeRawPointer, at clock: Int64, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, f) in layout.fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(JSONText.quoted(f.name).utf8)
            out.append(UInt8(ascii: ":"))
            switch resolve(i, payload, at: max(clock, latest(payload))) {
            case .int(let n): out += Array(String(n).utf8)
            case .double(let d): JSONText.appendDouble(d, to: &out)
            case .cell(let cell): ValueCell.appendJSON(cell, store: store, to: &out)
            case .defaultValue:
                if let d = f.defaultValue {
                    ProfileLayout.appendScalar(d, to: &out)
                } else {
                    out += Array("null".utf8)
                }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The customer's latest event time.
    public func latestEvent(_ payload: UnsafeRawPointer) -> Int64 { latest(payload) }

    /// Whether the customer has been idle for the profile's ttl at the current clock.
    public func isExpired(_ payload: UnsafeRawPointer) -> Bool {
        guard let ttl = layout.ttl else { return false }
        return isExpired(latest(payload), ttl: ttl)
    }

    /// Resolves field `index` of `payload` at clock `at` (≥ the customer's latest event).
    func resolve(_ index: Int, _ payload: UnsafeRawPointer, at: Int64) -> Resolved {
        let f = fields[index].layout
        let base = payload + f.offset
        let b = f.buckets
        // Ring positions whose buckets the window covers at `at`.
        let latestTime = latest(payload)
        let kL = f.windowed ? bucket(index, latestTime) : 0
        let kC = f.windowed && at != latestTime ? bucket(index, at) : kL
        /// Calls `body` with the position of every covered bucket, latest first.
        func covered(_ body: (Int) -> Void) {
            // Buckets kL, kL - 1, ... down to past both kC - B and kL - B (kC >= kL).
            let n = min(kL &- kC &+ Int64(b), Int64(b))
            guard n > 0 else { return }
            var p = position(index, kL)
            for _ in 0..<Int(n) {
                body(p)
                p = p == 0 ? b - 1 : p - 1
            }
        }
        switch f.kind {
        case .count:
            // The whole ring is covered in the usual case, a load as of the latest event.
            if !f.windowed || kC == kL { return .int(Self.countAsOfLatest(f, base)) }
            // At most 4096 Int32 buckets: the sum cannot overflow.
            var n: Int64 = 0
            covered { n &+= Int64(base.load(fromByteOffset: 4 &* $0, as: Int32.self)) }
            return .int(n)
        case .sum, .avg:
            var total = f.intSum ? Resolved.int(0) : .double(0)
            var count: Int64 = 0
            if f.windowed {
                var si: Int64 = 0
                var sd = 0.0
                covered { p in
                    if f.intSum {
                        si = si.addingReportingOverflow(base.load(fromByteOffset: 8 * p, as: Int64.self)).partialValue
                    } else {
                        sd += base.load(fromByteOffset: 8 * p, as: Double.self)
                    }
                    if f.counted { count += Int64(base.load(fromByteOffset: 8 * b + 4 * p, as: UInt32.self)) }
                }
                total = f.intSum ? .int(si) : .double(sd)
            } else {
                total = f.intSum ? .int(base.load(as: Int64.self)) : .double(base.load(as: Double.self))
                if f.counted { count = base.load(fromByteOffset: 8, as: Int64.self) }
            }
            if f.kind == .avg {
                guard count > 0, case .double(let sum) = total else { return .defaultValue }
                return .double(sum / Double(count))
            }
            if f.counted && count == 0 { return .defaultValue }
            return total
        case .min, .max:
            var best: UnsafeRawPointer?
            func consider(_ cell: UnsafeRawPointer) {
                guard ValueCell.isSet(cell) else { return }
                guard let current = best else { best = cell; return }
                let order = Self.compareCells(cell, current, store: store)
                if f.kind == .min ? order < 0 : order > 0 { best = cell }
            }
            if f.windowed {
                covered { consider(base + $0 * ValueCell.size) }
            } else {
                consider(base)
            }
            return best.map { .cell($0) } ?? .defaultValue
        case .last:
            guard ValueCell.isSet(base) else { return .defaultValue }
            if f.windowed {
                let k = bucket(index, base.load(fromByteOffset: ValueCell.size, as: Int64.self))
                guard k > kC - Int64(b) else { return .defaultValue }
            }
            return .cell(base)
        case .first:
            if !f.windowed { return ValueCell.isSet(base) ? .cell(base) : .defaultValue }
            var best: UnsafeRawPointer?
            var bestTime = Int64.max
            covered { p in
                let cell = base + p * (ValueCell.size + 8)
                guard ValueCell.isSet(cell) else { return }
                let t = cell.load(fromByteOffset: ValueCell.size, as: Int64.self)
                if best == nil || t < bestTime { best = cell; bestTime = t }
            }
            return best.map { .cell($0) } ?? .defaultValue
        case .distinct:
            // A clock a whole window past the latest event covers nothing (and keeps the
            // modulo-2^32 buckets of the entries from being compared across a wrap).
            if f.windowed && kC - kL >= Int64(b) { return .int(0) }
            return .int(DistinctSet.count(field: f, base: base, clockBucket: kC))
        }
    }

    /// Orders two set cells of the same ordered kind.
    static func compareCells(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, store: StateStore) -> Int {
        func sign<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        let ta = ValueCell.tag(a), tb = ValueCell.tag(b)
        let xa = ValueCell.bits(a), xb = ValueCell.bits(b)
        switch (ta, tb) {
        case (.int, .int), (.timestamp, .timestamp), (.duration, .duration):
            return sign(Int64(bitPattern: xa), Int64(bitPattern: xb))
        case (.uint, .uint):
            return sign(xa, xb)
        case (.stringInline, _), (.stringArena, _):
            return ValueBytes.withDecoded(ValueCell.text(a, store: store), escaped: ValueCell.escaped(a)) { x in
                ValueBytes.withDecoded(ValueCell.text(b, store: store), escaped: ValueCell.escaped(b)) { y in
                    ValueBytes.compareBytes(x, y)
                }
            }
        default:
            func number(_ t: ValueCell.Tag, _ bits: UInt64) -> Double {
                switch t {
                case .int: Double(Int64(bitPattern: bits))
                case .uint: Double(bits)
                default: Double(bitPattern: bits)
                }
            }
            return sign(number(ta, xa), number(tb, xb))
        }
    }
}

extension ProfileEngine {
    /// Frees up to `count` slots of customers idle for the ttl, continuing where the last
    /// call stopped. Called at fixed event counts, so what it frees (and the files) does not
    /// depend on how input was read; what expressions see never depends on it, as an expired
    /// customer not yet swept starts afresh on its next event all the same.
    public func sweep(_ count: Int) {
        guard layout.ttl != nil else { return }
        let total = store.slotCount
        guard total > 0 else { return }
        for _ in 0..<min(count, total) {
            if sweepCursor >= total { sweepCursor = 0 }
            if let slot = store.slot(at: sweepCursor), isExpired(UnsafeRawPointer(slot.payload)) {
                if slot.payload.load(fromByteOffset: ProfileLayout.journeysOffset, as: UInt64.self) == 0 {
                    reset(slot.payload)
                    store.removeSlot(at: sweepCursor)
                } else if latest(slot.payload) != 0 {
                    // A customer with journey state keeps its slot; its profile is reset once
                    // (a reset one reads as new, its latest event time 0).
                    reset(slot.payload)
                    store.markDirty(slot.payload)
                }
            }
            sweepCursor += 1
        }
        // The next call's slots: in order, but too far apart for the hardware to guess, and
        // each would be a miss the loop waits on.
        var ahead = 0
        while ahead < count {
            store.prefetchSlotHead(at: sweepCursor &+ ahead)
            ahead &+= 1
        }
    }

    /// A count's value as of the customer's latest event: unwindowed, its total; windowed, the
    /// sum of its whole ring (at most 4096 Int32 buckets: no overflow, and an integer sum
    /// needs no bucket order).
    @inline(__always)
    static func countAsOfLatest(_ f: ProfileLayout.Shape, _ base: UnsafeRawPointer) -> Int64 {
        guard f.windowed else { return base.load(as: Int64.self) }
        var n: Int64 = 0
        var p = 0
        while p < f.buckets {
            n &+= Int64(base.load(fromByteOffset: 4 &* p, as: Int32.self))
            p &+= 1
        }
        return n
    }
}
