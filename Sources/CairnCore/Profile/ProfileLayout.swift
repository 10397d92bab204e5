/// Where each profile aggregate lives in a customer's payload, computed once from the
/// pipeline: the fixed-size bytes the state store keeps per customer.
///
///     payload: | latest event time i64 | journey state u64 | field 0 | field 1 | ... |   (8-byte aligned)
///
/// The journey state is the arena handle of the customer's journey blob (0: none; see
/// `CustomerJourneys`).
///
/// Per field (B = window / bucket buckets; unwindowed fields have none):
///
/// | kind      | unwindowed                      | windowed                                |
/// | --------- | ------------------------------- | --------------------------------------- |
/// | count     | i64                             | B × i32                                 |
/// | sum       | i64 or f64 (+ i64 n with a default) | B × (i64 or f64) (+ B × u32 n with a default) |
/// | avg       | f64 sum, i64 n                  | B × f64, B × u32 n                      |
/// | min, max  | cell (16 B)                     | B × cell                                |
/// | last      | cell, i64 time                  | cell, i64 time                          |
/// | first     | cell, i64 time                  | B × (cell, i64 time)                    |
/// | distinct  | u16 used, u8 flags, u32 lost-at bucket, capacity × (u32 hash, u32 bucket) | the same |
///
/// A bucket's position in its ring is `k mod B`, where `k = ⌊t / bucket⌋` (floor, so times
/// before 1970 work too); the ring holds buckets `k(latest) − B + 1 ... k(latest)`.
///
/// The layout's `fingerprint` covers exactly what gives bytes their meaning (kinds, windows,
/// buckets, capacities, whether a sum is int or double, whether counts are kept), so a
/// pipeline change that keeps it (a new journey, another condition) continues with the same
/// state, and one that changes it is refused.
public struct ProfileLayout: Sendable {
    /// A field as the layout keeps it: its name and default, and where and how it is stored.
    public struct Field: Sendable, Equatable {
        public var name: String
        public var shape: Shape
        public var defaultValue: ScalarValue?
    }

    /// Where and how a field is stored: all the hot path needs of it, and trivially copyable
    /// (no name, no default), so reading it per event costs no reference counting.
    public struct Shape: Sendable, Equatable {
        public var kind: CompiledPipeline.ProfileField.Kind
        /// Byte offset of the field in the payload.
        public var offset: Int
        /// Bytes the field takes.
        public var size: Int
        /// Buckets in the window; 0 when the field has no window.
        public var buckets: Int
        /// Bucket width in nanoseconds (0 without a window).
        public var bucketNanos: Int64
        /// Distinct: entries kept.
        public var capacity: Int
        /// Sum: whether it adds ints (else doubles).
        public var intSum: Bool
        /// Sum and avg: whether the number of selected values is kept (avg always; sum when
        /// it has a default, to know whether any value was selected).
        public var counted: Bool

        var windowed: Bool { buckets > 0 }
        /// Whether moving a customer's clock clears buckets of this field: a windowed field
        /// but `last` (which keeps one value and its time).
        var clearsBuckets: Bool { windowed && kind != .last }
    }

    /// Offset of the customer's latest event time.
    static let latestOffset = 0
    /// Offset of the arena handle of the customer's journey state.
    static let journeysOffset = 8
    static let headerSize = 16

    public var fields: [Field]
    /// Bytes per customer (a multiple of 8).
    public var payloadSize: Int
    /// Idle time after which a customer is forgotten (ns); nil: never.
    public var ttl: Int64?

    public init(fields specs: [CompiledPipeline.ProfileField], ttl: Int64?) {
        var offset = Self.headerSize
        var fields: [Field] = []
        for spec in specs {
            let buckets: Int
            let bucketNanos: Int64
            if let window = spec.window, let bucket = spec.bucket, bucket > 0 {
                buckets = Int(window / bucket)
                bucketNanos = bucket
            } else {
                buckets = 0
                bucketNanos = 0
            }
            let intSum = spec.kind == .sum && spec.value.resultType == .int
            let counted = spec.kind == .avg || (spec.kind == .sum && spec.defaultValue != nil)
            var shape = Shape(kind: spec.kind, offset: offset, size: 0, buckets: buckets, bucketNanos: bucketNanos,
                              capacity: spec.kind == .distinct ? max(2, spec.capacity) : 0, intSum: intSum, counted: counted)
            shape.size = Self.size(of: shape)
            offset += shape.size
            fields.append(Field(name: spec.name, shape: shape, defaultValue: spec.defaultValue))
        }
        self.fields = fields
        self.payloadSize = offset
        self.ttl = ttl
    }

    static func align8(_ n: Int) -> Int { (n + 7) & ~7 }

    static func size(of f: Shape) -> Int {
        let b = f.buckets
        switch f.kind {
        case .count:
            return f.windowed ? align8(4 * b) : 8
        case .sum, .avg:
            if f.windowed { return 8 * b + (f.counted ? align8(4 * b) : 0) }
            return 8 + (f.counted ? 8 : 0)
        case .min, .max:
            return ValueCell.size * max(b, 1)
        case .last:
            return ValueCell.size + 8
        case .first:
            return (ValueCell.size + 8) * max(b, 1)
        case .distinct:
            return 8 + 8 * f.capacity
        }
    }

    // MARK: - Description and fingerprint

    /// The layout as JSON text: stored with the state (the store keeps it opaque), so that
    /// `cairn state` reads a directory without the pipeline and a refused change can say what
    /// differs. Defaults are included; the fingerprint leaves them out.
    public var description: [UInt8] {
        var out: [UInt8] = Array("{\"version\":2".utf8)
        if let ttl { out += Array(",\"ttl_ns\":\(ttl)".utf8) }
        out += Array(",\"fields\":[".utf8)
        for (i, field) in fields.enumerated() {
            let f = field.shape
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"name\":".utf8)
            out += Array(JSONText.quoted(field.name).utf8)
            out += Array(",\"kind\":\"\(f.kind.rawValue)\"".utf8)
            if f.windowed { out += Array(",\"buckets\":\(f.buckets),\"bucket_ns\":\(f.bucketNanos)".utf8) }
            if f.kind == .distinct { out += Array(",\"capacity\":\(f.capacity)".utf8) }
            if f.kind == .sum { out += Array(",\"sum\":\"\(f.intSum ? "int" : "double")\"".utf8) }
            if f.counted { out += Array(",\"counted\":true".utf8) }
            if let d = field.defaultValue {
                out += Array(",\"default\":".utf8)
                Self.appendScalar(d, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out += Array("]}".utf8)
        return out
    }

    /// XXH64 over the parts that give the payload's bytes their meaning.
    public var fingerprint: UInt64 {
        var text = "cairn-profile-layout-2"
        for field in fields {
            let f = field.shape
            text += "|\(field.name):\(f.kind.rawValue):\(f.offset):\(f.size):\(f.buckets):\(f.bucketNanos)"
            text += ":\(f.capacity):\(f.intSum):\(f.counted)"
        }
        return Array(text.utf8).withUnsafeBytes { XXH64.hash($0, seed: 0) }
    }

    public var storeLayout: StoreLayout {
        StoreLayout(payloadSize: payloadSize, fingerprint: fingerprint, description: description)
    }

    static func appendScalar(_ value: ScalarValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): JSONText.appendDouble(d, to: &out)
        case .string(let s): out += Array(JSONText.quoted(s).utf8)
        }
    }
}

extension ProfileLayout {
    /// Reads a layout back from its `description` (what `cairn state` does, without the
    /// pipeline); nil when the text is not a layout this version wrote.
    public init?(description bytes: [UInt8]) {
        guard let tree = JSONTree.parse(bytes), tree["version"]?.int64 == 2, let items = tree["fields"]?.array else {
            return nil
        }
        var offset = Self.headerSize
        var fields: [Field] = []
        for item in items {
            guard let name = item["name"]?.string, let kind = item["kind"]?.string.flatMap(CompiledPipeline.ProfileField.Kind.init(rawValue:)) else {
                return nil
            }
            var defaultValue: ScalarValue?
            switch item["default"] {
            case nil: defaultValue = nil
            case .null?: defaultValue = .null
            case .bool(let b)?: defaultValue = .bool(b)
            case .string(let s)?: defaultValue = .string(s)
            case .number(let n)?:
                if let i = Int64(n) { defaultValue = .int(i) } else if let d = Double(n) { defaultValue = .double(d) } else { return nil }
            default: return nil
            }
            var shape = Shape(kind: kind, offset: offset, size: 0,
                              buckets: Int(item["buckets"]?.int64 ?? 0), bucketNanos: item["bucket_ns"]?.int64 ?? 0,
                              capacity: Int(item["capacity"]?.int64 ?? 0), intSum: item["sum"]?.string == "int",
                              counted: item["counted"]?.bool ?? false)
            guard shape.buckets >= 0, shape.buckets <= 4096, shape.capacity >= 0, shape.capacity <= 1 << 16,
                  (shape.buckets == 0) == (shape.bucketNanos == 0), shape.bucketNanos >= 0 else { return nil }
            shape.size = Self.size(of: shape)
            offset += shape.size
            fields.append(Field(name: name, shape: shape, defaultValue: defaultValue))
        }
        self.fields = fields
        self.payloadSize = offset
        self.ttl = tree["ttl_ns"]?.int64
    }
}
