/// The kinds of records `cairn run` writes (`--emit`).
public struct RecordKinds: OptionSet, Sendable, Equatable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let action = RecordKinds(rawValue: 1)
    public static let skip = RecordKinds(rawValue: 2)
    public static let enter = RecordKinds(rawValue: 4)
    public static let exit = RecordKinds(rawValue: 8)
    public static let goal = RecordKinds(rawValue: 16)
    public static let erased = RecordKinds(rawValue: 32)
    public static let all: RecordKinds = [.action, .skip, .enter, .exit, .goal, .erased]

    /// The names `--emit` takes, in record order.
    public static let names: [(String, RecordKinds)] = [
        ("action", .action), ("skip", .skip), ("enter", .enter), ("exit", .exit), ("goal", .goal), ("erased", .erased),
    ]
}

/// Writes a moment's records, in the order they arose, once its sends have been decided.
///
/// Every record is one JSON object with a fixed key order (docs/records.md):
///
///     {"kind":"action","id":…,"time":…,"customer":…,"journey":…,"instance":…,"step":…,
///      "channel":…,"template":…,"data":{…},"variant":…}
///
/// The `id` is XXH64 (hex) over the journey's and step's name hashes, the customer's and the
/// key's hashes, the entry time and number, and the kind of record (a send's action and skip
/// share one): a re-run or a resume writes the same ids, and no two records of a run share one.
final class RecordWriter {
    let output: OutputSink
    let emit: RecordKinds
    /// Records written.
    private(set) var written = 0

    enum Kind: UInt8 { case enter, exit, goal, erased, send }

    /// How a send was decided when it was asked for.
    enum Decision {
        case action
        /// Skipped, with its reason code (a literal: written without a copy).
        case skip(StaticString)
        /// Sent if the channel's cap allows: sends since `windowStart` (inclusive) count.
        case capped(windowStart: Int64)
    }

    /// What decided a send, for `--explain`: the checks that ran, in order.
    struct SendExplain {
        var holdout = false
        /// The channel's consent (nil: it has none).
        var consent: Bool?
        /// The journey's hold (nil: it has none, or it was not reached).
        var hold: Bool?
        /// The customer's zone and local time (minutes after midnight), where quiet hours or
        /// a calendar cap needed them.
        var zone: String?
        var local: Int?
        /// The cap's window start; the sends counted in it and its limit, once decided.
        var capSince: Int64?
        /// Whether the cap is rolling (its window is shown by its exclusive start, `after`).
        var capRolling = false
        var capSent = 0
        var capLimit = 0
    }

    /// One record of the moment: finished bytes, or a send to finish at the end.
    struct Piece {
        var kind: Kind
        /// Finished records: the whole text. Sends: `,"id":…` up to the template.
        var base: Range<Int>
        var data: Range<Int> = 0..<0
        var variant: Range<Int> = 0..<0
        var decision: Decision = .action
        var channel = 0
        var priority = 0
        var why = SendExplain()
    }

    private var pieces: [Piece] = []
    private let buffer = ByteBuffer(capacity: 1 << 16)
    /// The moment's customer and time.
    private let customerText = ByteBuffer(capacity: 256)
    private var customerHash: UInt64 = 0
    private var time: Int64 = .min
    private let timeText = ByteBuffer(capacity: 64)
    /// A send's `data` values, rendered (the renderer writes to an array).
    private var rendered: [UInt8] = []
    private let timeScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
    /// For a customer read from the state: its key re-escaped.
    private let escapeScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: StateStore.maxKeyLength * 6 + 16, alignment: 8)
    private var sendOrder: [Int] = []
    /// Per channel: sends granted in this moment (zero between moments).
    private var granted: [Int] = []
    /// Per channel: the highest priority among them.
    private var grantedTop: [Int] = []

    /// Whether send records carry `explain` (`--explain`).
    let explains: Bool

    init(output: OutputSink, emit: RecordKinds, explain: Bool = false) {
        self.output = output
        self.emit = emit
        self.explains = explain
        pieces.reserveCapacity(64)
    }

    deinit {
        timeScratch.deallocate()
        escapeScratch.deallocate()
    }

    /// A stored customer (for a timer's moment): the key as JSON string content.
    func customer(key: UnsafeRawBufferPointer, payload: UnsafeMutableRawPointer) -> JourneyEngine.Customer {
        let n = JSONString.escape(key, into: escapeScratch) ?? 0
        return JourneyEngine.Customer(key: key, hash: XXH64.hash(key, seed: 0),
                                      text: UnsafeRawBufferPointer(rebasing: escapeScratch[0..<n]), payload: payload)
    }

    func beginMoment(customer: JourneyEngine.Customer, time: Int64) {
        // Most moments write nothing: an empty array is not cleared (that is not free).
        if !pieces.isEmpty { pieces.removeAll(keepingCapacity: true) }
        buffer.reset()
        customerText.reset()
        customerText.append(customer.text)
        customerHash = customer.hash
        if time != self.time {
            self.time = time
            timeText.reset()
        }
    }

    /// The moment's time as RFC 3339 text, formatted when a record first needs it.
    private func appendTime() {
        if timeText.isEmpty {
            let n = EventTime.formatRFC3339(time, into: timeScratch)
            timeText.append(UnsafeRawBufferPointer(rebasing: timeScratch[0..<n]))
        }
        buffer.append(timeText.bytes)
    }

    // MARK: - Records

    func enter(_ engine: JourneyEngine, instance i: Int) {
        guard emit.contains(.enter) else { return }
        let start = buffer.count
        head("enter", engine, instance: i, step: 0, group: 1)
        put(",\"entry\":")
        decimal(Int(engine.work.instances[i].entries))
        put("}\n")
        pieces.append(Piece(kind: .enter, base: start..<buffer.count))
    }

    func exit(_ engine: JourneyEngine, instance i: Int, reason: String) {
        guard emit.contains(.exit) else { return }
        let instance = engine.work.instances[i]
        let start = buffer.count
        head("exit", engine, instance: i, step: 0, group: 3)
        put(",\"step\":")
        if instance.flags.contains(.stepRemoved) {
            // Named as the pipeline that wrote the state named it, if it is known.
            if let name = engine.formerNames[instance.stepHash] { buffer.append(name) } else { put("null") }
        } else {
            buffer.append(engine.quotedSteps[instance.journey][instance.step])
        }
        put(",\"reason\":")
        string(reason)
        put("}\n")
        pieces.append(Piece(kind: .exit, base: start..<buffer.count))
    }

    func goal(_ engine: JourneyEngine, instance i: Int) {
        guard emit.contains(.goal) else { return }
        let start = buffer.count
        head("goal", engine, instance: i, step: 0, group: 4)
        variant(engine, instance: i)
        put("}\n")
        pieces.append(Piece(kind: .goal, base: start..<buffer.count))
    }

    func erased() {
        guard emit.contains(.erased) else { return }
        let start = buffer.count
        put("{\"kind\":\"erased\"")
        idTimeCustomer(Self.erasedID(customerHash: customerHash, time: time))
        put("\"}\n")
        pieces.append(Piece(kind: .erased, base: start..<buffer.count))
    }

    /// The id of an `erased` record: XXH64 over the customer's hash, the time and 5, three
    /// little-endian 64-bit words (docs/journeys.md, Records).
    static func erasedID(customerHash: UInt64, time: Int64) -> UInt64 {
        var words: (UInt64, Int64, UInt64) = (customerHash.littleEndian, time.littleEndian, UInt64(5).littleEndian)
        return withUnsafeBytes(of: &words) { XXH64.hash($0, seed: 0) }
    }

    /// A send of instance `i`, decided now (`.action`, `.skip`) or when the moment ends
    /// (`.capped`). Its `data` is evaluated now.
    func send(_ engine: JourneyEngine, instance i: Int, send: CompiledPipeline.Send, decision: Decision,
              activation: Activation, why: SendExplain) {
        switch decision {
        case .action: guard emit.contains(.action) else { return }
        case .skip: guard emit.contains(.skip) else { return }
        case .capped: break  // kept whatever is written: the cap's log needs the decision
        }
        let instance = engine.work.instances[i]
        let start = buffer.count
        head(nil, engine, instance: i, step: engine.journeys[instance.journey].steps[instance.step].nameHash, group: 2)
        put(",\"step\":")
        buffer.append(engine.quotedSteps[instance.journey][instance.step])
        put(",\"channel\":")
        buffer.append(engine.channelNames[send.channel])
        put(",\"template\":")
        buffer.append(engine.templates[instance.journey][instance.step])
        let base = start..<buffer.count
        let dataStart = buffer.count
        if !send.data.isEmpty {
            let bound = engine.journeyActivation(activation, instance: i)
            put(",\"data\":{")
            for (k, field) in send.data.enumerated() {
                if k > 0 { put(",") }
                string(field.name)
                put(":")
                let value = field.value.evaluate(bound, scratch: engine.scratch)
                let ok = field.value.withEvaluator(bound, engine.scratch) {
                    $0.render(value, into: buffer, scratch: &rendered)
                }
                if !ok { put("null") }
            }
            put("}")
        }
        let data = dataStart..<buffer.count
        let variantStart = buffer.count
        variant(engine, instance: i)
        pieces.append(Piece(kind: .send, base: base, data: data, variant: variantStart..<buffer.count,
                            decision: decision, channel: send.channel,
                            priority: engine.journeys[instance.journey].priority, why: why))
    }

    // MARK: - Ending the moment

    /// Decides the capped sends (higher priority first, then in the order asked), logs the
    /// sends that go out, and writes the moment's records.
    func endMoment(engine: JourneyEngine) throws(EventFailure) {
        guard !pieces.isEmpty else { return }
        sendOrder.removeAll(keepingCapacity: true)
        for (p, piece) in pieces.enumerated() {
            if piece.kind == .send, case .capped = piece.decision { sendOrder.append(p) }
        }
        if !sendOrder.isEmpty {
            sendOrder.sort { (pieces[$0].priority, -$0) > (pieces[$1].priority, -$1) }
            if granted.count < engine.pipeline.channels.count {
                granted = [Int](repeating: 0, count: engine.pipeline.channels.count)
                grantedTop = [Int](repeating: .min, count: engine.pipeline.channels.count)
            }
            for p in sendOrder {
                let c = pieces[p].channel
                guard case .capped(let windowStart) = pieces[p].decision, let cap = engine.pipeline.channels[c].cap else {
                    continue
                }
                // Sends logged earlier in this moment count too.
                let sent = engine.sentSince(windowStart, channel: c)
                pieces[p].why.capSent = sent
                pieces[p].why.capLimit = cap.count
                if sent < cap.count {
                    pieces[p].decision = .action
                    engine.logSend(time, channel: c)
                    granted[c] += 1
                    grantedTop[c] = max(grantedTop[c], pieces[p].priority)
                } else {
                    // Filled by a send of higher priority in this moment: the priority; full
                    // before this moment, or by sends of no higher priority: the cap.
                    let outranked = sent - granted[c] < cap.count && grantedTop[c] > pieces[p].priority
                    pieces[p].decision = .skip(outranked ? "priority" : "frequency_cap")
                }
            }
            for p in sendOrder {
                granted[pieces[p].channel] = 0
                grantedTop[pieces[p].channel] = .min
            }
        }
        do {
            for piece in pieces {
                switch piece.kind {
                case .send:
                    switch piece.decision {
                    case .action:
                        guard emit.contains(.action) else { continue }
                        try output.append(Self.actionHead)
                        try write(piece.base)
                        try write(piece.data)
                        try write(piece.variant)
                        if explains { try explain(piece.why) }
                        try output.append(Self.close)
                    case .skip(let reason):
                        guard emit.contains(.skip) else { continue }
                        try output.append(Self.skipHead)
                        try write(piece.base)
                        try write(piece.variant)
                        try output.append(Self.reasonKey)
                        try output.append(UnsafeRawBufferPointer(start: reason.utf8Start, count: reason.utf8CodeUnitCount))
                        try output.append(Self.quote)
                        if explains { try explain(piece.why) }
                        try output.append(Self.close)
                    case .capped:
                        continue
                    }
                default:
                    try write(piece.base)
                }
                written += 1
                try output.endRecord()
            }
        } catch {
            throw .output(error)
        }
        pieces.removeAll(keepingCapacity: true)
    }

    private static let actionHead = Array("{\"kind\":\"action\"".utf8)
    private static let skipHead = Array("{\"kind\":\"skip\"".utf8)
    private static let close = Array("}\n".utf8)
    private static let reasonKey = Array(",\"reason\":\"".utf8)
    private static let quote = Array("\"".utf8)

    /// `,"explain":{...}`: the checks of a send that ran, in the order they run.
    private func explain(_ why: SendExplain) throws(OutputError) {
        var parts: [String] = []
        if why.holdout { parts.append("\"holdout\":true") }
        if let consent = why.consent { parts.append("\"consent\":\(consent)") }
        if let hold = why.hold { parts.append("\"hold\":\(hold)") }
        if let zone = why.zone { parts.append("\"zone\":\(JSONText.quoted(zone))") }
        if let local = why.local {
            let hh = local / 60, mm = local % 60
            parts.append("\"local_time\":\"\(hh < 10 ? "0" : "")\(hh):\(mm < 10 ? "0" : "")\(mm)\"")
        }
        if let since = why.capSince, why.capLimit > 0 {
            // A rolling window (t − D, t] by its exclusive start; calendar days by local midnight.
            let n = EventTime.formatRFC3339(why.capRolling ? since &- 1 : since, into: timeScratch)
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: timeScratch[0..<n]), as: UTF8.self)
            parts.append("\"cap\":{\"sent\":\(why.capSent),\"limit\":\(why.capLimit),"
                + "\"\(why.capRolling ? "after" : "since")\":\"\(text)\"}")
        }
        try output.append(Array(",\"explain\":{\(parts.joined(separator: ","))}".utf8))
    }

    private func write(_ range: Range<Int>) throws(OutputError) {
        guard !range.isEmpty else { return }
        try output.append(buffer.bytes(in: range))
    }

    // MARK: - Pieces of text

    /// `{"kind":"KIND","id":…,"time":…,"customer":…,"journey":…,"instance":…` (from `,"id"`
    /// when `kind` is nil).
    private func head(_ kind: StaticString?, _ engine: JourneyEngine, instance i: Int, step: UInt32, group: UInt64) {
        let instance = engine.work.instances[i]
        if let kind {
            put("{\"kind\":\"")
            put(kind)
            put("\"")
        }
        var key: (UInt32, UInt32, UInt64, UInt64, Int64, UInt64) = (
            instance.journeyHash.littleEndian, step.littleEndian, customerHash.littleEndian,
            engine.work.keyHash(i).littleEndian,
            instance.enteredAt.littleEndian, (UInt64(instance.entries) | group << 32).littleEndian)
        idTimeCustomer(withUnsafeBytes(of: &key) { XXH64.hash($0, seed: 0) })
        put("\",\"journey\":")
        buffer.append(engine.journeyNames[instance.journey])
        put(",\"instance\":")
        if instance.keyCount > 0 {
            engine.work.withKey(i) { string($0) }
        } else {
            put("null")
        }
    }

    /// `,"id":"…","time":"…","customer":"…` (the customer's closing quote left to the caller).
    private func idTimeCustomer(_ id: UInt64) {
        put(",\"id\":\"")
        hex(id)
        put("\",\"time\":\"")
        appendTime()
        put("\",\"customer\":\"")
        buffer.append(customerText.bytes)
    }

    private func variant(_ engine: JourneyEngine, instance i: Int) {
        let instance = engine.work.instances[i]
        put(",\"variant\":")
        if instance.variantHash != 0, let name = engine.variantName(journey: instance.journey, hash: instance.variantHash) {
            string(name)
        } else {
            put("null")
        }
    }

    @inline(__always)
    private func put(_ text: StaticString) {
        buffer.append(text)
    }

    /// A non-negative integer in decimal.
    private func decimal(_ n: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var at = raw.count
            var n = n
            repeat {
                at -= 1
                raw[at] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0 && at > 0
            buffer.append(UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }

    /// A JSON string of a String's text, without copying it first.
    private func string(_ text: String) {
        var text = text
        text.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    /// A JSON string of already-valid UTF-8 bytes.
    private func string(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { string($0) }
    }

    /// A JSON string of already-valid UTF-8 bytes.
    private func string(_ raw: UnsafeRawBufferPointer) {
        buffer.append(UInt8(ascii: "\""))
        let n = JSONString.escape(raw, into: escapeScratch) ?? 0
        buffer.append(UnsafeRawBufferPointer(rebasing: escapeScratch[0..<n]))
        buffer.append(UInt8(ascii: "\""))
    }

    private func hex(_ id: UInt64) {
        let digits: StaticString = "0123456789abcdef"
        let d = digits.utf8Start
        let out = buffer.extend(by: 16)
        for k in 0..<16 {
            out.storeBytes(of: d[Int((id &>> UInt64(60 - 4 * k)) & 0xF)], toByteOffset: k, as: UInt8.self)
        }
    }
}
