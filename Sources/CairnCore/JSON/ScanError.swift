/// Why a line is not one valid JSON value, and where.
///
/// Creating a `ScanError` never allocates: it is a code and a byte offset, and `message` is
/// picked from static strings. The executable turns it into
/// `events.ndjson:48213:17: skipped line: expected ',' or '}' after member`.
public struct ScanError: Error, Equatable, Sendable {
    /// The kind of problem; each code has a fixed `message`.
    public enum Code: UInt8, Sendable, CaseIterable {
        /// The line holds nothing but whitespace (or nothing at all).
        case emptyLine
        /// The line ends inside a value, for example `{"a":` or `[1,`.
        case unexpectedEnd
        /// A value was expected but this byte cannot start one.
        case unexpectedByte
        /// A byte starting with `t`, `f` or `n` that is not exactly `true`, `false` or `null`.
        case invalidLiteral
        /// A number that breaks the RFC 8259 grammar (`01`, `1.`, `.5`, `+1`, `1e`, `-`).
        case invalidNumber
        /// A string whose closing quote is missing; the offset is the opening quote.
        case unterminatedString
        /// A backslash followed by something other than `" \ / b f n r t u`.
        case invalidEscape
        /// `\u` not followed by four hexadecimal digits.
        case invalidUnicodeEscape
        /// A `\u` escape of a UTF-16 surrogate that is not a high surrogate followed by a low one.
        case loneSurrogate
        /// A raw byte below 0x20 inside a string (it must be escaped).
        case controlCharacterInString
        /// Ill-formed UTF-8 inside a string: overlong, surrogate, above U+10FFFF or truncated.
        case invalidUTF8
        /// Objects and arrays nested deeper than `JSONLimits.maxDepth`.
        case tooDeep
        /// Something other than whitespace after the top-level value.
        case trailingData
        /// An object key not followed by `:`.
        case expectedColon
        /// An object member not followed by `,` or `}`.
        case expectedCommaOrBrace
        /// An array element not followed by `,` or `]`.
        case expectedCommaOrBracket
        /// Something other than a string where an object key belongs (`{1:2}`, `{"a":1,}`).
        case expectedKey
        /// The line is longer than the 2 GiB that a `ScannedValue` offset can address.
        case lineTooLong
    }

    /// The kind of problem.
    public var code: Code
    /// Byte offset in the line of the problem (the line's length when it ends too early).
    public var offset: Int

    @inlinable
    public init(code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    /// A lowercase description without a final period, for diagnostics.
    public var message: String {
        switch code {
        case .emptyLine: return "empty line"
        case .unexpectedEnd: return "unexpected end of line"
        case .unexpectedByte: return "expected a value"
        case .invalidLiteral: return "invalid literal, expected 'true', 'false' or 'null'"
        case .invalidNumber: return "invalid number"
        case .unterminatedString: return "unterminated string"
        case .invalidEscape: return "invalid escape sequence in string"
        case .invalidUnicodeEscape: return "expected 4 hexadecimal digits after '\\u'"
        case .loneSurrogate: return "unpaired utf-16 surrogate in '\\u' escape"
        case .controlCharacterInString: return "unescaped control character in string"
        case .invalidUTF8: return "invalid utf-8 in string"
        case .tooDeep: return "objects and arrays nested too deeply"
        case .trailingData: return "unexpected data after the value"
        case .expectedColon: return "expected ':' after object key"
        case .expectedCommaOrBrace: return "expected ',' or '}' after member"
        case .expectedCommaOrBracket: return "expected ',' or ']' after element"
        case .expectedKey: return "expected a string key"
        case .lineTooLong: return "line longer than 2 GiB"
        }
    }
}

/// What `JSONScanner.scan` made of one line.
public enum ScanOutcome: Equatable, Sendable {
    /// A valid JSON object: an event. The requested fields were extracted.
    case event
    /// A valid JSON value that is not an object, of the given kind.
    case notObject(JSONKind)
    /// Not valid JSON.
    case invalid(ScanError)
}
