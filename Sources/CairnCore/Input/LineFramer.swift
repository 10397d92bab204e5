import Glibc

/// Splits a `ByteSource` into lines without allocating per line.
///
/// One buffer is allocated at init; the source is read into it a chunk at a time and lines
/// are found with memchr (SIMD in glibc). A partial line at the end of the data is moved to
/// the front before the next read.
///
///     buffer: | consumed | start ... partial line ... end | free (≥ chunkSize) |
///
/// Rules:
/// - Lines end at LF; a CR directly before the LF is dropped (CRLF). A last line without a
///   trailing newline is returned as is (a CR at its very end is kept).
/// - Blank lines (empty, or only spaces, tabs and CRs) are skipped but counted: `number` is
///   the 1-based physical line number in this input.
/// - A UTF-8 BOM (EF BB BF) at the very start of the input is skipped; offsets still count it.
/// - A line longer than `maxLineLength` is `.oversized` with its full length, reported once its
///   end is found; it is skipped without being buffered whole (even if it is all blanks).
/// - Errors: the source's `InputError` is thrown once every complete line before it has been
///   returned. A trailing partial line cut off by the error (e.g. by a corrupt or truncated
///   zstd stream) is *not* returned, as it would be an arbitrary prefix of the real line. After
///   an error, `next()` throws the same error again.
///
/// Memory: `chunkSize + maxLineLength + 2` bytes, whatever the input.
public final class LineFramer {
    private let source: ByteSource
    private let chunkSize: Int
    private let maxLineLength: Int
    private let buffer: UnsafeMutableRawPointer
    private let capacity: Int

    /// Data is `buffer[start ..< end]`; `buffer[start ..< scan]` holds no LF.
    private var start = 0
    private var end = 0
    private var scan = 0
    /// Input offset of `buffer[0]`.
    private var baseOffset: Int64 = 0
    private var atEnd = false
    private var bomChecked = false
    private var failure: InputError?

    /// Oversized line in progress: its number, offset, length so far, whether it ends in CR.
    private var skipping = false
    private var skipNumber = 0
    private var skipOffset: Int64 = 0
    private var skipLength: Int64 = 0
    private var skipEndsInCR = false

    /// Bytes read from the source so far (decompressed), a leading BOM included.
    public var bytesRead: Int64 { baseOffset + Int64(end) }

    /// Physical lines seen so far, blank and oversized included.
    public private(set) var linesSeen = 0

    /// Whether a whole line is buffered (the next frame needs no read), as far as a newline
    /// in the unread bytes shows.
    public var hasBufferedLine: Bool {
        // SAFETY: 0 <= scan <= end <= capacity.
        !skipping && end > scan && memchr(buffer + scan, 0x0A, end - scan) != nil
    }

    /// - Parameters:
    ///   - chunkSize: bytes asked of the source per read (tests use sizes down to 1).
    ///   - maxLineLength: longest line returned as `.line`.
    /// - Precondition: `chunkSize >= 1`, `maxLineLength >= 0`.
    public init(source: ByteSource, chunkSize: Int = 1 << 20, maxLineLength: Int = 1 << 20) {
        precondition(chunkSize >= 1 && maxLineLength >= 0)
        self.source = source
        self.chunkSize = chunkSize
        self.maxLineLength = maxLineLength
        // A buffered partial line is at most maxLineLength + 1 bytes (its CR may be dropped
        // later); one more chunk goes after it.
        capacity = chunkSize + maxLineLength + 2
        buffer = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// The next non-blank line, an oversized-line report, or `.end`.
    ///
    /// - Complexity: amortised O(line length) with memchr; no allocation, one `source.read`
    ///   per chunk.
    public func next() throws(InputError) -> Frame {
        // With reading allowed, `advance` always ends in a frame.
        try advance(mayRead: true)!
    }

    /// Passes over the first `offset` bytes of the input without framing them: a resumed run
    /// continues where a checkpoint stopped. `lines` is how many physical lines those bytes
    /// held, so that line numbers go on from there.
    ///
    /// The offset lies at the end of a line's text (its terminator still ahead), so the rest
    /// of that line frames as a blank and is counted: pass its number minus one.
    /// - Returns: false when the input ends before `offset` (it is not the input the offset
    ///   came from).
    /// - Precondition: nothing has been read yet.
    public func skip(to offset: Int64, lines: Int) throws(InputError) -> Bool {
        precondition(baseOffset == 0 && end == 0 && !bomChecked, "skip(to:lines:) before the first read")
        var remaining = offset
        while remaining > 0 {
            let count = Int(min(Int64(capacity), remaining))
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: count))
            if n == 0 { return false }
            remaining -= Int64(n)
        }
        baseOffset = offset
        bomChecked = true
        linesSeen = lines
        return true
    }

    /// The next frame if it can be found without reading from the source, else nil.
    ///
    /// Lets a caller collect the lines that are already buffered into a batch without
    /// waiting on a slow producer (a pipe) for the line after them.
    public func nextIfBuffered() throws(InputError) -> Frame? {
        try advance(mayRead: false)
    }

    private func advance(mayRead: Bool) throws(InputError) -> Frame? {
        if !bomChecked {
            guard mayRead else { return nil }
            try skipBOM()
        }
        while true {
            if skipping {
                if let frame = try continueSkipping() { return frame }
                guard mayRead else { return nil }
                try fill()
                continue
            }
            let remaining = end - scan
            // SAFETY: 0 <= scan <= end <= capacity, so memchr stays inside the buffer.
            if remaining > 0, let hit = memchr(buffer + scan, 0x0A, remaining) {
                let newline = buffer.distance(to: UnsafeMutableRawPointer(hit))
                let lineStart = start
                var lineEnd = newline
                if lineEnd > lineStart && buffer.load(fromByteOffset: lineEnd - 1, as: UInt8.self) == 0x0D {
                    lineEnd -= 1
                }
                start = newline + 1
                scan = start
                linesSeen += 1
                if let frame = frame(lineStart, lineEnd) { return frame }
                continue
            }
            scan = end
            if atEnd {
                if start < end {
                    let lineStart = start
                    start = end
                    linesSeen += 1
                    if let frame = frame(lineStart, end) { return frame }
                }
                if let failure { throw failure }
                return .end
            }
            if end - start > maxLineLength + 1 {
                // Too long to ever be returned: count it and drop the buffered bytes.
                skipping = true
                skipNumber = linesSeen + 1
                skipOffset = baseOffset + Int64(start)
                skipLength = Int64(end - start)
                skipEndsInCR = buffer.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D
                discardAll()
                continue
            }
            guard mayRead else { return nil }
            try fill()
        }
    }

    /// The frame for `buffer[lineStart ..< lineEnd]`, or `nil` for a blank line.
    @inline(__always)
    private func frame(_ lineStart: Int, _ lineEnd: Int) -> Frame? {
        let length = lineEnd - lineStart
        let offset = baseOffset + Int64(lineStart)
        if length > maxLineLength {
            return .oversized(number: linesSeen, offset: offset, length: Int64(length))
        }
        var i = lineStart
        while i < lineEnd {
            let byte = buffer.load(fromByteOffset: i, as: UInt8.self)
            if byte != 0x20 && byte != 0x09 && byte != 0x0D { break }
            i += 1
        }
        if i == lineEnd { return nil }
        // SAFETY: the view is documented as valid only until the next call, which is the
        // earliest the buffer is moved (memmove) or overwritten (read).
        let bytes = UnsafeRawBufferPointer(start: buffer + lineStart, count: length)
        return .line(Line(bytes: bytes, number: linesSeen, offset: offset))
    }

    /// Advances through an oversized line; returns its report once its end is found, or nil
    /// when the buffer is used up and the caller must read more.
    private func continueSkipping() throws(InputError) -> Frame? {
        let remaining = end - start
        if remaining > 0, let hit = memchr(buffer + start, 0x0A, remaining) {
            let newline = buffer.distance(to: UnsafeMutableRawPointer(hit))
            let segment = newline - start
            var length = skipLength + Int64(segment)
            let endsInCR = segment > 0
                ? buffer.load(fromByteOffset: newline - 1, as: UInt8.self) == 0x0D
                : skipEndsInCR
            if endsInCR { length -= 1 }
            start = newline + 1
            scan = start
            skipping = false
            linesSeen += 1
            return .oversized(number: skipNumber, offset: skipOffset, length: length)
        }
        if remaining > 0 {
            skipLength += Int64(remaining)
            skipEndsInCR = buffer.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D
            discardAll()
        }
        if atEnd {
            skipping = false
            if let failure { throw failure }  // cut off by the error: not reported
            linesSeen += 1
            return .oversized(number: skipNumber, offset: skipOffset, length: skipLength)
        }
        return nil
    }

    /// Skips a BOM at the very start; reads until 3 bytes are buffered or the input ends.
    private func skipBOM() throws(InputError) {
        while end - start < 3 && !atEnd { try fill() }
        bomChecked = true
        if end - start >= 3
            && buffer.load(fromByteOffset: start, as: UInt8.self) == 0xEF
            && buffer.load(fromByteOffset: start + 1, as: UInt8.self) == 0xBB
            && buffer.load(fromByteOffset: start + 2, as: UInt8.self) == 0xBF {
            start += 3
            scan = max(scan, start)
        }
    }

    /// Drops all buffered bytes (the middle of an oversized line).
    private func discardAll() {
        baseOffset += Int64(end)
        start = 0
        end = 0
        scan = 0
    }

    /// Moves the partial line to the front and reads one chunk after it. Sets `atEnd` at the
    /// end of input or on an error (kept in `failure` and thrown at once if no line is pending).
    private func fill() throws(InputError) {
        if let failure { throw failure }
        if start > 0 {
            let partial = end - start
            if partial > 0 {
                // SAFETY: both ranges lie in the buffer; memmove allows overlap.
                memmove(buffer, buffer + start, partial)
            }
            baseOffset += Int64(start)
            scan -= start
            end = partial
            start = 0
        }
        let count = min(chunkSize, capacity - end)
        do {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: count))
            if n == 0 { atEnd = true }
            end += n
        } catch {
            // Every complete line is already returned (fill is called only when none is
            // buffered); the partial line is dropped.
            failure = error
            atEnd = true
            start = end
            scan = end
            throw error
        }
    }
}
