#if canImport(Glibc)
import Glibc
#endif

extension Program {
    /// The event types for which this condition can hold, when its form says so: the literals
    /// of `type == "x"` conjuncts (`type == "x" && ...`), united over `||`. nil when the
    /// condition may hold for an event of any type.
    ///
    /// - Parameter typeField: the pipeline's type field.
    func requiredTypes(typeField: FieldID) -> Set<[UInt8]>? {
        func types(_ index: Int32) -> Set<[UInt8]>? {
            let node = nodes[Int(index)]
            switch node.op {
            case .variableEqualString where Int(node.a) == typeField:
                return [Array(bytes[Int(node.b)..<Int(node.b + node.c)])]
            case .and:
                // Either side's types bound the conjunction; the smaller set is the tighter.
                switch (types(node.a), types(node.b)) {
                case let (l?, r?): return l.intersection(r)
                case let (l?, nil): return l
                case let (nil, r?): return r
                case (nil, nil): return nil
                }
            case .or:
                guard let l = types(node.a), let r = types(node.b) else { return nil }
                return l.union(r)
            default:
                return nil
            }
        }
        return types(root)
    }
}

/// Which members of a set (profile fields, journey entries, journeys with running instances)
/// an event can concern, by the event's type alone: a member all of whose conditions require
/// `type == "x"` literals (`Program.requiredTypes`) concerns events of those types only, so
/// the hot path skips it for the others without evaluating anything.
///
/// Each member has bits in a 64-bit mask (its index, or a hash of its name); `mask` gives the
/// bits of the members an event's type allows. Bits may be shared: a gate only ever lets
/// more events through, never fewer. Literal `k` is `bytes[start ..< start + count]` of
/// `literals[k]`.
///
/// The gate's buffers belong to its owner, which calls `deallocate()` once, in its deinit.
struct TypeGate {
    private let literals: UnsafeMutableBufferPointer<(start: Int, count: Int, mask: UInt64)>
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    /// The bits of the members that every event may concern.
    let always: UInt64
    private let typeField: FieldID
    /// The mask for each `EventTypes` number (see `number(by:)`); empty until then.
    private var byNumber = UnsafeMutableBufferPointer<UInt64>(start: nil, count: 0)

    /// - Parameter members: each member's bits, and the conditions through which an event
    ///   concerns it: nil for every event; else it concerns the types its conditions all
    ///   require (every event when one of them requires none; no event for `[]`).
    init(typeField: FieldID, members: [(bits: UInt64, conditions: [Program]?)]) {
        var always: UInt64 = 0
        var byType: [[UInt8]: UInt64] = [:]
        for member in members {
            var types: Set<[UInt8]> = []
            var any = member.conditions == nil
            for condition in member.conditions ?? [] {
                guard let required = condition.requiredTypes(typeField: typeField) else {
                    any = true
                    break
                }
                types.formUnion(required)
            }
            if any {
                always |= member.bits
            } else {
                for type in types { byType[type, default: 0] |= member.bits }
            }
        }
        var bytes: [UInt8] = []
        var literals: [(start: Int, count: Int, mask: UInt64)] = []
        for type in byType.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            literals.append((bytes.count, type.count, byType[type]! | always))
            bytes += type
        }
        self.bytes = .allocate(capacity: max(1, bytes.count))
        _ = self.bytes.initialize(from: bytes)
        let buffer = UnsafeMutableBufferPointer<(start: Int, count: Int, mask: UInt64)>.allocate(capacity: max(1, literals.count))
        _ = buffer.initialize(from: literals)
        self.literals = UnsafeMutableBufferPointer(rebasing: buffer[0..<literals.count])
        self.always = always
        self.typeField = typeField
    }

    func deallocate() {
        bytes.deallocate()
        literals.baseAddress?.deallocate()
        byNumber.baseAddress?.deallocate()
    }

    /// The literals this gate compares types with.
    var types: [[UInt8]] {
        literals.map { Array(bytes[$0.start ..< $0.start + $0.count]) }
    }

    /// Tabulates the mask of every type `types` numbers, so that `mask` of an event whose
    /// type the scan numbered is one load.
    ///
    /// - Precondition: `types` numbers every literal of this gate (built from its `types`).
    mutating func number(by types: EventTypes) {
        byNumber.baseAddress?.deallocate()
        byNumber = .allocate(capacity: types.count + 1)
        byNumber[0] = always
        for (k, literal) in types.literals.enumerated() {
            byNumber[k + 1] = literals.first { bytes[$0.start ..< $0.start + $0.count].elementsEqual(literal) }?.mask ?? always
        }
    }

    /// The bits of the members an event of this type may concern: `always`, and those of its
    /// type's literal. An escaped or non-string type is compared with no literal: all bits.
    ///
    /// - Complexity: one load when the scan numbered the type (`Activation.typeNumber`), else
    ///   O(type literals); no allocation.
    @inline(__always)
    func mask(_ activation: Activation) -> UInt64 {
        let number = Int(activation.typeNumber)
        if number < byNumber.count { return byNumber[number] }
        let type = activation.fields[typeField]
        guard type.kind == .string, !type.hasEscapes else { return ~0 }
        let count = Int(type.end &- type.start)
        // SAFETY: the scanner's span lies in the line; each literal in `bytes`.
        let text = activation.line.baseAddress! + Int(type.start)
        var k = 0
        while k < literals.count {
            let literal = literals[k]
            if literal.count == count && (count == 0 || bytesEqual(text, bytes.baseAddress! + literal.start, count: count)) {
                return literal.mask
            }
            k &+= 1
        }
        return always
    }
}

/// The journeys with running instances an event can concern: those whose goal, exit, a
/// `wait_for` or a `hold` (mode wait) may hold for its type; so that a customer whose
/// instances wait only for timers, or for events of other types, is not decoded at every
/// event. A journey's bit is `nameHash % 16` of the 16-bit mask kept in the customer's journey
/// blob for the instances it holds: the bit follows the journey's name, so the mask stays
/// right when the pipeline changes.
enum EventTypeFilter {
    static func gate(_ pipeline: CompiledPipeline) -> TypeGate {
        TypeGate(typeField: pipeline.typeField, members: pipeline.journeys.map { journey in
            var conditions: [Program] = [journey.goal?.when, journey.exit].compactMap { $0 }
            if let hold = journey.hold, hold.mode == .wait { conditions.append(hold.when) }
            for step in journey.steps {
                if case .waitFor(let event, _, _, _) = step.op { conditions.append(event) }
            }
            return (UInt64(bit(journey.nameHash)), conditions)
        })
    }

    /// The bit of a journey, by the hash of its name.
    @inline(__always)
    static func bit(_ nameHash: UInt32) -> UInt16 { 1 << UInt16(nameHash & 15) }
}

/// Every type literal of a run's gates, numbered, so that the scan (on the helper thread)
/// finds an event's type once and the gates on the main thread each look its mask up by
/// number instead of comparing the type's bytes with their literals.
///
/// Numbers: 0 for a string type that is none of the literals, `k + 1` for `literals[k]`;
/// `unnumbered` for a type the gates must look at themselves (escaped, not a string,
/// absent, or more literals than a byte numbers).
///
/// SAFETY: `@unchecked Sendable`: immutable after init; its buffers are read by the scan
/// threads and the main thread, and freed in `deinit` (the runner and the crew keep it).
final class EventTypes: @unchecked Sendable {
    static let unnumbered = UInt8.max

    let literals: [[UInt8]]
    private let typeField: FieldID
    private let spans: UnsafeMutableBufferPointer<(start: Int, count: Int)>
    private let bytes: UnsafeMutableBufferPointer<UInt8>

    /// - Parameter gates: the gates whose literals to number (their union, sorted).
    init(typeField: FieldID, gates: [TypeGate]) {
        var all = Set<[UInt8]>()
        for gate in gates { all.formUnion(gate.types) }
        let sorted = all.sorted { $0.lexicographicallyPrecedes($1) }
        // Past 254 literals the gates compare bytes as before.
        literals = sorted.count < Int(Self.unnumbered) ? sorted : []
        self.typeField = typeField
        let joined = literals.flatMap { $0 }
        bytes = .allocate(capacity: max(1, joined.count))
        _ = bytes.initialize(from: joined)
        spans = .allocate(capacity: max(1, literals.count))
        var start = 0
        for (k, literal) in literals.enumerated() {
            spans[k] = (start, literal.count)
            start += literal.count
        }
    }

    deinit {
        bytes.deallocate()
        spans.deallocate()
    }

    var count: Int { literals.count }

    /// The text of the literal numbered `number` (1 ... count), from this table.
    @inline(__always)
    func text(_ number: UInt8) -> UnsafeRawBufferPointer {
        let span = spans[Int(number) &- 1]
        return UnsafeRawBufferPointer(start: bytes.baseAddress! + span.start, count: span.count)
    }

    /// The number of the type of a scanned event.
    ///
    /// - Complexity: O(literals); no allocation.
    @inline(__always)
    func number(_ values: UnsafePointer<ScannedValue>, line: UnsafeRawBufferPointer) -> UInt8 {
        let type = values[typeField]
        guard type.kind == .string, !type.hasEscapes, literals.count > 0 else { return Self.unnumbered }
        let count = Int(type.end &- type.start)
        // SAFETY: the scanner's span lies in the line; each span in `bytes`.
        let text = line.baseAddress! + Int(type.start)
        var k = 0
        while k < literals.count {
            let span = spans[k]
            if span.count == count && (count == 0 || bytesEqual(text, bytes.baseAddress! + span.start, count: count)) {
                return UInt8(truncatingIfNeeded: k &+ 1)
            }
            k &+= 1
        }
        return 0
    }
}
