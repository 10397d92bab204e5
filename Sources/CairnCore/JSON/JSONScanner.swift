/// Limits that bound the work and memory of scanning one line.
public struct JSONLimits: Sendable {
    /// Deepest allowed nesting of objects and arrays; deeper lines fail with `tooDeep`.
    public var maxDepth: Int = 128

    public init(maxDepth: Int = 128) {
        self.maxDepth = max(0, maxDepth)
    }
}

/// Validates one NDJSON line and extracts the interned field paths, in a single pass.
///
/// This is the engine's hot path. The scanner checks the line against RFC 8259 strictly
/// (grammar, string escapes, UTF-8, number syntax, nesting depth) and, on the way, records
/// where each interned path's value lies as a `ScannedValue`. Nothing is decoded or copied.
///
/// Behaviour the documentation states:
/// - Escaped UTF-16 surrogates must come as a high surrogate followed by a low one; a lone
///   surrogate (`"\uD800"`, `"\uDC00"`, `"\uD800x"`) is an error (`loneSurrogate`), so every
///   accepted string decodes to valid UTF-8.
/// - Duplicate keys: the last one wins, wholesale. When a key on an interned path repeats,
///   the paths below it are reset, so `{"p":{"a":1},"p":{}}` leaves `p.a` absent, as
///   `JSON.parse` would.
/// - Keys are compared as UTF-8 bytes after decoding escapes (`"pr\u0069ce"` is `price`);
///   no Unicode normalization.
/// - A byte order mark is not whitespace: a line starting with EF BB BF is invalid.
/// - On `.invalid` the values table holds whatever was extracted before the error; callers
///   must not use it.
public struct JSONScanner: Sendable {
    /// The paths this scanner extracts; `values[i]` receives path `i`.
    public let paths: FieldPaths
    /// The limits every scan enforces.
    public let limits: JSONLimits
    let trie: FieldTrie

    /// Compiles `paths` into a trie; call once per pipeline, not per line.
    public init(paths: FieldPaths, limits: JSONLimits = JSONLimits()) {
        self.paths = paths
        self.limits = limits
        self.trie = FieldTrie(paths)
    }

    /// Number of entries `scan` writes, equal to `paths.count`.
    public var fieldCount: Int { paths.count }

    /// Validates the whole line and fills `values[0..<fieldCount]` with what each path found.
    ///
    /// The line must be exactly one JSON value with optional whitespace (space, tab, LF,
    /// CR) around it. Every entry is first reset to `.absent`; each path present in the line
    /// then receives its value's kind, flags and span. Spans are offsets into `line`.
    ///
    /// - Parameters:
    ///   - line: the bytes of one line, without requiring a terminator; at most 2 GiB.
    ///   - values: room for `fieldCount` values.
    /// - Returns: `.event` for an object, `.notObject(kind)` for another valid value,
    ///   `.invalid(error)` otherwise (then `values` is unspecified).
    /// - Complexity: O(n) in the line's length, one pass; no allocation (for `maxDepth`
    ///   up to 8000 and paths up to 60 segments, beyond which scratch space may come
    ///   from the heap).
    ///
    /// # Safety
    /// `values` must point to at least `fieldCount` initialized `ScannedValue`s.
    public func scan(
        _ line: UnsafeRawBufferPointer, into values: UnsafeMutablePointer<ScannedValue>
    ) -> ScanOutcome {
        // Scratch, on the stack for ordinary limits: a bit per nesting level (object or
        // array) and one frame per open container that lies on an interned path.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Scratch.words(self)) { bits in
            withUnsafeTemporaryAllocation(of: Frame.self, capacity: Scratch.frames(self)) { frames in
                scan(line, into: values, scratch: Scratch(bits: bits.baseAddress!, frames: frames.baseAddress!))
            }
        }
    }

    /// Room for `scan(_:into:scratch:)`: what `scan(_:into:)` takes on the stack for each
    /// line, allocated once by a thread that scans many (one lane of `ScanCrew`).
    struct Scratch {
        let bits: UnsafeMutablePointer<UInt64>
        let frames: UnsafeMutablePointer<Frame>

        static func words(_ scanner: JSONScanner) -> Int { scanner.limits.maxDepth / 64 + 1 }
        static func frames(_ scanner: JSONScanner) -> Int { scanner.trie.height + 2 }

        init(bits: UnsafeMutablePointer<UInt64>, frames: UnsafeMutablePointer<Frame>) {
            self.bits = bits
            self.frames = frames
        }

        /// Allocated for `scanner`; `deallocate()` frees it.
        init(_ scanner: JSONScanner) {
            self.init(bits: .allocate(capacity: Self.words(scanner)), frames: .allocate(capacity: Self.frames(scanner)))
        }

        func deallocate() {
            bits.deallocate()
            frames.deallocate()
        }
    }

    /// `scan(_:into:)` with its scratch given: made for this scanner and used by one thread
    /// at a time. On the hot path, no per-line set-up of stack scratch (about 100
    /// instructions a line, and the closures around the state machine cost it registers).
    @inline(__always)
    func scan(
        _ line: UnsafeRawBufferPointer, into values: UnsafeMutablePointer<ScannedValue>, scratch: Scratch
    ) -> ScanOutcome {
        let fieldCount = paths.count
        var i = 0
        while i < fieldCount {
            values[i] = .absent
            i &+= 1
        }
        guard let raw = line.baseAddress, line.count > 0 else {
            return .invalid(ScanError(code: .emptyLine, offset: 0))
        }
        guard line.count <= Int(Int32.max) else {
            return .invalid(ScanError(code: .lineTooLong, offset: 0))
        }
        // SAFETY: the line is plain bytes; UInt8 is layout compatible with any byte memory
        // and the scanner only reads it.
        return Self.run(
            base: raw.assumingMemoryBound(to: UInt8.self), count: line.count, trie: trie, maxDepth: limits.maxDepth,
            bits: scratch.bits, frames: scratch.frames, values: values)
    }

    /// An open object or array that lies on an interned path.
    struct Frame {
        /// Offset of the opening bracket.
        var start: Int32
        /// Trie node whose edges this object's keys are matched against, or -1.
        var node: Int32
        /// Field to record the container in when it closes, or -1.
        var field: Int32
        /// Nesting depth of the container (1 for the top-level value).
        var depth: Int32
    }

    // ASCII bytes the state machine dispatches on.
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D

    /// The scanning state machine: parse a value, then consume what follows it.
    ///
    /// `valueNode`/`valueField` describe the value about to be parsed: the trie node its
    /// key reached (-1 when not on an interned path) and the field to record it in (-1).
    @inline(__always)
    static func run(
        base: UnsafePointer<UInt8>, count: Int, trie: FieldTrie, maxDepth: Int,
        bits: UnsafeMutablePointer<UInt64>, frames: UnsafeMutablePointer<Frame>,
        values: UnsafeMutablePointer<ScannedValue>
    ) -> ScanOutcome {
        let end = base + count
        let nodes = trie.nodes
        var p = base
        skipWhitespace(&p, end)
        if p == end { return .invalid(ScanError(code: .emptyLine, offset: 0)) }
        let rootByte = p.pointee

        var depth = 0
        var inArray = false
        var top = 0
        var currentNode: Int32 = -1
        var valueNode: Int32 = 0
        var valueField: Int32 = nodes[0].field

        @inline(__always) func fail(_ code: ScanError.Code, _ at: UnsafePointer<UInt8>) -> ScanOutcome {
            .invalid(ScanError(code: code, offset: at - base))
        }

        var expectKey = false
        value: while true {
            if expectKey {
                expectKey = false
                if let code = parseKey(
                    &p, end, trie: trie, node: currentNode, values: values,
                    valueNode: &valueNode, valueField: &valueField)
                {
                    return fail(code, p)
                }
            }
            skipWhitespace(&p, end)
            guard p < end else { return fail(.unexpectedEnd, p) }
            let start = p
            let c = p.pointee
            var closedContainer = false
            switch c {
            case quote:
                p += 1
                var escapes = false
                if let code = skipString(&p, end, &escapes) {
                    return fail(code, code == .unterminatedString ? start : p)
                }
                if valueField >= 0 {
                    values[Int(valueField)] = ScannedValue(
                        kind: .string, flags: escapes ? ScannedValue.flagEscapes : 0,
                        start: Int32(truncatingIfNeeded: start + 1 - base),
                        end: Int32(truncatingIfNeeded: p - base))
                }
                p += 1
            case openBrace, openBracket:
                guard depth < maxDepth else { return fail(.tooDeep, p) }
                let isArray = c == openBracket
                // Push the enclosing container's kind.
                let mask = UInt64(1) << UInt64(depth & 63)
                if inArray { bits[depth >> 6] |= mask } else { bits[depth >> 6] &= ~mask }
                depth &+= 1
                inArray = isArray
                currentNode = -1
                if valueField >= 0 || (!isArray && valueNode >= 0) {
                    let node: Int32 = !isArray && valueNode >= 0 && nodes[Int(valueNode)].edgeCount > 0
                        ? valueNode : -1
                    if node >= 0 || valueField >= 0 {
                        frames[top] = Frame(
                            start: Int32(truncatingIfNeeded: start - base), node: node,
                            field: valueField, depth: Int32(truncatingIfNeeded: depth))
                        top &+= 1
                        currentNode = node
                    }
                }
                p += 1
                skipWhitespace(&p, end)
                guard p < end else { return fail(.unexpectedEnd, p) }
                if p.pointee == (isArray ? closeBracket : closeBrace) {
                    p += 1
                    closedContainer = true
                } else if isArray {
                    valueNode = -1
                    valueField = -1
                    continue value
                } else {
                    expectKey = true
                    continue value
                }
            case 0x2D, 0x30...0x39:
                var isInteger = true
                if let code = skipNumber(&p, end, &isInteger) { return fail(code, p) }
                if valueField >= 0 {
                    values[Int(valueField)] = ScannedValue(
                        kind: .number, flags: isInteger ? ScannedValue.flagInteger : 0,
                        start: Int32(truncatingIfNeeded: start - base),
                        end: Int32(truncatingIfNeeded: p - base))
                }
            case 0x74, 0x66, 0x6E:  // t f n
                guard let kind = skipLiteral(&p, end) else { return fail(.invalidLiteral, start) }
                if valueField >= 0 {
                    values[Int(valueField)] = ScannedValue(
                        kind: kind, start: Int32(truncatingIfNeeded: start - base),
                        end: Int32(truncatingIfNeeded: p - base))
                }
            default:
                return fail(.unexpectedByte, p)
            }

            // After a value: close containers and find the next value.
            while true {
                if closedContainer {
                    // p is one past the closing bracket of the container at `depth`.
                    closedContainer = false
                    if top > 0 && Int(frames[top - 1].depth) == depth {
                        top &-= 1
                        let frame = frames[top]
                        if frame.field >= 0 {
                            values[Int(frame.field)] = ScannedValue(
                                kind: inArray ? .array : .object, start: frame.start,
                                end: Int32(truncatingIfNeeded: p - base))
                        }
                    }
                    depth &-= 1
                    inArray = bits[depth >> 6] & (UInt64(1) << UInt64(depth & 63)) != 0
                    currentNode = top > 0 && Int(frames[top - 1].depth) == depth ? frames[top - 1].node : -1
                }
                if depth == 0 {
                    skipWhitespace(&p, end)
                    guard p == end else { return fail(.trailingData, p) }
                    return outcome(rootByte)
                }
                skipWhitespace(&p, end)
                guard p < end else { return fail(.unexpectedEnd, p) }
                let next = p.pointee
                if next == comma {
                    p += 1
                    if inArray {
                        valueNode = -1
                        valueField = -1
                    } else {
                        expectKey = true
                    }
                    continue value
                }
                if next == (inArray ? closeBracket : closeBrace) {
                    p += 1
                    closedContainer = true
                    continue
                }
                return fail(inArray ? .expectedCommaOrBracket : .expectedCommaOrBrace, p)
            }
        }
    }

    @inline(__always)
    static func outcome(_ rootByte: UInt8) -> ScanOutcome {
        switch rootByte {
        case openBrace: return .event
        case openBracket: return .notObject(.array)
        case quote: return .notObject(.string)
        case 0x74: return .notObject(.true)
        case 0x66: return .notObject(.false)
        case 0x6E: return .notObject(.null)
        default: return .notObject(.number)
        }
    }

    /// Parses `"key"` `:` starting at whitespace before the key and matches the key against
    /// the edges of `node`; on return `p` is just after the colon.
    ///
    /// On error `p` is the offset to report (the opening quote for an unterminated key).
    @_transparent
    static func parseKey(
        _ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, trie: FieldTrie, node: Int32,
        values: UnsafeMutablePointer<ScannedValue>, valueNode: inout Int32, valueField: inout Int32
    ) -> ScanError.Code? {
        skipWhitespace(&p, end)
        guard p < end else { return .unexpectedEnd }
        guard p.pointee == quote else { return .expectedKey }
        let open = p
        p += 1
        let keyStart = p
        var escapes = false
        if let code = skipString(&p, end, &escapes) {
            if code == .unterminatedString { p = open }
            return code
        }
        let keyCount = p - keyStart
        p += 1
        valueNode = -1
        valueField = -1
        if node >= 0 && !escapes {
            matchKey(keyStart, count: keyCount, end, trie: trie, node: node, values: values,
                     valueNode: &valueNode, valueField: &valueField)
        } else if node >= 0 {
            // A key with escapes: decoded, compared with each edge in turn.
            let parent = trie.nodes[Int(node)]
            var edge = Int(parent.firstEdge)
            let edgeEnd = edge + Int(parent.edgeCount)
            while edge < edgeEnd {
                let candidate = trie.edges[edge]
                let segment = trie.keys + Int(candidate.keyStart)
                if JSONString.decodedEquals(
                    UnsafeRawBufferPointer(start: keyStart, count: keyCount), hasEscapes: true,
                    UnsafeRawBufferPointer(start: segment, count: Int(candidate.keyCount)))
                {
                    found(candidate, trie: trie, values: values, valueNode: &valueNode, valueField: &valueField)
                    break
                }
                edge &+= 1
            }
        }
        skipWhitespace(&p, end)
        guard p < end else { return .unexpectedEnd }
        guard p.pointee == colon else { return .expectedColon }
        p += 1
        return nil
    }

    /// Matches a key without escapes against the edges of `node` (looked up by signature in
    /// the node's table); on a match, its value is on an interned path (see `found`).
    ///
    /// - Precondition: `valueNode` and `valueField` are -1; `keyCount` bytes at `keyStart`,
    ///   and `end` the end of the line they lie in.
    @inline(__always)
    static func matchKey(
        _ keyStart: UnsafePointer<UInt8>, count keyCount: Int, _ end: UnsafePointer<UInt8>, trie: FieldTrie,
        node: Int32, values: UnsafeMutablePointer<ScannedValue>, valueNode: inout Int32, valueField: inout Int32
    ) {
        let parent = trie.nodes[Int(node)]
        let mask = Int(parent.tableMask)
        // SAFETY: eight readable bytes at `keyStart` (checked); unaligned load. Near the
        // end of the line, the bytes are read one at a time.
        let signature = end - keyStart >= 8
            ? FieldTrie.signature(word: UInt64(littleEndian: UnsafeRawPointer(keyStart).loadUnaligned(as: UInt64.self)),
                                  count: keyCount)
            : FieldTrie.signature(keyStart, count: keyCount)
        let table = trie.table + Int(parent.tableStart)
        var h = FieldTrie.slot(signature) & mask
        while mask >= 0 {
            let edge = table[h]
            if edge < 0 { break }
            let candidate = trie.edges[Int(edge)]
            if candidate.signature == signature && Int(candidate.keyCount) == keyCount
                && (keyCount <= 8 || bytesEqual(keyStart + 8, trie.keys + Int(candidate.keyStart) + 8, count: keyCount &- 8))
            {
                found(candidate, trie: trie, values: values, valueNode: &valueNode, valueField: &valueField)
                return
            }
            h = (h &+ 1) & mask
        }
    }

    /// The key is `edge`'s: its value is on an interned path. The last duplicate wins
    /// wholesale, so what an earlier one left below is forgotten.
    @inline(__always)
    static func found(
        _ edge: FieldTrie.Edge, trie: FieldTrie, values: UnsafeMutablePointer<ScannedValue>,
        valueNode: inout Int32, valueField: inout Int32
    ) {
        let child = trie.nodes[Int(edge.node)]
        valueNode = edge.node
        valueField = child.field
        var d = Int(child.firstDescendant)
        let dEnd = d + Int(child.descendantCount)
        while d < dEnd {
            values[Int(trie.descendants[d])] = .absent
            d &+= 1
        }
    }
}
