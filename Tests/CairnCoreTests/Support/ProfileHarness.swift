@testable import CairnCore

// A harness for model-based tests of `ProfileEngine`: it compiles a pipeline of profile
// fields, feeds events to the engine, and keeps a naive model that recomputes every
// aggregate from the raw list of events applied to each customer.
//
// The model takes each event's per-field inputs (the value of EXPR, whether `where` and
// `minus` hold) from the expression evaluator: what is under test is the aggregation, not
// CEL. Everything else (windows, buckets, ttl, kinds, ties, defaults) is the model's own.

// MARK: - Fields

/// One profile field as a test writes it: expression sources instead of programs.
struct ModelField {
    var name: String
    var kind: CompiledPipeline.ProfileField.Kind
    var value: String
    var filter: String? = nil
    var minus: String? = nil
    /// Buckets in the window (0: unwindowed) and the bucket width in ns.
    var buckets: Int = 0
    var bucket: Int64 = 0
    var capacity: Int = 0
    var defaultValue: ScalarValue? = nil

    var windowed: Bool { buckets > 0 }

    static func count(_ name: String, _ cond: String, minus: String? = nil, window: (Int, Int64)? = nil) -> ModelField {
        ModelField(name: name, kind: .count, value: cond, minus: minus, buckets: window?.0 ?? 0, bucket: window?.1 ?? 0)
    }

    static func of(_ kind: CompiledPipeline.ProfileField.Kind, _ name: String, _ value: String, where filter: String? = nil,
                   window: (Int, Int64)? = nil, capacity: Int = 0, default d: ScalarValue? = nil) -> ModelField {
        ModelField(name: name, kind: kind, value: value, filter: filter, buckets: window?.0 ?? 0,
                   bucket: window?.1 ?? 0, capacity: capacity, defaultValue: d)
    }
}

/// `⌊t / width⌋`, also for negative times (the model's own spelling).
func floorBucket(_ t: Int64, _ width: Int64) -> Int64 {
    let q = t / width, r = t % width
    return r < 0 ? q - 1 : q
}

// MARK: - Values

/// A value as the model keeps it: self-contained (no spans), strings decoded.
enum ModelValue: Equatable {
    case null, bool(Bool), int(Int64), uint(UInt64), double(Double)
    case string([UInt8])
    case timestamp(Int64), duration(Int64)
    /// A list or map, as canonical JSON text.
    case json(String)

    enum Ordered: Equatable { case number, string, timestamp, duration }

    var ordered: Ordered? {
        switch self {
        case .int, .uint, .double: .number
        case .string: .string
        case .timestamp: .timestamp
        case .duration: .duration
        default: nil
        }
    }

    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .double(let d): d
        default: nil
        }
    }

    /// -1, 0, 1; both of the same ordered kind.
    func compare(_ other: ModelValue) -> Int {
        func sign<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }
        switch (self, other) {
        case (.string(let a), .string(let b)):
            return a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
        case (.timestamp(let a), .timestamp(let b)), (.duration(let a), .duration(let b)):
            return sign(a, b)
        default:
            return sign(number!, other.number!)
        }
    }

    /// What `distinct` tells apart: scalars, numbers by value.
    enum DistinctKey: Hashable { case null, bool(Bool), number(UInt64), string([UInt8]), timestamp(Int64), duration(Int64) }

    var distinctKey: DistinctKey? {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .int, .uint, .double: .number((number! + 0.0).bitPattern)
        case .string(let s): .string(s)
        case .timestamp(let t): .timestamp(t)
        case .duration(let d): .duration(d)
        case .json: nil
        }
    }

    var json: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .double(let d): renderDouble(d)
        case .string(let s): quoteJSON(bytes: s)
        case .timestamp(let t): quoteJSON(CELTime.formatTimestamp(t))
        case .duration(let d): quoteJSON(CELTime.formatDuration(d))
        case .json(let text): text
        }
    }

    init(_ scalar: ScalarValue) {
        switch scalar {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(Array(s.utf8))
        }
    }
}

/// `"text"` with `"`, `\` and control characters escaped: one spelling per string (the
/// library's `JSONText.quoted` is too slow in debug builds for this many values).
func quoteJSON(_ string: String) -> String { quoteJSON(bytes: Array(string.utf8)) }

func quoteJSON(bytes: [UInt8]) -> String {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = [0x22]
    out.reserveCapacity(bytes.count + 2)
    for b in bytes {
        if b == 0x22 || b == 0x5C {
            out.append(0x5C); out.append(b)
        } else if b < 0x20 {
            out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
        } else {
            out.append(b)
        }
    }
    out.append(0x22)
    return String(decoding: out, as: UTF8.self)
}

/// Doubles as the engine spells them (`ProfileJSON.appendDouble`): shortest round trip,
/// NaN and the infinities as strings.
func renderDouble(_ d: Double) -> String {
    if d.isNaN { return "\"NaN\"" }
    if d.isInfinite { return d < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
    return d.description
}

/// Decoded bytes of JSON string contents.
func decodeJSONString(_ bytes: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: max(1, bytes.count))
    let n = bytes.withUnsafeBytes { src in out.withUnsafeMutableBytes { JSONString.unescape(src, into: $0) } } ?? -1
    precondition(n >= 0, "unescape needs no more room than its input")
    return Array(out[0..<n])
}

/// JSON text with its strings decoded and re-escaped one way and whitespace dropped, so
/// that texts differing only in spelling (`"\u00e9"` and `"é"`) compare equal.
func canonicalJSON(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        let b = bytes[i]
        if b == UInt8(ascii: "\"") {
            var j = i + 1
            var escaped = false
            while bytes[j] != UInt8(ascii: "\"") {
                if bytes[j] == UInt8(ascii: "\\") { escaped = true; j += 1 }
                j += 1
            }
            let raw = Array(bytes[(i + 1)..<j])
            let decoded = escaped ? decodeJSONString(raw) : raw
            out += Array(quoteJSON(bytes: decoded).utf8)
            i = j + 1
        } else {
            if b != 0x20 && b != 0x0A && b != 0x09 && b != 0x0D { out.append(b) }
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// The member values of a canonical JSON object, in order.
func objectMembers(_ canonical: String) -> [(name: String, value: String)] {
    let bytes = Array(canonical.utf8)
    precondition(bytes.first == UInt8(ascii: "{") && bytes.last == UInt8(ascii: "}"))
    var members: [(String, String)] = []
    var depth = 0, inString = false, start = 1
    var i = 1
    func add(_ end: Int) {
        let member = bytes[start..<end]
        // The name is a string without a colon in it (the test's names are identifiers).
        let colon = member.firstIndex(of: UInt8(ascii: ":"))!
        members.append((String(decoding: member[start..<colon], as: UTF8.self),
                        String(decoding: member[(colon + 1)...], as: UTF8.self)))
    }
    while i < bytes.count - 1 {
        let b = bytes[i]
        if inString {
            if b == UInt8(ascii: "\\") { i += 1 } else if b == UInt8(ascii: "\"") { inString = false }
        } else if b == UInt8(ascii: "\"") {
            inString = true
        } else if b == UInt8(ascii: "[") || b == UInt8(ascii: "{") {
            depth += 1
        } else if b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
            depth -= 1
        } else if b == UInt8(ascii: ","), depth == 0 {
            add(i)
            start = i + 1
        }
        i += 1
    }
    if bytes.count > 2 { add(bytes.count - 1) }
    return members
}

/// min and max keep whichever of equal numbers came first (1 or 1.0, 0 or -0): their
/// results are compared by numeric value.
func numericSpelling(_ text: String) -> String {
    guard let d = Double(text) else { return text }
    return renderDouble(d + 0.0)
}

// MARK: - The model

/// Per event and field: what the expressions gave.
struct Observation {
    /// count: the condition is true; others: `where` holds (or there is none).
    var selected: Bool
    var minus: Bool
    /// EXPR's value; nil for an error (or bytes, types).
    var value: ModelValue?
}

/// A customer's events since they started (afresh), per field: the naive model's state.
struct ModelCustomer {
    var latest: Int64
    /// Event times, in input order.
    var times: [Int64] = []
    /// Per field, per event: the bucket of the event's time (windowed fields).
    var buckets: [[Int64]]
    /// Per field, per event: what the expressions gave (`Observation`, by column).
    var selected: [[Bool]]
    var minus: [[Bool]]
    var values: [[ModelValue?]]
    /// min, max: per event, whether the aggregate took the value (the kind check, decided
    /// on arrival).
    var taken: [[Bool]]
    /// distinct: the latest bucket (windowed) at which more values than the capacity were
    /// in the window; until it leaves the window the count may be an estimate.
    var lostAt: [Int64?]

    init(latest: Int64, fields: Int) {
        self.latest = latest
        selected = Array(repeating: [], count: fields)
        minus = Array(repeating: [], count: fields)
        values = Array(repeating: [], count: fields)
        buckets = Array(repeating: [], count: fields)
        taken = Array(repeating: [], count: fields)
        lostAt = Array(repeating: nil, count: fields)
    }
}

struct ProfileModel {
    let fields: [ModelField]
    let intSum: [Bool]
    let ttl: Int64?
    /// Per field: its value before any event, as JSON text.
    let fallbacks: [String]
    var clock: Int64 = .min
    var customers: [String: ModelCustomer] = [:]

    init(fields: [ModelField], intSum: [Bool], ttl: Int64?) {
        self.fields = fields
        fallbacks = fields.map { f in f.defaultValue.map { ModelValue($0).json } ?? "null" }
        self.intSum = intSum
        self.ttl = ttl
    }

    /// Whether field `f`'s window at `clock` covers time `t`.
    func covered(_ f: ModelField, _ t: Int64, at clock: Int64) -> Bool {
        !f.windowed || floorBucket(t, f.bucket) > floorBucket(clock, f.bucket) - Int64(f.buckets)
    }

    mutating func apply(customer key: String, time t: Int64, obs: [Observation]) {
        if t > clock { clock = t }
        var c: ModelCustomer
        if let found = customers.removeValue(forKey: key),
           ttl.map({ clock.subtractingReportingOverflow(found.latest).partialValue < $0 }) ?? true {
            c = found
            c.latest = max(c.latest, t)
        } else {
            c = ModelCustomer(latest: t, fields: fields.count)
        }
        for (i, f) in fields.enumerated() {
            let o = obs[i]
            var taken = false
            switch f.kind {
            case .min, .max:
                guard o.selected, let kind = o.value?.ordered, covered(f, t, at: c.latest) else { break }
                var held: ModelValue.Ordered?
                for j in c.times.indices where c.taken[i][j] && covered(f, c.times[j], at: c.latest) {
                    held = c.values[i][j]!.ordered
                    break
                }
                taken = held == nil || held == kind
            case .distinct:
                guard o.selected, let key = o.value?.distinctKey, covered(f, t, at: c.latest) else { break }
                var seen: Set<ModelValue.DistinctKey> = [key]
                for j in c.times.indices where c.selected[i][j] && covered(f, c.times[j], at: c.latest) {
                    if let k = c.values[i][j]?.distinctKey { seen.insert(k) }
                }
                if seen.count > f.capacity {
                    let k = f.windowed ? floorBucket(c.latest, f.bucket) : 0
                    c.lostAt[i] = max(c.lostAt[i] ?? k, k)
                }
            default:
                break
            }
            c.selected[i].append(o.selected)
            c.minus[i].append(o.minus)
            c.values[i].append(o.value)
            c.taken[i].append(taken)
            c.buckets[i].append(f.windowed ? floorBucket(t, f.bucket) : 0)
        }
        c.times.append(t)
        customers[key] = c
    }

    /// Every field of customer `key` at `clock` as JSON text; nil where the engine may
    /// estimate.
    func values(of key: String, at clock: Int64) -> [String?] {
        let c = customers[key]!
        return fields.indices.map { value($0, of: c, at: clock) }
    }

    func value(_ i: Int, of c: ModelCustomer, at clock: Int64) -> String? {
        let f = fields[i]
        let selected = c.selected[i], values = c.values[i]
        // Covered: events in the window at `clock` (all of them without one).
        let floor = f.windowed ? floorBucket(clock, f.bucket) - Int64(f.buckets) : 0
        let ks = c.buckets[i]
        var events: [Int] = []
        events.reserveCapacity(ks.count)
        var j = 0
        while j < ks.count {
            if !f.windowed || ks[j] > floor { events.append(j) }
            j += 1
        }
        let fallback = fallbacks[i]
        switch f.kind {
        case .count:
            var n = 0
            for j in events {
                if selected[j] { n += 1 }
                if c.minus[i][j] { n -= 1 }
            }
            return String(n)
        case .sum, .avg:
            var si: Int64 = 0, sd = 0.0, n = 0
            for j in events where selected[j] {
                if intSum[i] {
                    switch values[j] {
                    case .int(let v)?: si += v
                    case .uint(let v)? where v <= UInt64(Int64.max): si += Int64(v)
                    default: continue
                    }
                } else {
                    guard let d = values[j]?.number else { continue }
                    sd += d
                }
                n += 1
            }
            if f.kind == .avg { return n == 0 ? fallback : renderDouble(sd / Double(n)) }
            if n == 0, f.defaultValue != nil { return fallback }
            return intSum[i] ? String(si) : renderDouble(sd)
        case .min, .max:
            var best: ModelValue?
            for j in events where c.taken[i][j] {
                let v = values[j]!
                if let b = best {
                    let order = v.compare(b)
                    if f.kind == .min ? order < 0 : order > 0 { best = v }
                } else {
                    best = v
                }
            }
            return numericSpelling(best?.json ?? fallback)
        case .last, .first:
            // By event time; ties: the later (last) or earlier (first) in input order.
            var best: Int?
            for j in events where selected[j] && values[j] != nil {
                guard let b = best else { best = j; continue }
                if f.kind == .last ? c.times[j] >= c.times[b] : c.times[j] < c.times[b] { best = j }
            }
            return best.map { values[$0]!.json } ?? fallback
        case .distinct:
            if let lost = c.lostAt[i] {
                if !f.windowed || floorBucket(clock, f.bucket) - lost < Int64(f.buckets) { return nil }
            }
            var seen: Set<ModelValue.DistinctKey> = []
            for j in events where selected[j] {
                if let k = values[j]?.distinctKey { seen.insert(k) }
            }
            return String(seen.count)
        }
    }
}

// MARK: - The engine side

/// A compiled pipeline of profile fields with an engine over a fresh store.
final class ProfileHarness {
    let fields: [ModelField]
    let programs: [CompiledPipeline.ProfileField]
    let scanner: JSONScanner
    let layout: ProfileLayout
    let engine: ProfileEngine
    let scratch = EvalScratch()
    var model: ProfileModel
    /// Whether events also go to the model (a harness compared only with another engine
    /// can do without).
    let modelled: Bool
    /// Payloads by customer (valid until the customer is swept).
    var payloads: [String: UnsafeMutableRawPointer] = [:]

    init(_ fields: [ModelField], ttl: Int64?, modelled: Bool = true) {
        self.modelled = modelled
        var paths = FieldPaths()
        let type = paths.intern(["type"])
        let customer = paths.intern(["cid"])
        var env = ExprEnvironment(fields: paths, typeField: type, customerField: customer)
        func compile(_ source: String) -> Program {
            switch ExprCompiler.compile(source, in: &env) {
            case .success(let p): return p
            case .failure(let d): fatalError("\(source): \(d.items.map(\.message))")
            }
        }
        self.fields = fields
        programs = fields.map { f in
            let value = compile(f.value)
            return CompiledPipeline.ProfileField(
                name: f.name, kind: f.kind, value: value, filter: f.filter.map(compile), minus: f.minus.map(compile),
                window: f.windowed ? Int64(f.buckets) * f.bucket : nil, bucket: f.windowed ? f.bucket : nil,
                capacity: f.capacity, defaultValue: f.defaultValue, type: value.resultType)
        }
        scanner = JSONScanner(paths: env.fields)
        layout = ProfileLayout(fields: programs, ttl: ttl)
        let store = try! StateStore.open(directory: nil, layout: layout.storeLayout, access: .write)
        engine = ProfileEngine(pipeline: programs, layout: layout, store: store)
        model = ProfileModel(fields: fields, intSum: programs.map { $0.kind == .sum && $0.value.resultType == .int },
                             ttl: ttl)
    }

    /// Applies an event to the engine and the model; returns the customer's payload.
    @discardableResult
    func apply(customer: String, time: Int64, line text: String) -> UnsafeMutableRawPointer {
        let line = Array(text.utf8)
        var table = [ScannedValue](repeating: .absent, count: max(1, scanner.fieldCount))
        let outcome = line.withUnsafeBytes { raw in
            table.withUnsafeMutableBufferPointer { scanner.scan(raw, into: $0.baseAddress!) }
        }
        precondition(outcome == .event, "not an event: \(text)")
        let key = Array(customer.utf8)
        return line.withUnsafeBytes { raw in
            table.withUnsafeBufferPointer { values in
                let activation = Activation(line: raw, fields: values.baseAddress!, eventTime: time)
                if modelled { model.apply(customer: customer, time: time, obs: programs.map { observe($0, activation) }) }
                let payload = key.withUnsafeBytes { k in
                    try! engine.apply(key: k, hash: XXH64.hash(k, seed: 0), activation: activation, scratch: scratch)
                }
                payloads[customer] = payload
                return payload
            }
        }
    }

    private func observe(_ field: CompiledPipeline.ProfileField, _ activation: Activation) -> Observation {
        func holds(_ p: Program?) -> Bool? {
            guard let p else { return nil }
            if case .bool(true) = p.evaluate(activation, scratch: scratch) { return true }
            return false
        }
        if field.kind == .count {
            return Observation(selected: holds(field.value)!, minus: holds(field.minus) ?? false, value: nil)
        }
        let selected = holds(field.filter) ?? true
        let program = field.value
        let value = program.evaluate(activation, scratch: scratch)
        let model: ModelValue?
        switch value {
        case .null: model = .null
        case .bool(let b): model = .bool(b)
        case .int(let i): model = .int(i)
        case .uint(let u): model = .uint(u)
        case .double(let d): model = .double(d)
        case .timestamp(let t): model = .timestamp(t)
        case .duration(let d): model = .duration(d)
        case .string(let span): model = .string(Array(program.string(span, activation: activation, scratch: scratch).utf8))
        case .list(let ref), .map(let ref):
            if ref.origin == .line {
                let start = Int(ref.start)
                model = .json(canonicalJSON(Array(activation.line[start..<(start + Int(ref.count))])))
            } else {
                model = .json(canonicalJSON(Array(program.jsonText(of: value, activation: activation, scratch: scratch)!.utf8)))
            }
        case .bytes, .type, .error: model = nil
        }
        return Observation(selected: selected, minus: false, value: model)
    }

    /// Every field of the payload as expressions see it (`load`), as JSON text.
    func loaded(_ payload: UnsafeRawPointer) -> [String] {
        engine.load(payload)
        return fields.indices.map { i in
            let text = renderLoaded(engine.values[i], Array(engine.text.bytes))
            return fields[i].kind == .min || fields[i].kind == .max ? numericSpelling(text) : text
        }
    }

    /// Every field as `appendJSON` writes it at `clock`, canonical.
    func written(_ payload: UnsafeRawPointer, at clock: Int64) -> [String] {
        var out: [UInt8] = []
        engine.appendJSON(payload, at: clock, to: &out)
        let members = objectMembers(canonicalJSON(out))
        precondition(members.map(\.name) == fields.map { quoteJSON($0.name) }, "names: \(members.map(\.name))")
        return fields.indices.map { i in
            fields[i].kind == .min || fields[i].kind == .max ? numericSpelling(members[i].value) : members[i].value
        }
    }

    /// The model's fields for a customer at a clock (nil where the engine may estimate).
    func expected(_ customer: String, at clock: Int64) -> [String?] {
        model.values(of: customer, at: clock)
    }

    /// Differences between the engine's values and the model's, one line each.
    func differences(_ got: [String], _ expected: [String?]) -> [String] {
        fields.indices.compactMap { i in
            guard let e = expected[i], e != got[i] else { return nil }
            return "\(fields[i].name): expected \(e), got \(got[i])"
        }
    }
}

/// A value the engine loaded, as JSON text (its strings and lists read from `text`).
func renderLoaded(_ value: Value, _ text: [UInt8]) -> String {
    switch value {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .uint(let u): return String(u)
    case .double(let d): return renderDouble(d)
    case .timestamp(let t): return quoteJSON(CELTime.formatTimestamp(t))
    case .duration(let d): return quoteJSON(CELTime.formatDuration(d))
    case .string(let span):
        guard span.origin == .variables else { return "<string from \(span.origin)>" }
        let raw = Array(text[Int(span.start)..<Int(span.start + span.count)])
        return quoteJSON(bytes: span.escaped ? decodeJSONString(raw) : raw)
    case .list(let ref), .map(let ref):
        guard ref.origin == .variables else { return "<json from \(ref.origin)>" }
        return canonicalJSON(Array(text[Int(ref.start)..<Int(ref.start + ref.count)]))
    case .bytes, .type, .error:
        return "<\(value)>"
    }
}
