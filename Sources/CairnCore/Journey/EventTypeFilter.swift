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

/// Which journeys' running instances an event can concern, by the event's type: so that a
/// customer whose instances wait only for timers, or for events of other types, is not
/// decoded at every event.
///
/// An instance reacts to an event through its journey's goal, exit condition, a `wait_for`
/// it waits at, or a `hold` (mode wait) it is held by. A journey whose such conditions all
/// require `type == "x"` literals is interested in those types only (none at all when it has
/// no such condition); any other journey in every event.
///
/// Journeys are represented by one bit each of a 16-bit mask, bit `nameHash % 16`, kept in
/// the customer's journey blob for the instances it holds: the bit follows the journey's
/// name, so the mask stays right when the pipeline changes. Bits may be shared: the filter
/// only ever lets more events through, never fewer.
struct EventTypeFilter {
    /// Per type literal: the bits of the journeys interested in it (those interested in every
    /// type included).
    private let literals: [(type: [UInt8], mask: UInt16)]
    /// Bits of the journeys interested in every event.
    private let always: UInt16

    init(_ pipeline: CompiledPipeline) {
        var always: UInt16 = 0
        var byType: [[UInt8]: UInt16] = [:]
        for journey in pipeline.journeys {
            let bit = Self.bit(journey.nameHash)
            var conditions: [Program] = [journey.goal?.when, journey.exit].compactMap { $0 }
            if let hold = journey.hold, hold.mode == .wait { conditions.append(hold.when) }
            for step in journey.steps {
                if case .waitFor(let event, _, _, _) = step.op { conditions.append(event) }
            }
            var types: Set<[UInt8]> = []
            var any = false
            for condition in conditions {
                guard let required = condition.requiredTypes(typeField: pipeline.typeField) else {
                    any = true
                    break
                }
                types.formUnion(required)
            }
            if any {
                always |= bit
            } else {
                for type in types { byType[type, default: 0] |= bit }
            }
        }
        self.always = always
        self.literals = byType.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0, byType[$0]! | always) }
    }

    /// The bit of a journey, by the hash of its name.
    @inline(__always)
    static func bit(_ nameHash: UInt32) -> UInt16 { 1 << UInt16(nameHash & 15) }

    /// The bits of the journeys an event of this type (the scanned `type` field) concerns.
    @inline(__always)
    func mask(type: ScannedValue, line: UnsafeRawBufferPointer) -> UInt16 {
        guard !literals.isEmpty else { return always }
        // An escaped or non-string type cannot be compared cheaply: let everything through.
        guard type.kind == .string, !type.hasEscapes else { return .max }
        let count = Int(type.end &- type.start)
        for entry in literals where entry.type.count == count {
            let same = entry.type.withUnsafeBytes { literal in
                count == 0 || memcmp(line.baseAddress! + Int(type.start), literal.baseAddress!, count) == 0
            }
            if same { return entry.mask }
        }
        return always
    }
}
