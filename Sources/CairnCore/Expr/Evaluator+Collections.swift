/// Lists and maps: iteration, lookup, indexing, membership, equality and the macros.
///
/// JSON lists and maps (origin `.line` / `.variables`) are walked in place with
/// `JSONSkipper`; runtime and constant ones are arrays of values.
extension Evaluator {
    /// A position in a list or map: a byte offset for JSON text, an element index otherwise.
    struct Cursor {
        let ref: ValueRef
        var position: Int

        @inline(__always)
        init(_ ref: ValueRef) {
            self.ref = ref
            self.position = ref.isJSON ? Int(ref.start) + 1 : 0
        }
    }

    /// The `i`th stored value of an array-backed list or map.
    @inline(__always)
    func stored(_ ref: ValueRef, _ i: Int) -> Value {
        ref.origin == .program ? constants[Int(ref.start) + i] : scratch.values[Int(ref.start) + i]
    }

    /// The next element of a list; nil at the end.
    func nextElement(_ cursor: inout Cursor) -> Value? {
        let ref = cursor.ref
        if ref.isJSON {
            let text = jsonText(ref.origin)
            guard let scanned = JSONSkipper.nextElement(text, &cursor.position) else { return nil }
            return jsonValue(scanned, ref.origin == .line ? .line : .variables)
        }
        guard cursor.position < Int(ref.count) else { return nil }
        defer { cursor.position += 1 }
        return stored(ref, cursor.position)
    }

    /// The next entry of a map; nil at the end.
    func nextEntry(_ cursor: inout Cursor) -> (key: Value, value: Value)? {
        let ref = cursor.ref
        if ref.isJSON {
            let text = jsonText(ref.origin)
            guard let (key, value) = JSONSkipper.nextMember(text, &cursor.position) else { return nil }
            let origin: StringSpan.Origin = ref.origin == .line ? .line : .variables
            return (jsonValue(key, origin), jsonValue(value, origin))
        }
        guard cursor.position < Int(ref.count) else { return nil }
        defer { cursor.position += 1 }
        return (stored(ref, 2 * cursor.position), stored(ref, 2 * cursor.position + 1))
    }

    /// The elements of a list or the keys of a map, in order (what macros iterate).
    @inline(__always)
    func nextItem(_ cursor: inout Cursor, isMap: Bool) -> Value? {
        isMap ? nextEntry(&cursor)?.key : nextElement(&cursor)
    }

    /// Number of elements or entries.
    func size(_ ref: ValueRef, isMap: Bool) -> Int64 {
        guard ref.isJSON else { return Int64(ref.count) }
        var cursor = Cursor(ref)
        var n: Int64 = 0
        while nextItem(&cursor, isMap: isMap) != nil { n += 1 }
        return n
    }

    /// The value of `key` in `map`; nil when absent. Keys compare with CEL equality, so
    /// `1`, `1u` and `1.0` find the same entry.
    func lookup(_ map: ValueRef, _ key: Value) -> Value? {
        var cursor = Cursor(map)
        if map.isJSON {
            guard case .string = key else { return nil }
        }
        while let entry = nextEntry(&cursor) {
            if case .bool(true) = equal(entry.key, key) { return entry.value }
        }
        return nil
    }

    /// `base[key]`: list index (int, uint, or a double with an integral value) or map key.
    func index(_ base: Value, _ key: Value) -> Value {
        if case .error = base { return base }
        if case .error = key { return key }
        switch base {
        case .list(let list):
            let i: Int64
            switch key {
            case .int(let v): i = v
            case .uint(let v): i = v > UInt64(Int64.max) ? -1 : Int64(v)
            case .double(let d):
                guard d == d.rounded(.towardZero), abs(d) < 9.2e18 else { return .error(.noSuchOverload) }
                i = Int64(d)
            default: return .error(.noSuchOverload)
            }
            guard i >= 0 else { return .error(.indexOutOfRange) }
            if !list.isJSON {
                return i < Int64(list.count) ? stored(list, Int(i)) : .error(.indexOutOfRange)
            }
            var cursor = Cursor(list)
            var k: Int64 = 0
            while let element = nextElement(&cursor) {
                if k == i { return element }
                k += 1
            }
            return .error(.indexOutOfRange)
        case .map(let map):
            switch key {
            case .string, .int, .uint, .bool, .double: break
            default: return .error(.noSuchOverload)
            }
            return lookup(map, key) ?? .error(.noSuchMapKey)
        default:
            return .error(.noSuchOverload)
        }
    }

    /// `needle in collection`: an element equal to it (lists) or a key (maps).
    func contains(collection: Value, _ needle: Value) -> Value {
        if case .error = needle { return needle }
        switch collection {
        case .list(let list):
            var cursor = Cursor(list)
            while let element = nextElement(&cursor) {
                if case .bool(true) = equal(needle, element) { return .bool(true) }
            }
            return .bool(false)
        case .map(let map):
            return .bool(lookup(map, needle) != nil)
        case .error:
            return collection
        default:
            return .error(.noSuchOverload)
        }
    }

    func listEqual(_ l: ValueRef, _ r: ValueRef) -> Value {
        var lc = Cursor(l), rc = Cursor(r)
        var result = Value.bool(true)
        while true {
            let a = nextElement(&lc), b = nextElement(&rc)
            guard let a, let b else { return a == nil && b == nil ? result : .bool(false) }
            switch equal(a, b) {
            case .bool(true): break
            case .error(let e): result = .error(e)
            default: return .bool(false)
            }
        }
    }

    func mapEqual(_ l: ValueRef, _ r: ValueRef) -> Value {
        guard size(l, isMap: true) == size(r, isMap: true) else { return .bool(false) }
        var cursor = Cursor(l)
        var result = Value.bool(true)
        while let entry = nextEntry(&cursor) {
            guard let other = lookup(r, entry.key) else { return .bool(false) }
            switch equal(entry.value, other) {
            case .bool(true): break
            case .error(let e): result = .error(e)
            default: return .bool(false)
            }
        }
        return result
    }

    // MARK: Macros

    /// `all`, `exists`, `exists_one`, `map` and `filter` over a list's elements or a map's
    /// keys, with CEL's error rules: `all` is false if any predicate is false, even when
    /// others are errors; `exists` is true if any is true; otherwise an error wins.
    func macro(_ descriptor: Int32) -> Value {
        let d = Int(descriptor)
        let kind = MacroKind(rawValue: operands[d])!
        let range = eval(operands[d + 1])
        let slot = Int(operands[d + 2])
        let first = operands[d + 3], second = operands[d + 4]
        let ref: ValueRef, isMap: Bool
        switch range {
        case .list(let list): (ref, isMap) = (list, false)
        case .map(let map): (ref, isMap) = (map, true)
        case .error: return range
        default: return .error(.noSuchOverload)
        }
        var cursor = Cursor(ref)
        switch kind {
        case .all, .exists:
            let decisive = kind == .exists
            var failure: Value? = nil
            while let item = nextItem(&cursor, isMap: isMap) {
                (locals + slot).initialize(to: item)
                switch eval(first) {
                case .bool(let b): if b == decisive { return .bool(decisive) }
                case .error(let e): if failure == nil { failure = .error(e) }
                default: if failure == nil { failure = .error(.noSuchOverload) }
                }
            }
            return failure ?? .bool(!decisive)
        case .existsOne:
            var count = 0
            while let item = nextItem(&cursor, isMap: isMap) {
                (locals + slot).initialize(to: item)
                switch eval(first) {
                case .bool(let b): if b { count += 1 }
                case .error(let e): return .error(e)
                default: return .error(.noSuchOverload)
                }
            }
            return .bool(count == 1)
        case .map, .mapFiltered, .filter:
            let mark = scratch.stack.count
            var count: Int32 = 0
            while let item = nextItem(&cursor, isMap: isMap) {
                (locals + slot).initialize(to: item)
                if kind != .map {
                    switch eval(first) {
                    case .bool(true): break
                    case .bool(false): continue
                    case .error(let e):
                        scratch.stack.removeSubrange(mark...)
                        return .error(e)
                    default:
                        scratch.stack.removeSubrange(mark...)
                        return .error(.noSuchOverload)
                    }
                }
                let element = kind == .filter ? item : eval(kind == .map ? first : second)
                if case .error = element {
                    scratch.stack.removeSubrange(mark...)
                    return element
                }
                scratch.stack.append(element)
                count += 1
            }
            return .list(commit(from: mark, count: count))
        }
    }
}
