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
    /// escapes decoded on the fly.
    ///
    /// - Complexity: O(number of nodes evaluated); no allocation.
    public func evaluate(_ activation: Activation) -> Value {
        nodes.withUnsafeBufferPointer { nodes in
            constants.withUnsafeBufferPointer { constants in
                operands.withUnsafeBufferPointer { operands in
                    bytes.withUnsafeBytes { bytes in
                        // SAFETY: the arrays are never empty (the compiler appends sentinels),
                        // so the base addresses exist; they outlive this call.
                        let evaluator = Evaluator(
                            nodes: nodes.baseAddress!, constants: constants.baseAddress!,
                            operands: operands.baseAddress!, programBytes: bytes,
                            line: activation.line, fields: activation.fields)
                        return evaluator.eval(root)
                    }
                }
            }
        }
    }
}

/// Outcome of comparing two values that have an order.
private enum Ordering {
    case less, equal, greater, unordered
}

/// The evaluation state: raw pointers into the program and the activation, valid for one
/// `evaluate` call.
private struct Evaluator {
    let nodes: UnsafePointer<ProgramInstruction>
    let constants: UnsafePointer<Value>
    let operands: UnsafePointer<Int32>
    let programBytes: UnsafeRawBufferPointer
    let line: UnsafeRawBufferPointer
    let fields: UnsafePointer<ScannedValue>

    func eval(_ index: Int32) -> Value {
        let node = nodes[Int(index)]
        switch node.op {
        case .constant:
            return constants[Int(node.a)]
        case .field:
            return load(field: node.a)
        case .stringVariable:
            return loadString(field: node.a)
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
        case .fieldEqualString, .fieldNotEqualString, .variableEqualString, .variableNotEqualString:
            let scanned = fields[Int(node.a)]
            let isEqual = node.op == .fieldEqualString || node.op == .variableEqualString
            if scanned.kind == .string {
                let literal = UnsafeRawBufferPointer(rebasing: programBytes[Int(node.b)..<Int(node.b + node.c)])
                let same = lineEquals(scanned, literal)
                return .bool(same == isEqual)
            }
            // Not a string: the general rules (absent → error, other kinds → false or error).
            let value = node.op == .fieldEqualString || node.op == .fieldNotEqualString
                ? load(field: node.a) : loadString(field: node.a)
            let literal = Value.string(StringSpan(origin: .program, escaped: false, start: node.b, count: node.c))
            let result = equal(value, literal)
            return isEqual ? result : negated(result)
        }
    }

    // MARK: Loading event values

    /// The CEL value of a JSON value: strings are spans, numbers are doubles (CEL's JSON
    /// mapping), objects and arrays are not values yet.
    @inline(__always)
    func load(field: Int32) -> Value {
        let scanned = fields[Int(field)]
        switch scanned.kind {
        case .absent: return .error(.noSuchKey(Int(field)))
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .string:
            return .string(StringSpan(origin: .line, escaped: scanned.hasEscapes,
                                      start: scanned.start, count: scanned.end &- scanned.start))
        case .number:
            return .double(JSONNumber.parseDouble(span(of: scanned)))
        case .object, .array:
            return .error(.unsupportedType)
        }
    }

    @inline(__always)
    func loadString(field: Int32) -> Value {
        let scanned = fields[Int(field)]
        switch scanned.kind {
        case .string:
            return .string(StringSpan(origin: .line, escaped: scanned.hasEscapes,
                                      start: scanned.start, count: scanned.end &- scanned.start))
        case .absent: return .error(.noSuchKey(Int(field)))
        default: return .error(.notAString(Int(field)))
        }
    }

    @inline(__always)
    func span(of scanned: ScannedValue) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: line[Int(scanned.start)..<Int(scanned.end)])
    }

    @inline(__always)
    func bytes(of s: StringSpan) -> UnsafeRawBufferPointer {
        let base = s.origin == .line ? line : programBytes
        return UnsafeRawBufferPointer(rebasing: base[Int(s.start)..<Int(s.start + s.count)])
    }

    // MARK: Logic

    /// `&&` (`absorbing == false`) and `||` (`true`), commutative with error absorption:
    /// the absorbing value on either side wins over an error on the other.
    @inline(__always)
    func logical(_ node: ProgramInstruction, absorbing: Bool) -> Value {
        let lhs = eval(node.a)
        if case .bool(let l) = lhs, l == absorbing { return lhs }
        let rhs = eval(node.b)
        if case .bool(let r) = rhs {
            if r == absorbing { return rhs }
            if case .bool = lhs { return rhs }
        }
        if case .error = lhs { return lhs }
        if case .error = rhs { return rhs }
        return .error(.noSuchOverload)
    }

    @inline(__always)
    func negated(_ value: Value) -> Value {
        if case .bool(let b) = value { return .bool(!b) }
        return value
    }

    // MARK: Equality and ordering

    /// CEL `==`: errors propagate; numbers compare by value across int, uint and double;
    /// values of different types are unequal (not an error).
    func equal(_ lhs: Value, _ rhs: Value) -> Value {
        switch (lhs, rhs) {
        case (.error, _): return lhs
        case (_, .error): return rhs
        case let (.string(l), .string(r)): return .bool(stringCompare(l, r, equalityOnly: true) == 0)
        case let (.bool(l), .bool(r)): return .bool(l == r)
        case (.null, .null): return .bool(true)
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
        case let (.bool(l), .bool(r)):
            order = l == r ? .equal : (!l ? .less : .greater)
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

    /// Compares two strings by bytes (UTF-8 byte order is code point order); returns -1, 0, 1.
    func stringCompare(_ l: StringSpan, _ r: StringSpan, equalityOnly: Bool) -> Int {
        let lb = bytes(of: l), rb = bytes(of: r)
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
            return withUnsafeTemporaryAllocation(byteCount: Swift.max(rb.count, 1), alignment: 1) { scratch in
                guard let n = JSONString.unescape(rb, into: scratch) else { return 1 }
                let decoded = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<n])
                if equalityOnly { return JSONString.decodedEquals(lb, hasEscapes: true, decoded) ? 0 : 1 }
                return JSONString.decodedCompare(lb, hasEscapes: true, decoded)
            }
        }
    }

    /// A line string (scanned) against decoded literal bytes.
    @inline(__always)
    func lineEquals(_ scanned: ScannedValue, _ literal: UnsafeRawBufferPointer) -> Bool {
        let text = span(of: scanned)
        if !scanned.hasEscapes {
            return text.count == literal.count && memcmpEqual(text, literal)
        }
        return JSONString.decodedEquals(text, hasEscapes: true, literal)
    }

    // MARK: Arithmetic

    /// CEL arithmetic: same-type overloads only; int and uint overflow and division by zero
    /// are errors; doubles follow IEEE 754.
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
        case (.string, .string):
            return op == .add ? .error(.stringConcatenation) : .error(.noSuchOverload)
        default:
            return .error(.noSuchOverload)
        }
    }
}

// MARK: Exact numeric comparison

@inline(__always) private func flip(_ order: Ordering) -> Ordering {
    switch order {
    case .less: .greater
    case .greater: .less
    default: order
    }
}

@inline(__always) private func compareIntUInt(_ l: Int64, _ r: UInt64) -> Ordering {
    if l < 0 { return .less }
    let lu = UInt64(l)
    return lu < r ? .less : (lu > r ? .greater : .equal)
}

/// `l` against `r` by mathematical value, without rounding `l` to a double.
@inline(__always) private func compareIntDouble(_ l: Int64, _ r: Double) -> Ordering {
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

@inline(__always) private func compareUIntDouble(_ l: UInt64, _ r: Double) -> Ordering {
    if r.isNaN { return .unordered }
    if r >= 18_446_744_073_709_551_616.0 { return .less }     // 2^64
    if r < 0 { return .greater }
    let whole = r.rounded(.towardZero)
    let t = UInt64(whole)
    if l < t { return .less }
    if l > t { return .greater }
    return r > whole ? .less : .equal
}

@inline(__always) private func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    if a.isEmpty { return true }
    return memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
}

@inline(__always) private func rawCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = Swift.min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return c < 0 ? -1 : 1 }
    }
    return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
}
