#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Program {
    /// Evaluates the program for one event.
    ///
    /// A recursive walk over the flat node array with trivially copyable values: no `Array`,
    /// `String` or closure is created, nothing is reference counted per node. Numbers in the
    /// event are parsed only when an operator uses them; strings are compared in place, with
    /// escapes decoded on the fly; event objects and arrays are read in place when selected,
    /// indexed or iterated.
    ///
    /// Values built at runtime (lists from macros, concatenations, conversions to string)
    /// live in `scratch`, which is reset first: the result is valid until the next evaluation
    /// with the same scratch.
    ///
    /// - Complexity: O(number of nodes evaluated, plus the JSON text walked); no allocation
    ///   once `scratch` has grown to the largest evaluation's needs, except where a Swift
    ///   string is built: `matches` on subjects longer than 15 bytes, computed (non-literal)
    ///   regexes, time zones and duration strings, `string(double)`, `string(duration)`,
    ///   and `double(string)` on text longer than 15 bytes.
    public func evaluate(_ activation: Activation, scratch: EvalScratch) -> Value {
        storage.evaluate(activation, scratch: scratch)
    }

    /// Whether plain `text` (a numbered type, or a scanned string without escapes) is the
    /// string literal of `node`, a `…EqualString` instruction whose literal is in `bytes`.
    @inline(__always)
    static func textEquals(_ text: UnsafeRawBufferPointer, _ bytes: UnsafeRawBufferPointer,
                           _ node: ProgramInstruction) -> Bool {
        let count = Int(node.c)
        // SAFETY: `text` holds `text.count` bytes; the literal is in `bytes`.
        return text.count == count && (count == 0 || bytesEqual(text.baseAddress!, bytes.baseAddress! + Int(node.b), count: count))
    }
}

extension ProgramStorage {
    /// `Program.evaluate`, on the program's arrays at their fixed addresses.
    func evaluate(_ activation: Activation, scratch: EvalScratch) -> Value {
        scratch.reset()
        let root = self.root
        return withEvaluator(activation, scratch) { $0.eval(root) }
    }

    /// Only `bool(true)` matches.
    ///
    /// The commonest conditions are decided here without setting up an evaluation: a
    /// conjunction (`&&`, or a single condition) whose conjuncts along its left spine are a
    /// field or `type` equal to a literal (`type == "purchase"`) with a plain string value, or
    /// a profile field holding an int compared with `==` or `!=` to an int literal
    /// (`profile.views_7d == 20`). One such conjunct that is false makes the conjunction false,
    /// whatever the others are, errors included (`&&` in CEL is commutative that way); all of
    /// them true makes it true. Anything else is evaluated.
    @inline(__always)
    func matches(_ activation: Activation, scratch: EvalScratch) -> Bool {
        var node = nodes[Int(root)]
        var decided = true
        while true {
            let leaf = node.op == .and ? nodes[Int(node.b)] : node
            switch quickTruth(leaf, activation) {
            case 0: return false
            case 1: break
            default: decided = false
            }
            guard node.op == .and else { break }
            node = nodes[Int(node.a)]
        }
        if decided { return true }
        if case .bool(true) = evaluate(activation, scratch: scratch) { return true }
        return false
    }

    /// False when `matches` would be false on the leftmost conjunct alone, a field or `type`
    /// equal to a string literal that the event's plain string fails (`type == "purchase"`
    /// for a page view), so that the caller may skip what the condition guards; true
    /// otherwise.
    ///
    /// - Complexity: O(length of the literal); no evaluation.
    @inline(__always)
    func mayMatch(_ activation: Activation) -> Bool {
        var node = nodes[Int(root)]
        while node.op == .and { node = nodes[Int(node.a)] }
        guard node.op == .variableEqualString || node.op == .fieldEqualString else { return true }
        return quickTruth(node, activation) != 0
    }

    /// What `node` evaluates to, when that is plainly `bool(false)` (0) or `bool(true)` (1);
    /// -1 when it takes an evaluation to tell.
    @inline(__always)
    func quickTruth(_ node: ProgramInstruction, _ activation: Activation) -> Int {
        switch node.op {
        case .variableEqualString, .fieldEqualString:
            if node.a == activation.typeField {
                return Program.textEquals(activation.typeText, UnsafeRawBufferPointer(bytes), node) ? 1 : 0
            }
            let scanned = activation.fields[Int(node.a)]
            guard scanned.kind == .string && !scanned.hasEscapes else { return -1 }
            // SAFETY: the scanner's span lies in the line.
            let text = UnsafeRawBufferPointer(rebasing: activation.line[Int(scanned.start)..<Int(scanned.end)])
            return Program.textEquals(text, UnsafeRawBufferPointer(bytes), node) ? 1 : 0
        case .equal, .notEqual:
            guard let profile = activation.profileValues else { return -1 }
            var field = nodes[Int(node.a)]
            var literal = nodes[Int(node.b)]
            if field.op == .constant { swap(&field, &literal) }
            guard field.op == .profile, literal.op == .constant,
                  case .int(let held) = profile[Int(field.a)],
                  case .int(let wanted) = constants[Int(literal.a)] else { return -1 }
            // As `Evaluator.equal` compares two ints.
            return (held == wanted) == (node.op == .equal) ? 1 : 0
        default:
            return -1
        }
    }
}

/// Outcome of comparing two values that have an order.
enum Ordering {
    case less, equal, greater, unordered
}

/// The evaluation state: raw pointers into the program and the activation, valid for one
/// `evaluate` call, and the scratch arena.
struct Evaluator {
    let nodes: UnsafePointer<ProgramInstruction>
    let constants: UnsafePointer<Value>
    let operands: UnsafePointer<Int32>
    let programBytes: UnsafeRawBufferPointer
    let line: UnsafeRawBufferPointer
    let fields: UnsafePointer<ScannedValue>
    let eventTime: Int64
    let variableText: UnsafeRawBufferPointer
    let variableValues: UnsafePointer<ScannedValue>?
    let profileValues: UnsafePointer<Value>?
    let journeyValues: UnsafePointer<Value>?
    /// `Activation.typeField` and `typeText`.
    let typeField: Int32
    let typeText: UnsafeRawBufferPointer
    let locals: UnsafeMutablePointer<Value>
    // Unowned: the caller keeps the scratch alive for the whole evaluation; a strong
    // reference would cost a retain and a release per condition.
    unowned(unsafe) let scratch: EvalScratch
    /// The program's resolved time zones and compiled regexes (possibly empty buffers).
    let zones: UnsafeBufferPointer<CELTimeZone>
    let regexes: UnsafeBufferPointer<CELRegex>

    func eval(_ at: Int32) -> Value {
        let node = nodes[Int(at)]
        switch node.op {
        case .constant:
            return constants[Int(node.a)]
        case .field:
            let scanned = fields[Int(node.a)]
            if scanned.kind == .absent { return .error(.noSuchKey(Int(node.a))) }
            return jsonValue(scanned, .line)
        case .stringVariable:
            return loadString(field: node.a)
        case .eventTime:
            return .timestamp(eventTime)
        case .variable:
            guard let values = variableValues, values[Int(node.a)].kind != .absent else {
                return .error(.unsupportedType)
            }
            return jsonValue(values[Int(node.a)], .variables)
        case .profile:
            // Strings, lists and maps among the values are spans into `variableText`.
            guard let values = profileValues else { return .error(.unsupportedType) }
            return values[Int(node.a)]
        case .journey:
            // Strings among the values are spans into `variableText`.
            guard let values = journeyValues else { return .error(.unsupportedType) }
            return values[Int(node.a)]
        case .local:
            return locals[Int(node.a)]
        case .has:
            if node.b >= 0 {
                let parent = fields[Int(node.b)]
                switch parent.kind {
                case .absent: return .error(.noSuchKey(Int(node.b)))
                case .object: break
                default: return .error(.invalidSelection(Int(node.b)))
                }
            }
            return .bool(fields[Int(node.a)].isPresent)
        case .hasField, .select:
            let base = eval(node.a)
            let name = StringSpan(origin: .program, escaped: false, start: node.b, count: node.c)
            guard case .map(let map) = base else {
                if case .error = base { return base }
                return .error(.noFieldSelection)
            }
            let found = lookup(map, .string(name))
            if node.op == .hasField { return .bool(found != nil) }
            return found ?? .error(.noSuchField(start: node.b, count: node.c))
        case .index:
            return index(eval(node.a), eval(node.b))
        case .not:
            switch eval(node.a) {
            case .bool(let b): return .bool(!b)
            case .error(let e): return .error(e)
            default: return .error(.noSuchOverload)
            }
        case .negate:
            switch eval(node.a) {
            case .int(let i):
                return i == .min ? .error(.integerOverflow) : .int(-i)
            case .double(let d): return .double(-d)
            case .duration(let d):
                return d == .min ? .error(.durationOverflow) : .duration(-d)
            case .error(let e): return .error(e)
            default: return .error(.noSuchOverload)
            }
        case .and:
            return logical(node, absorbing: false)
        case .or:
            return logical(node, absorbing: true)
        case .conditional:
            switch eval(node.a) {
            case .bool(let b): return eval(b ? node.b : node.c)
            case .error(let e): return .error(e)
            default: return .error(.noSuchOverload)
            }
        case .equal:
            return equal(eval(node.a), eval(node.b))
        case .notEqual:
            return negated(equal(eval(node.a), eval(node.b)))
        case .less, .lessEqual, .greater, .greaterEqual:
            return relation(node.op, eval(node.a), eval(node.b))
        case .add, .subtract, .multiply, .divide, .remainder:
            return arithmetic(node.op, eval(node.a), eval(node.b))
        case .inList:
            let needle = eval(node.a)
            if case .error = needle { return needle }
            var found = false
            for k in Int(node.b)..<Int(node.b + node.c) {
                // A list literal with an error element is an error (list construction is
                // strict), so every element is evaluated.
                let element = eval(operands[k])
                if case .error = element { return element }
                if !found, case .bool(true) = equal(needle, element) { found = true }
            }
            return .bool(found)
        case .inValue:
            return contains(collection: eval(node.b), eval(node.a))
        case .fieldEqualString, .fieldNotEqualString, .variableEqualString, .variableNotEqualString:
            let isEqual = node.op == .fieldEqualString || node.op == .variableEqualString
            if node.a == typeField {
                // The type as the scan numbered it: a plain string, compared from its table.
                return .bool(Program.textEquals(typeText, programBytes, node) == isEqual)
            }
            let scanned = fields[Int(node.a)]
            if scanned.kind == .string {
                let literal = UnsafeRawBufferPointer(rebasing: programBytes[Int(node.b)..<Int(node.b + node.c)])
                let same = lineEquals(scanned, literal)
                return .bool(same == isEqual)
            }
            // Not a string: the general rules (absent → error, other kinds → false or error).
            let value: Value
            if node.op == .fieldEqualString || node.op == .fieldNotEqualString {
                value = scanned.kind == .absent ? .error(.noSuchKey(Int(node.a))) : jsonValue(scanned, .line)
            } else {
                value = loadString(field: node.a)
            }
            let literal = Value.string(StringSpan(origin: .program, escaped: false, start: node.b, count: node.c))
            let result = equal(value, literal)
            return isEqual ? result : negated(result)
        case .makeList:
            let mark = scratch.stack.count
            for k in Int(node.b)..<Int(node.b + node.c) {
                let element = eval(operands[k])
                if case .error = element {
                    scratch.stack.removeSubrange(mark...)
                    return element
                }
                scratch.stack.append(element)
            }
            return .list(commit(from: mark, count: node.c))
        case .makeMap:
            let mark = scratch.stack.count
            for k in 0..<Int(node.c) {
                let key = eval(operands[Int(node.b) + 2 * k])
                let value = key.isError ? key : eval(operands[Int(node.b) + 2 * k + 1])
                var failure: Value? = key.isError ? key : (value.isError ? value : nil)
                if failure == nil {
                    switch key {
                    case .string, .int, .uint, .bool: break
                    default: failure = .error(.unsupportedType)
                    }
                }
                if failure == nil {
                    var j = mark
                    while j < scratch.stack.count {
                        if case .bool(true) = equal(scratch.stack[j], key) { failure = .error(.repeatedKey) }
                        j += 2
                    }
                }
                if let failure {
                    scratch.stack.removeSubrange(mark...)
                    return failure
                }
                scratch.stack.append(key)
                scratch.stack.append(value)
            }
            return .map(commit(from: mark, count: node.c))
        case .call:
            return call(BuiltinFunction(rawValue: node.a)!, node.b, node.c)
        case .accessorInZone:
            let value = eval(operands[Int(node.b)])
            return timeAccessor(BuiltinFunction(rawValue: node.a)!, value, zones[Int(operands[Int(node.b) + 1])])
        case .matchesLiteral:
            let subject = eval(operands[Int(node.b)])
            guard case .string(let span) = subject else {
                return subject.isError ? subject : .error(.noSuchOverload)
            }
            let text = withDecoded(span) { String(decoding: $0, as: UTF8.self) }
            return .bool(regexes[Int(node.a)].matches(text))
        case .macro:
            return macro(node.b)
        }
    }

    /// Moves the values collected on the scratch stack since `mark` to `scratch.values`; a
    /// reference to them (`count` list elements or map entries).
    func commit(from mark: Int, count: Int32) -> ValueRef {
        let start = scratch.values.count
        var j = mark
        while j < scratch.stack.count {
            scratch.values.append(scratch.stack[j])
            j += 1
        }
        scratch.stack.removeSubrange(mark...)
        return ValueRef(origin: .scratch, start: Int32(start), count: count)
    }

    // MARK: Loading JSON values

    /// The CEL value of a JSON value in the line or the variables' text (CEL's JSON mapping):
    /// strings are spans, numbers are doubles, objects are maps and arrays lists (in place).
    @inline(__always)
    func jsonValue(_ scanned: ScannedValue, _ origin: StringSpan.Origin) -> Value {
        switch scanned.kind {
        case .absent: return .error(.unsupportedType)
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .string:
            return .string(StringSpan(origin: origin, escaped: scanned.hasEscapes,
                                      start: scanned.start, count: scanned.end &- scanned.start))
        case .number:
            let text = origin == .line ? line : variableText
            return .double(JSONNumber.parseDouble(
                UnsafeRawBufferPointer(rebasing: text[Int(scanned.start)..<Int(scanned.end)])))
        case .object:
            return .map(ValueRef(origin: origin == .line ? .line : .variables,
                                 start: scanned.start, count: scanned.end &- scanned.start))
        case .array:
            return .list(ValueRef(origin: origin == .line ? .line : .variables,
                                  start: scanned.start, count: scanned.end &- scanned.start))
        }
    }

    @inline(__always)
    func loadString(field: Int32) -> Value {
        let scanned = fields[Int(field)]
        switch scanned.kind {
        case .string:
            return .string(StringSpan(origin: .line, escaped: scanned.hasEscapes,
                                      start: scanned.start, count: scanned.end &- scanned.start))
        case .number where scanned.isInteger:
            // An integer customer key is its text, as in the records (`12345` → "12345").
            return .string(StringSpan(origin: .line, escaped: false,
                                      start: scanned.start, count: scanned.end &- scanned.start))
        case .absent: return .error(.noSuchKey(Int(field)))
        default: return .error(.notAString(Int(field)))
        }
    }

    /// The JSON text a reference or span of origin line/variables points into.
    @inline(__always)
    func jsonText(_ origin: ValueRef.Origin) -> UnsafeRawBufferPointer {
        origin == .line ? line : variableText
    }

    // MARK: Strings

    /// Calls `body` with the bytes of a span as stored (JSON text, still escaped, for
    /// escaped line strings).
    @inline(__always)
    func withRaw<R>(_ s: StringSpan, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let range = Int(s.start)..<Int(s.start + s.count)
        switch s.origin {
        case .line: return body(UnsafeRawBufferPointer(rebasing: line[range]))
        case .program: return body(UnsafeRawBufferPointer(rebasing: programBytes[range]))
        case .variables: return body(UnsafeRawBufferPointer(rebasing: variableText[range]))
        case .scratch: return scratch.bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[range])) }
        }
    }

    /// Calls `body` with the decoded bytes of a span (unescaped into temporary space if needed).
    func withDecoded<R>(_ s: StringSpan, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard s.escaped else { return withRaw(s, body) }
        return withRaw(s) { raw in
            withUnsafeTemporaryAllocation(byteCount: Swift.max(raw.count, 1), alignment: 1) { out in
                let n = JSONString.unescape(raw, into: out) ?? 0
                return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<n]))
            }
        }
    }

    /// Appends the decoded bytes of `s` to the scratch bytes.
    func appendToScratch(_ s: StringSpan) {
        if s.origin == .scratch {
            // Copy within the same array by index: holding its buffer while appending is not
            // allowed, and appending a slice of itself would copy the whole array.
            for k in Int(s.start)..<Int(s.start + s.count) { scratch.bytes.append(scratch.bytes[k]) }
            return
        }
        withDecoded(s) { scratch.bytes.append(contentsOf: $0) }
    }

    /// A span of the bytes appended to the scratch since `start`.
    func scratchSpan(from start: Int) -> StringSpan {
        StringSpan(origin: .scratch, escaped: false, start: Int32(start), count: Int32(scratch.bytes.count - start))
    }

    /// Appends ASCII/UTF-8 text to the scratch; the span of it.
    func scratchString(_ text: String) -> StringSpan {
        let start = scratch.bytes.count
        scratch.bytes.append(contentsOf: text.utf8)
        return scratchSpan(from: start)
    }

    /// Compares two strings by bytes (UTF-8 byte order is code point order); returns -1, 0, 1.
    func stringCompare(_ l: StringSpan, _ r: StringSpan, equalityOnly: Bool) -> Int {
        withRaw(l) { lb in
            withRaw(r) { rb in
                switch (l.escaped, r.escaped) {
                case (false, false):
                    if equalityOnly { return lb.count == rb.count && memcmpEqual(lb, rb) ? 0 : 1 }
                    return rawCompare(lb, rb)
                case (true, false):
                    if equalityOnly { return JSONString.decodedEquals(lb, hasEscapes: true, rb) ? 0 : 1 }
                    return JSONString.decodedCompare(lb, hasEscapes: true, rb)
                case (false, true):
                    if equalityOnly { return JSONString.decodedEquals(rb, hasEscapes: true, lb) ? 0 : 1 }
                    return -JSONString.decodedCompare(rb, hasEscapes: true, lb)
                case (true, true):
                    // Decode one side into scratch space (the decoded text is never longer).
                    return withUnsafeTemporaryAllocation(byteCount: Swift.max(rb.count, 1), alignment: 1) { tmp in
                        guard let n = JSONString.unescape(rb, into: tmp) else { return 1 }
                        let decoded = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(tmp)[0..<n])
                        if equalityOnly { return JSONString.decodedEquals(lb, hasEscapes: true, decoded) ? 0 : 1 }
                        return JSONString.decodedCompare(lb, hasEscapes: true, decoded)
                    }
                }
            }
        }
    }

    /// A line string (scanned) against decoded literal bytes.
    @inline(__always)
    func lineEquals(_ scanned: ScannedValue, _ literal: UnsafeRawBufferPointer) -> Bool {
        let text = UnsafeRawBufferPointer(rebasing: line[Int(scanned.start)..<Int(scanned.end)])
        if !scanned.hasEscapes {
            return text.count == literal.count && memcmpEqual(text, literal)
        }
        return JSONString.decodedEquals(text, hasEscapes: true, literal)
    }

    // MARK: Logic

    /// `&&` (`absorbing == false`) and `||` (`true`), commutative with error absorption:
    /// the absorbing value on either side wins over an error on the other.
    @inline(__always)
    func logical(_ node: ProgramInstruction, absorbing: Bool) -> Value {
        let lhs = eval(node.a)
        if case .bool(let l) = lhs {
            if l == absorbing { return lhs }
            let rhs = eval(node.b)
            switch rhs {
            case .bool, .error: return rhs
            default: return .error(.noSuchOverload)
            }
        }
        // The left side is an error or not a bool: the right side can still decide.
        let rhs = eval(node.b)
        if case .bool(let r) = rhs, r == absorbing { return rhs }
        if case .error = lhs { return lhs }
        if case .error = rhs { return rhs }
        return .error(.noSuchOverload)
    }

    @inline(__always)
    func negated(_ value: Value) -> Value {
        if case .bool(let b) = value { return .bool(!b) }
        return value
    }

    // MARK: Comparison

    /// CEL equality: values of different types are unequal (numbers compare by value across
    /// int, uint and double); lists and maps compare element by element; errors propagate.
    func equal(_ lhs: Value, _ rhs: Value) -> Value {
        switch (lhs, rhs) {
        case (.error, _): return lhs
        case (_, .error): return rhs
        case let (.string(l), .string(r)): return .bool(stringCompare(l, r, equalityOnly: true) == 0)
        case let (.bytes(l), .bytes(r)): return .bool(stringCompare(l, r, equalityOnly: true) == 0)
        case let (.bool(l), .bool(r)): return .bool(l == r)
        case (.null, .null): return .bool(true)
        case let (.timestamp(l), .timestamp(r)): return .bool(l == r)
        case let (.duration(l), .duration(r)): return .bool(l == r)
        case let (.type(l), .type(r)): return .bool(l == r)
        case let (.list(l), .list(r)): return listEqual(l, r)
        case let (.map(l), .map(r)): return mapEqual(l, r)
        default:
            if let order = numericOrder(lhs, rhs) { return .bool(order == .equal) }
            return .bool(false)
        }
    }

    func relation(_ op: ProgramOpcode, _ lhs: Value, _ rhs: Value) -> Value {
        let order: Ordering
        switch (lhs, rhs) {
        case (.error, _): return lhs
        case (_, .error): return rhs
        case let (.string(l), .string(r)):
            let c = stringCompare(l, r, equalityOnly: false)
            order = c < 0 ? .less : (c > 0 ? .greater : .equal)
        case let (.bytes(l), .bytes(r)):
            let c = stringCompare(l, r, equalityOnly: false)
            order = c < 0 ? .less : (c > 0 ? .greater : .equal)
        case let (.bool(l), .bool(r)):
            order = l == r ? .equal : (!l ? .less : .greater)
        case let (.timestamp(l), .timestamp(r)):
            order = l < r ? .less : (l > r ? .greater : .equal)
        case let (.duration(l), .duration(r)):
            order = l < r ? .less : (l > r ? .greater : .equal)
        default:
            guard let numeric = numericOrder(lhs, rhs) else { return .error(.noSuchOverload) }
            order = numeric
        }
        switch (op, order) {
        case (_, .unordered): return .bool(false)
        case (.less, _): return .bool(order == .less)
        case (.lessEqual, _): return .bool(order != .greater)
        case (.greater, _): return .bool(order == .greater)
        default: return .bool(order != .less)
        }
    }

    /// Exact order of two numbers of any of CEL's numeric types; nil if either is not a number.
    @inline(__always)
    func numericOrder(_ lhs: Value, _ rhs: Value) -> Ordering? {
        switch (lhs, rhs) {
        case let (.double(l), .double(r)):
            return l < r ? .less : (l > r ? .greater : (l == r ? .equal : .unordered))
        case let (.int(l), .int(r)): return l < r ? .less : (l > r ? .greater : .equal)
        case let (.uint(l), .uint(r)): return l < r ? .less : (l > r ? .greater : .equal)
        case let (.int(l), .uint(r)): return compareIntUInt(l, r)
        case let (.uint(l), .int(r)): return flip(compareIntUInt(r, l))
        case let (.int(l), .double(r)): return compareIntDouble(l, r)
        case let (.double(l), .int(r)): return flip(compareIntDouble(r, l))
        case let (.uint(l), .double(r)): return compareUIntDouble(l, r)
        case let (.double(l), .uint(r)): return flip(compareUIntDouble(r, l))
        default: return nil
        }
    }

    // MARK: Arithmetic

    /// CEL arithmetic: same-type overloads only; int and uint overflow and division by zero
    /// are errors; doubles follow IEEE 754; `+` concatenates strings, bytes and lists; time
    /// arithmetic stays in the Int64-nanosecond range.
    func arithmetic(_ op: ProgramOpcode, _ lhs: Value, _ rhs: Value) -> Value {
        switch (lhs, rhs) {
        case (.error, _): return lhs
        case (_, .error): return rhs
        case let (.int(l), .int(r)):
            let result: (partialValue: Int64, overflow: Bool)
            switch op {
            case .add: result = l.addingReportingOverflow(r)
            case .subtract: result = l.subtractingReportingOverflow(r)
            case .multiply: result = l.multipliedReportingOverflow(by: r)
            case .divide:
                if r == 0 { return .error(.divisionByZero) }
                result = l.dividedReportingOverflow(by: r)
            default:
                if r == 0 { return .error(.divisionByZero) }
                result = l.remainderReportingOverflow(dividingBy: r)
            }
            return result.overflow ? .error(.integerOverflow) : .int(result.partialValue)
        case let (.uint(l), .uint(r)):
            let result: (partialValue: UInt64, overflow: Bool)
            switch op {
            case .add: result = l.addingReportingOverflow(r)
            case .subtract: result = l.subtractingReportingOverflow(r)
            case .multiply: result = l.multipliedReportingOverflow(by: r)
            case .divide:
                if r == 0 { return .error(.divisionByZero) }
                result = (l / r, false)
            default:
                if r == 0 { return .error(.divisionByZero) }
                result = (l % r, false)
            }
            return result.overflow ? .error(.unsignedOverflow) : .uint(result.partialValue)
        case let (.double(l), .double(r)):
            switch op {
            case .add: return .double(l + r)
            case .subtract: return .double(l - r)
            case .multiply: return .double(l * r)
            case .divide: return .double(l / r)
            default: return .error(.noSuchOverload)
            }
        case let (.string(l), .string(r)):
            guard op == .add else { return .error(.noSuchOverload) }
            let start = scratch.bytes.count
            appendToScratch(l)
            appendToScratch(r)
            return .string(scratchSpan(from: start))
        case let (.bytes(l), .bytes(r)):
            guard op == .add else { return .error(.noSuchOverload) }
            let start = scratch.bytes.count
            appendToScratch(l)
            appendToScratch(r)
            return .bytes(scratchSpan(from: start))
        case let (.list(l), .list(r)):
            guard op == .add else { return .error(.noSuchOverload) }
            let mark = scratch.stack.count
            var count: Int32 = 0
            for side in 0..<2 {
                var cursor = Cursor(side == 0 ? l : r)
                while let element = nextElement(&cursor) {
                    scratch.stack.append(element)
                    count += 1
                }
            }
            return .list(commit(from: mark, count: count))
        case let (.timestamp(t), .duration(d)), let (.duration(d), .timestamp(t)):
            if op == .add {
                let (sum, overflow) = t.addingReportingOverflow(d)
                return overflow ? .error(.timestampOverflow) : .timestamp(sum)
            }
            guard op == .subtract, case .timestamp = lhs else { return .error(.noSuchOverload) }
            let (difference, overflow) = t.subtractingReportingOverflow(d)
            return overflow ? .error(.timestampOverflow) : .timestamp(difference)
        case let (.timestamp(l), .timestamp(r)):
            guard op == .subtract else { return .error(.noSuchOverload) }
            let (difference, overflow) = l.subtractingReportingOverflow(r)
            return overflow ? .error(.durationOverflow) : .duration(difference)
        case let (.duration(l), .duration(r)):
            let result: (partialValue: Int64, overflow: Bool)
            switch op {
            case .add: result = l.addingReportingOverflow(r)
            case .subtract: result = l.subtractingReportingOverflow(r)
            default: return .error(.noSuchOverload)
            }
            return result.overflow ? .error(.durationOverflow) : .duration(result.partialValue)
        default:
            return .error(.noSuchOverload)
        }
    }
}

// MARK: Exact numeric comparison

@inline(__always) func flip(_ order: Ordering) -> Ordering {
    switch order {
    case .less: .greater
    case .greater: .less
    default: order
    }
}

@inline(__always) func compareIntUInt(_ l: Int64, _ r: UInt64) -> Ordering {
    if l < 0 { return .less }
    let lu = UInt64(l)
    return lu < r ? .less : (lu > r ? .greater : .equal)
}

/// `l` against `r` by mathematical value, without rounding `l` to a double.
@inline(__always) func compareIntDouble(_ l: Int64, _ r: Double) -> Ordering {
    if r.isNaN { return .unordered }
    if r >= 9_223_372_036_854_775_808.0 { return .less }      // 2^63: above every Int64
    if r < -9_223_372_036_854_775_808.0 { return .greater }   // below -2^63
    // r is in [-2^63, 2^63): its integral part is an exact Int64.
    let whole = r.rounded(.towardZero)
    let t = Int64(whole)
    if l < t { return .less }
    if l > t { return .greater }
    let fraction = r - whole
    return fraction > 0 ? .less : (fraction < 0 ? .greater : .equal)
}

@inline(__always) func compareUIntDouble(_ l: UInt64, _ r: Double) -> Ordering {
    if r.isNaN { return .unordered }
    if r >= 18_446_744_073_709_551_616.0 { return .less }     // 2^64
    if r < 0 { return .greater }
    let whole = r.rounded(.towardZero)
    let t = UInt64(whole)
    if l < t { return .less }
    if l > t { return .greater }
    return r > whole ? .less : .equal
}

@inline(__always) func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    if a.isEmpty { return true }
    return bytesEqual(a.baseAddress!, b.baseAddress!, count: a.count)
}

@inline(__always) func rawCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = Swift.min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c < 0 ? -1 : 1 }
    }
    return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
}
