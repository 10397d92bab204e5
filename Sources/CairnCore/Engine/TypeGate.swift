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
    }

    /// The bits of the members an event of this type may concern: `always`, and those of its
    /// type's literal. An escaped or non-string type is compared with no literal: all bits.
    ///
    /// - Complexity: O(type literals); no allocation.
    @inline(__always)
    func mask(_ activation: Activation) -> UInt64 {
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
