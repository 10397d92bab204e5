#if canImport(Glibc)
import Glibc
#endif

/// What a checkpoint records besides the store's bytes, kept as JSON text in the store's
/// metadata (so it is written atomically with the state): the event clock, the expiry sweep
/// position, counters, the pipeline's fingerprint, the profile layout (with defaults) and
/// every input read so far with how far.
public struct Checkpoint: Equatable, Sendable {
    /// An input file and how much of it the state covers.
    public struct Input: Equatable, Sendable {
        /// The path as given on the command line; `-` for standard input.
        public var path: String
        /// The file's size when it was last read (compressed size for zstd); 0 for stdin.
        public var size: Int64
        /// XXH64 of the file's first `headBytes` bytes.
        public var head: UInt64
        public var headBytes: Int64
        /// Decompressed bytes of the input applied, at a line boundary, and the lines in them.
        public var offset: Int64
        public var line: Int
        /// Whether the input was read to its end.
        public var done: Bool

        public init(path: String, size: Int64, head: UInt64, headBytes: Int64, offset: Int64, line: Int, done: Bool) {
            self.path = path
            self.size = size
            self.head = head
            self.headBytes = headBytes
            self.offset = offset
            self.line = line
            self.done = done
        }
    }

    /// An event held in the reorder buffer when the checkpoint was written: its input
    /// positions are past it, so the checkpoint carries its line.
    public struct Buffered: Equatable, Sendable {
        public var source: String
        public var line: Int
        public var offset: Int64
        /// Its arrival number, which orders it among events of the same time.
        public var seq: Int64
        /// The line's bytes.
        public var text: [UInt8]

        public init(source: String, line: Int, offset: Int64, seq: Int64, text: [UInt8]) {
            self.source = source
            self.line = line
            self.offset = offset
            self.seq = seq
            self.text = text
        }
    }

    public var pipeline: UInt64 = 0
    /// The latest event time applied (nil before any event).
    public var clock: Int64?
    public var sweepCursor = 0
    /// Events applied and records written, over all runs on this state.
    public var events: Int64 = 0
    public var records: Int64 = 0
    /// Wall-clock time the checkpoint was written (ns since 1970); for `cairn state stats`.
    public var writtenAt: Int64?
    /// The profile layout's description (`ProfileLayout.description`).
    public var profile: [UInt8] = []
    /// The names of the journeys, steps and variants of the pipeline that wrote the state:
    /// journey state names them by hash (`CompiledPipeline.nameHash`), and `cairn state`
    /// shows them by name.
    public var names: [String] = []
    public var inputs: [Input] = []
    /// The greatest event time seen (the watermark is this minus the lateness); nil before
    /// any event.
    public var seen: Int64?
    /// The arrival number of the next buffered event.
    public var nextSeq: Int64 = 0
    /// The events held for time order, by arrival.
    public var buffered: [Buffered] = []

    public init() {}

    public var json: [UInt8] {
        var fields: [(String, JSONTree)] = [
            ("version", .number("1")),
            ("pipeline", .string(Self.hex(pipeline))),
            ("clock", clock.map { .number(String($0)) } ?? .null),
            ("sweep", .number(String(sweepCursor))),
            ("events", .number(String(events))),
            ("records", .number(String(records))),
        ]
        if let writtenAt { fields.append(("written_at", .string(CELTime.formatTimestamp(writtenAt)))) }
        fields.append(("profile", JSONTree.parse(profile) ?? .null))
        if !names.isEmpty { fields.append(("names", .array(names.map { .string($0) }))) }
        fields.append(("inputs", .array(inputs.map { input in
            .object([
                ("path", .string(input.path)),
                ("size", .number(String(input.size))),
                ("head", .string(Self.hex(input.head))),
                ("head_bytes", .number(String(input.headBytes))),
                ("offset", .number(String(input.offset))),
                ("line", .number(String(input.line))),
                ("done", .bool(input.done)),
            ])
        })))
        if let seen { fields.append(("seen", .number(String(seen)))) }
        if nextSeq > 0 { fields.append(("next_seq", .number(String(nextSeq)))) }
        if !buffered.isEmpty {
            fields.append(("buffered", .array(buffered.map { event in
                // A line that is not UTF-8 (the scanner does not check string contents)
                // travels as hex so that it comes back byte for byte.
                let text: (String, JSONTree)
                if let string = String(validating: event.text, as: UTF8.self) {
                    text = ("text", .string(string))
                } else {
                    text = ("hex", .string(event.text.map { Self.hexByte($0) }.joined()))
                }
                return .object([
                    ("source", .string(event.source)),
                    ("line", .number(String(event.line))),
                    ("offset", .number(String(event.offset))),
                    ("seq", .number(String(event.seq))),
                    text,
                ])
            })))
        }
        return Array(JSONTree.object(fields).text.utf8)
    }

    /// Reads a checkpoint's JSON text; nil when it is not one.
    public init?(json bytes: [UInt8]) {
        guard let tree = JSONTree.parse(bytes), tree["version"]?.int64 == 1,
              let pipeline = tree["pipeline"]?.string.flatMap({ UInt64($0, radix: 16) }) else { return nil }
        self.pipeline = pipeline
        clock = tree["clock"]?.int64
        sweepCursor = Int(tree["sweep"]?.int64 ?? 0)
        events = tree["events"]?.int64 ?? 0
        records = tree["records"]?.int64 ?? 0
        if let text = tree["written_at"]?.string {
            writtenAt = Array(text.utf8).withUnsafeBytes { EventTime.parseRFC3339($0) }
        }
        if let profile = tree["profile"], profile != .null { self.profile = Array(profile.text.utf8) }
        names = tree["names"]?.array?.compactMap(\.string) ?? []
        for item in tree["inputs"]?.array ?? [] {
            guard let path = item["path"]?.string, let size = item["size"]?.int64,
                  let head = item["head"]?.string.flatMap({ UInt64($0, radix: 16) }),
                  let headBytes = item["head_bytes"]?.int64, let offset = item["offset"]?.int64,
                  let line = item["line"]?.int64, let done = item["done"]?.bool else { return nil }
            inputs.append(Input(path: path, size: size, head: head, headBytes: headBytes, offset: offset,
                                line: Int(line), done: done))
        }
        seen = tree["seen"]?.int64
        nextSeq = tree["next_seq"]?.int64 ?? 0
        for item in tree["buffered"]?.array ?? [] {
            guard let source = item["source"]?.string, let line = item["line"]?.int64,
                  let offset = item["offset"]?.int64, let seq = item["seq"]?.int64 else { return nil }
            let text: [UInt8]
            if let string = item["text"]?.string {
                text = Array(string.utf8)
            } else if let hex = item["hex"]?.string, let bytes = Self.bytes(hex: hex) {
                text = bytes
            } else {
                return nil
            }
            buffered.append(Buffered(source: source, line: Int(line), offset: offset, seq: seq, text: text))
        }
    }

    static func hexByte(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = UInt8(String(UnicodeScalar(chars[i])), radix: 16),
                  let lo = UInt8(String(UnicodeScalar(chars[i + 1])), radix: 16) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func hex(_ n: UInt64) -> String {
        let s = String(n, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Records an input's position, replacing an earlier entry for the same path.
    public mutating func record(_ input: Input) {
        if let i = inputs.firstIndex(where: { $0.path == input.path }) {
            inputs[i] = input
        } else {
            inputs.append(input)
        }
    }
}

/// How a file on the command line relates to what the state has read of it.
public enum ResumePoint: Equatable, Sendable {
    /// Not read before (or changed since, see `changed`): from the start.
    case start
    /// Read up to a line boundary: continue there.
    case from(offset: Int64, line: Int)
    /// Read to its end and unchanged since: nothing to do.
    case done
}

/// The identity of an input file: its size and a fingerprint of its first bytes.
public struct InputIdentity: Equatable, Sendable {
    public static let headLimit = 1 << 16
    public var size: Int64
    public var head: UInt64
    public var headBytes: Int64

    /// Reads the identity of a regular file; nil for stdin, pipes and unreadable paths (the
    /// run reports those when it opens them).
    public static func of(path: String) -> InputIdentity? {
        guard path != "-" else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int64(st.st_size)
        return head(fd: fd, count: Int(min(size, Int64(headLimit)))).map {
            InputIdentity(size: size, head: $0, headBytes: min(size, Int64(headLimit)))
        }
    }

    /// XXH64 of a file's first `count` bytes; nil if they cannot be read.
    static func head(fd: Int32, count: Int) -> UInt64? {
        var buffer = [UInt8](repeating: 0, count: max(count, 1))
        var have = 0
        while have < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + have, count - have, off_t(have)) }
            if n <= 0 { break }
            have += n
        }
        guard have == count else { return nil }
        return buffer.withUnsafeBytes { XXH64.hash(UnsafeRawBufferPointer(rebasing: $0[0..<count]), seed: 0) }
    }

    /// Where to resume `path`, whose identity is `now`, given the checkpoint's entry for it:
    /// the same file (the same first bytes) continues where it stopped, also when it has
    /// grown since (a log that is appended to); a file whose first bytes differ is another
    /// file, read from the start.
    public static func resumePoint(path: String, now: InputIdentity?, entry: Checkpoint.Input?) -> (ResumePoint, changed: Bool) {
        guard let entry, path != "-" else { return (.start, false) }
        guard let now, now.size >= entry.size, entry.headBytes <= now.size else { return (.start, true) }
        // The entry's fingerprint covers its first headBytes; the file's own covers as many
        // unless it was shorter than the limit then and has grown since.
        var head = now.head
        if now.headBytes != entry.headBytes {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return (.start, true) }
            defer { close(fd) }
            guard let h = Self.head(fd: fd, count: Int(entry.headBytes)) else { return (.start, true) }
            head = h
        }
        guard head == entry.head else { return (.start, true) }
        if entry.done && now.size == entry.size { return (.done, false) }
        return (entry.offset > 0 ? .from(offset: entry.offset, line: entry.line) : .start, false)
    }
}
