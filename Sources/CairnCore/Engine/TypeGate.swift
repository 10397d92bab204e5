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
/// more events through, never fewer. Literal `k` of `literals` has mask `masks[k]`.
///
/// The gate's buffers belong to its owner, which calls `deallocate()` once, in its deinit.
struct TypeGate {
    private let literals: TypeLiterals
    private let masks: UnsafeMutableBufferPointer<UInt64>
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
        let types = byType.keys.sorted { $0.lexicographicallyPrecedes($1) }
        literals = TypeLiterals(types)
        masks = .copying(types.map { byType[$0]! | always })
        self.always = always
        self.typeField = typeField
    }

    func deallocate() {
        literals.deallocate()
        masks.baseAddress?.deallocate()
        byNumber.baseAddress?.deallocate()
    }

    /// The literals this gate compares types with.
    var types: [[UInt8]] { literals.all }

    /// Tabulates the mask of every type `types` numbers, so that `mask` of an event whose
    /// type the scan numbered is one load.
    ///
    /// - Precondition: `types` numbers every literal of this gate (built from its `types`).
    mutating func number(by types: EventTypes) {
        byNumber.baseAddress?.deallocate()
        byNumber = .allocate(capacity: types.count + 1)
        byNumber[0] = always
        for (k, literal) in types.literals.enumerated() {
            byNumber[k + 1] = literal.withUnsafeBytes { literals.index(of: $0) }.map { masks[$0] } ?? always
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
        guard let text = TypeLiterals.plainText(activation.fields[typeField], in: activation.line) else { return ~0 }
        return literals.index(of: text).map { masks[$0] } ?? always
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

/// Byte strings an event's type is compared with, back to back in one buffer and found by a
/// linear scan (a pipeline names a handful of types): the type gates' literals and the
/// run's numbering of them (`EventTypes`).
///
/// The buffers belong to the owner, which calls `deallocate()` once.
struct TypeLiterals {
    private let spans: UnsafeMutableBufferPointer<(start: Int, count: Int)>
    private let bytes: UnsafeMutableBufferPointer<UInt8>

    init(_ literals: [[UInt8]]) {
        var spans: [(start: Int, count: Int)] = []
        var start = 0
        for literal in literals {
            spans.append((start, literal.count))
            start += literal.count
        }
        self.spans = .copying(spans)
        bytes = .copying(literals.flatMap { $0 })
    }

    func deallocate() {
        spans.baseAddress?.deallocate()
        bytes.baseAddress?.deallocate()
    }

    var count: Int { spans.count }

    var all: [[UInt8]] { (0..<count).map { Array(text($0)) } }

    /// Literal `k`'s bytes.
    @inline(__always)
    func text(_ k: Int) -> UnsafeRawBufferPointer {
        let span = spans[k]
        return UnsafeRawBufferPointer(start: bytes.baseAddress.map { UnsafeRawPointer($0) + span.start }, count: span.count)
    }

    /// The index of the literal equal to `text`, or nil.
    ///
    /// - Complexity: O(literals); no allocation.
    @inline(__always)
    func index(of text: UnsafeRawBufferPointer) -> Int? {
        let count = text.count
        var k = 0
        while k < spans.count {
            let span = spans[k]
            // SAFETY: `text` holds `count` bytes; each span lies in `bytes`.
            if span.count == count && (count == 0 || bytesEqual(text.baseAddress!, bytes.baseAddress! + span.start, count: count)) {
                return k
            }
            k &+= 1
        }
        return nil
    }

    /// The text of a scanned type that is a string without escapes (compared as it is in
    /// the line), or nil: an escaped, non-string or absent type matches no literal as bytes.
    @inline(__always)
    static func plainText(_ type: ScannedValue, in line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard type.kind == .string, !type.hasEscapes else { return nil }
        // SAFETY: the scanner's span lies in the line.
        return UnsafeRawBufferPointer(rebasing: line[Int(type.start)..<Int(type.end)])
    }
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
    private let table: TypeLiterals

    /// - Parameter gates: the gates whose literals to number (their union, sorted).
    init(typeField: FieldID, gates: [TypeGate]) {
        var all = Set<[UInt8]>()
        for gate in gates { all.formUnion(gate.types) }
        let sorted = all.sorted { $0.lexicographicallyPrecedes($1) }
        // Past 254 literals the gates compare bytes as before.
        literals = sorted.count < Int(Self.unnumbered) ? sorted : []
        self.typeField = typeField
        table = TypeLiterals(literals)
    }

    deinit { table.deallocate() }

    var count: Int { literals.count }

    /// The text of the literal numbered `number` (1 ... count), from this table.
    @inline(__always)
    func text(_ number: UInt8) -> UnsafeRawBufferPointer {
        table.text(Int(number) &- 1)
    }

    /// The number of the type of a scanned event.
    ///
    /// - Complexity: O(literals); no allocation.
    @inline(__always)
    func number(_ values: UnsafePointer<ScannedValue>, line: UnsafeRawBufferPointer) -> UInt8 {
        guard table.count > 0, let text = TypeLiterals.plainText(values[typeField], in: line) else { return Self.unnumbered }
        return table.index(of: text).map { UInt8(truncatingIfNeeded: $0 &+ 1) } ?? 0
    }
}
