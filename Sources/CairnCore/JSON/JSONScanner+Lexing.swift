import CCairnSIMD

/// The token-level validators of the scanner: whitespace, strings, numbers, literals.
///
/// Each takes the cursor `p` by reference and the end of the line, advances past what it
/// accepts, and on error leaves `p` at the offending byte and returns the code. They work on
/// raw pointers with the end checked explicitly, so the optimizer sees no bounds checks.
extension JSONScanner {
    /// Bits set at 0x20, 0x0A, 0x0D, 0x09: the four whitespace bytes of RFC 8259.
    static let whitespaceMask: UInt64 = 1 << 0x20 | 1 << 0x0A | 1 << 0x0D | 1 << 0x09

    /// Advances `p` past whitespace.
    ///
    /// - Complexity: O(whitespace skipped); one compare when there is none (compact NDJSON).
    @inline(__always)
    static func skipWhitespace(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) {
        while p < end {
            let c = p.pointee
            guard c <= 0x20, (UInt64(1) << UInt64(c)) & whitespaceMask != 0 else { return }
            p += 1
        }
    }

    /// High bit set in each byte of `word` that is `"`, `\`, below 0x20 or at least 0x80.
    ///
    /// SWAR: the classic "has zero byte" / "has byte less than" tricks. Borrows only run
    /// upward, so bits above the lowest flagged byte may be false positives but the lowest
    /// flagged byte is always a real match, which is all the caller uses.
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & (ones &* 0x80)
    }

    /// Validates string contents from `p` (just after the opening quote) to the closing
    /// quote, where it leaves `p`. Sets `escapes` if a backslash occurs.
    ///
    /// Returns `unterminatedString` (caller reports the opening quote), or an escape,
    /// control character or UTF-8 error at `p`.
    ///
    /// - Complexity: O(n); sixteen bytes per step while the bytes are plain printable ASCII.
    @inline(__always)
    static func skipString(
        _ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ escapes: inout Bool
    ) -> ScanError.Code? {
        var q = p
        while true {
            let c: UInt8
            if end - q >= 16 {
                // SAFETY: at least 16 readable bytes remain at `q`.
                let special = cairn_string_specials16(q)
                if special == 0 {
                    q += 16
                    continue
                }
                q += Int(special.trailingZeroBitCount)
                c = q.pointee
            } else if end - q >= 8 {
                // SAFETY: at least 8 readable bytes remain at `q`; unaligned load.
                let word = UInt64(littleEndian: UnsafeRawPointer(q).loadUnaligned(as: UInt64.self))
                let special = specialBytes(word)
                if special == 0 {
                    q += 8
                    continue
                }
                let bit = special.trailingZeroBitCount
                q += bit >> 3
                // The byte is in the word already: no second load on the critical path.
                c = UInt8(truncatingIfNeeded: word >> UInt64(bit & ~7))
            } else {
                guard q < end else {
                    p = q
                    return .unterminatedString
                }
                c = q.pointee
                if c >= 0x20 && c < 0x80 && c != quote && c != backslash {
                    q += 1
                    continue
                }
            }
            if c == quote {
                p = q
                return nil
            }
            if let code = skipSpecial(&q, end, &escapes) {
                p = q
                return code
            }
        }
    }

    /// Handles a byte in a string that is neither plain ASCII nor the closing quote: an
    /// escape, a control character or the start of a multi-byte UTF-8 sequence.
    @inline(never)
    static func skipSpecial(
        _ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ escapes: inout Bool
    ) -> ScanError.Code? {
        let c = p.pointee
        if c == backslash {
            escapes = true
            return skipEscape(&p, end)
        }
        if c < 0x20 { return .controlCharacterInString }
        // Consume a run of multi-byte sequences while here: non-ASCII text comes in runs.
        repeat {
            if let code = skipUTF8(&p, end) { return code }
        } while p < end && p.pointee >= 0x80
        return nil
    }

    /// Validates one escape sequence at `p` (a backslash) and advances past it; on error
    /// `p` stays at the backslash (or moves to the second `\u` of a bad pair).
    static func skipEscape(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> ScanError.Code? {
        let available = end - p
        guard available >= 2 else { return .unterminatedString }
        switch p[1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            p += 2
            return nil
        case 0x75:  // u
            guard available >= 6, let unit = hex4(p + 2) else { return .invalidUnicodeEscape }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard available >= 8, p[6] == backslash, p[7] == 0x75 else { return .loneSurrogate }
                guard available >= 12, let low = hex4(p + 8) else {
                    p += 6
                    return .invalidUnicodeEscape
                }
                guard low >= 0xDC00 && low <= 0xDFFF else { return .loneSurrogate }
                p += 12
                return nil
            }
            if unit >= 0xDC00 && unit <= 0xDFFF { return .loneSurrogate }
            p += 6
            return nil
        default:
            return .invalidEscape
        }
    }

    /// The value of four hexadecimal digits at `p`, or nil.
    ///
    /// - Precondition: four bytes are readable at `p`.
    @inline(__always)
    static func hex4(_ p: UnsafePointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for i in 0..<4 {
            let c = p[i]
            let digit: UInt8
            switch c {
            case 0x30...0x39: digit = c &- 0x30
            case 0x41...0x46: digit = c &- 0x41 &+ 10
            case 0x61...0x66: digit = c &- 0x61 &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence at `p` (a byte >= 0x80) and advances past it.
    ///
    /// Well-formed sequences per Unicode table 3-7: no overlongs (C0, C1, E0 80..9F,
    /// F0 80..8F), no surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF), no
    /// stray continuation bytes, no truncation.
    @inline(__always)
    static func skipUTF8(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> ScanError.Code? {
        let lead = p[0]
        let available = end - p
        @inline(__always) func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }
        if lead < 0xC2 { return .invalidUTF8 }
        if lead < 0xE0 {
            guard available >= 2, isContinuation(p[1]) else { return .invalidUTF8 }
            p += 2
            return nil
        }
        if lead < 0xF0 {
            guard available >= 3 else { return .invalidUTF8 }
            let low: UInt8 = lead == 0xE0 ? 0xA0 : 0x80
            let high: UInt8 = lead == 0xED ? 0x9F : 0xBF
            guard p[1] >= low, p[1] <= high, isContinuation(p[2]) else { return .invalidUTF8 }
            p += 3
            return nil
        }
        if lead < 0xF5 {
            guard available >= 4 else { return .invalidUTF8 }
            let low: UInt8 = lead == 0xF0 ? 0x90 : 0x80
            let high: UInt8 = lead == 0xF4 ? 0x8F : 0xBF
            guard p[1] >= low, p[1] <= high, isContinuation(p[2]), isContinuation(p[3]) else {
                return .invalidUTF8
            }
            p += 4
            return nil
        }
        return .invalidUTF8
    }

    /// Validates a number per RFC 8259 at `p` (a `-` or a digit) and advances past it.
    ///
    /// `isInteger` is cleared when a fraction or exponent is present. What follows the
    /// number is left to the caller (`1x` fails there as a missing `,`).
    @inline(__always)
    static func skipNumber(
        _ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ isInteger: inout Bool
    ) -> ScanError.Code? {
        @inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
        if p.pointee == 0x2D {
            p += 1
            guard p < end else { return .invalidNumber }
        }
        let first = p.pointee
        if first == 0x30 {
            p += 1
            if p < end && isDigit(p.pointee) { return .invalidNumber }  // leading zero
        } else if isDigit(first) {
            p += 1
            while p < end && isDigit(p.pointee) { p += 1 }
        } else {
            return .invalidNumber
        }
        guard p < end else { return nil }
        if p.pointee == 0x2E {  // .
            isInteger = false
            p += 1
            guard p < end, isDigit(p.pointee) else { return .invalidNumber }
            p += 1
            while p < end && isDigit(p.pointee) { p += 1 }
            guard p < end else { return nil }
        }
        if p.pointee | 0x20 == 0x65 {  // e E
            isInteger = false
            p += 1
            if p < end && (p.pointee == 0x2B || p.pointee == 0x2D) { p += 1 }
            guard p < end, isDigit(p.pointee) else { return .invalidNumber }
            p += 1
            while p < end && isDigit(p.pointee) { p += 1 }
        }
        return nil
    }

    /// Matches `true`, `false` or `null` at `p` and advances past it; nil if none matches.
    @inline(__always)
    static func skipLiteral(_ p: inout UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) -> JSONKind? {
        let available = end - p
        guard available >= 4 else { return nil }
        // SAFETY: four readable bytes at `p` (checked above); unaligned load.
        let word = UInt32(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt32.self))
        switch word {
        case 0x6575_7274:  // "true"
            p += 4
            return .true
        case 0x6C6C_756E:  // "null"
            p += 4
            return .null
        case 0x736C_6166:  // "fals"
            guard available >= 5, p[4] == 0x65 else { return nil }
            p += 5
            return .false
        default:
            return nil
        }
    }
}
