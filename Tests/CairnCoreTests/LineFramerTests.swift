import CairnCore
import Testing

/// A `ByteSource` over an in-memory buffer that returns irregular pieces, and optionally
/// throws once its bytes are exhausted (as a truncated zstd stream does).
final class ChunkedMemorySource: ByteSource {
    let name = "memory"
    let isCompressed = false
    var totalBytes: Int64? { Int64(data.count) }
    private(set) var bytesConsumed: Int64 = 0
    private let data: [UInt8]
    private let pieces: [Int]
    private var pieceIndex = 0
    private var position = 0
    private let failure: InputError?

    /// - Parameter pieces: sizes of successive reads (cycled); each read also stops at the
    ///   caller's buffer size. Empty means "as much as asked".
    init(_ data: [UInt8], pieces: [Int] = [], failure: InputError? = nil) {
        self.data = data
        self.pieces = pieces
        self.failure = failure
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(InputError) -> Int {
        if position == data.count {
            if let failure { throw failure }
            return 0
        }
        var n = min(buffer.count, data.count - position)
        if !pieces.isEmpty {
            n = min(n, pieces[pieceIndex % pieces.count])
            pieceIndex += 1
        }
        data.withUnsafeBytes { bytes in
            buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + position, byteCount: n)
        }
        position += n
        bytesConsumed += Int64(n)
        return n
    }

    func close() {}
}

/// A framer result, copied out of the framer's buffer so it can be compared.
enum FramerOutput: Equatable, CustomStringConvertible {
    case line([UInt8], number: Int, offset: Int64)
    case oversized(number: Int, offset: Int64, length: Int64)
    case failed(InputError)

    /// The frame copied out of the framer's buffer; nil for `.end`.
    init?(_ frame: Frame) {
        switch frame {
        case let .line(line): self = .line(Array(line.bytes), number: line.number, offset: line.offset)
        case let .oversized(number, offset, length): self = .oversized(number: number, offset: offset, length: length)
        case .end: return nil
        }
    }

    var description: String {
        switch self {
        case let .line(bytes, number, offset):
            "line \(number) @\(offset) \(String(decoding: bytes, as: UTF8.self).debugDescription)"
        case let .oversized(number, offset, length): "oversized \(number) @\(offset) length \(length)"
        case let .failed(error): "error \(error.kind) \(error.message)"
        }
    }
}

/// Frames `source` to the end (or the first error) and copies every frame.
func frameToEnd(_ source: ByteSource, chunkSize: Int = 1 << 20, maxLineLength: Int = 1 << 20) -> [FramerOutput] {
    let framer = LineFramer(source: source, chunkSize: chunkSize, maxLineLength: maxLineLength)
    var out: [FramerOutput] = []
    while true {
        do {
            guard let output = FramerOutput(try framer.next()) else { return out }
            out.append(output)
        } catch {
            out.append(.failed(error))
            return out
        }
    }
}

/// Frames `source` as the runner's batches do: one `next()`, then `nextIfBuffered()` until it
/// says a read is needed. Records an issue if `nextIfBuffered()` ever reads from the source.
func frameInBatches(_ source: ByteSource, chunkSize: Int, maxLineLength: Int) -> [FramerOutput] {
    let framer = LineFramer(source: source, chunkSize: chunkSize, maxLineLength: maxLineLength)
    var out: [FramerOutput] = []
    var mayRead = true
    while true {
        let consumed = source.bytesConsumed
        do {
            guard let frame = mayRead ? try framer.next() : try framer.nextIfBuffered() else {
                mayRead = true
                continue
            }
            if !mayRead && source.bytesConsumed != consumed {
                Issue.record("nextIfBuffered() read from the source")
            }
            mayRead = false
            guard let output = FramerOutput(frame) else { return out }
            out.append(output)
        } catch {
            out.append(.failed(error))
            return out
        }
    }
}

/// The framing rules written as plainly as possible, over the whole input at once.
///
/// With `cutOff`, the input ends in an error: a final segment without LF is dropped.
func referenceFraming(_ input: [UInt8], maxLineLength: Int, cutOff: Bool = false) -> [FramerOutput] {
    var out: [FramerOutput] = []
    var start = 0
    if input.count >= 3 && input[0] == 0xEF && input[1] == 0xBB && input[2] == 0xBF { start = 3 }
    var number = 0
    while start < input.count {
        var end = start
        while end < input.count && input[end] != 0x0A { end += 1 }
        let terminated = end < input.count
        if !terminated && cutOff { break }
        number += 1
        var line = Array(input[start..<end])
        if terminated && line.last == 0x0D { line.removeLast() }
        if line.count > maxLineLength {
            out.append(.oversized(number: number, offset: Int64(start), length: Int64(line.count)))
        } else if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
            out.append(.line(line, number: number, offset: Int64(start)))
        }
        start = end + 1
    }
    return out
}


private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
private func line(_ text: String, _ number: Int, _ offset: Int64) -> FramerOutput {
    .line(bytes(text), number: number, offset: offset)
}

@Suite("line framer")
struct LineFramerTests {
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var input: [UInt8]
        var maxLineLength = 1 << 20
        var expected: [FramerOutput]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "empty input", input: [], expected: []),
        Case(name: "LF lines", input: bytes("a\nbb\nccc\n"),
             expected: [line("a", 1, 0), line("bb", 2, 2), line("ccc", 3, 5)]),
        Case(name: "CRLF lines", input: bytes("a\r\nbb\r\n"),
             expected: [line("a", 1, 0), line("bb", 2, 3)]),
        Case(name: "CR inside a line is kept", input: bytes("a\rb\n"), expected: [line("a\rb", 1, 0)]),
        Case(name: "blank and whitespace-only lines are skipped but counted",
             input: bytes("\n  \n\t\r\n{}\n \t \n\r\n[1]\n"),
             expected: [line("{}", 4, 7), line("[1]", 7, 16)]),
        Case(name: "last line without newline is returned", input: bytes("x\ny"),
             expected: [line("x", 1, 0), line("y", 2, 2)]),
        Case(name: "trailing whitespace-only line without newline is skipped", input: bytes("x\n  "),
             expected: [line("x", 1, 0)]),
        Case(name: "BOM at the start is skipped and still counted in offsets",
             input: [0xEF, 0xBB, 0xBF] + bytes("a\nb\n"), expected: [line("a", 1, 3), line("b", 2, 5)]),
        Case(name: "BOM only is an empty input", input: [0xEF, 0xBB, 0xBF], expected: []),
        Case(name: "BOM not at the start is data", input: bytes("a\n") + [0xEF, 0xBB, 0xBF] + bytes("b\n"),
             expected: [line("a", 1, 0), .line([0xEF, 0xBB, 0xBF] + bytes("b"), number: 2, offset: 2)]),
        Case(name: "partial BOM is data", input: [0xEF, 0xBB], expected: [.line([0xEF, 0xBB], number: 1, offset: 0)]),
        Case(name: "line exactly at the limit is a line", input: bytes("12345\n"), maxLineLength: 5,
             expected: [line("12345", 1, 0)]),
        Case(name: "line exactly at the limit with CRLF is a line", input: bytes("12345\r\nab\n"), maxLineLength: 5,
             expected: [line("12345", 1, 0), line("ab", 2, 7)]),
        Case(name: "line one over the limit is oversized", input: bytes("123456\nab\n"), maxLineLength: 5,
             expected: [.oversized(number: 1, offset: 0, length: 6), line("ab", 2, 7)]),
        Case(name: "long oversized line reports its full length", input: bytes("a\n" + String(repeating: "x", count: 100) + "\r\nb\n"),
             maxLineLength: 5,
             expected: [line("a", 1, 0), .oversized(number: 2, offset: 2, length: 100), line("b", 3, 104)]),
        Case(name: "oversized line at EOF without newline", input: bytes("a\n" + String(repeating: "y", count: 50)),
             maxLineLength: 5, expected: [line("a", 1, 0), .oversized(number: 2, offset: 2, length: 50)]),
        Case(name: "oversized blank line is still oversized", input: bytes(String(repeating: " ", count: 9) + "\nz"),
             maxLineLength: 5, expected: [.oversized(number: 1, offset: 0, length: 9), line("z", 2, 10)]),
        Case(name: "zero limit makes every non-empty line oversized", input: bytes("\na\n"), maxLineLength: 0,
             expected: [.oversized(number: 2, offset: 1, length: 1)]),
    ]

    @Test("frames the table cases at every small chunk size", arguments: cases)
    func table(_ c: Case) {
        for chunk in [1, 2, 3, 4, 7, 1 << 20] {
            let got = frameToEnd(ChunkedMemorySource(c.input), chunkSize: chunk, maxLineLength: c.maxLineLength)
            #expect(got == c.expected, "chunk \(chunk)")
        }
        #expect(referenceFraming(c.input, maxLineLength: c.maxLineLength) == c.expected, "reference")
    }

    @Test("counts every physical line, blank and oversized included")
    func linesSeen() throws {
        let framer = LineFramer(source: ChunkedMemorySource(bytes("a\n\n" + String(repeating: "x", count: 20) + "\n  \nb")),
                                chunkSize: 4, maxLineLength: 8)
        while true { if case .end = try framer.next() { break } }
        #expect(framer.linesSeen == 5)
    }

    @Test("an error after the data drops the cut-off partial line and repeats")
    func errorDropsPartialLine() throws {
        let error = InputError(kind: .corrupt, source: "memory", offset: 9, message: "truncated zstd frame")
        let got = frameToEnd(ChunkedMemorySource(bytes("a\nbb\nccc"), pieces: [3], failure: error), chunkSize: 2)
        #expect(got == [line("a", 1, 0), line("bb", 2, 2), .failed(error)])
        let framer = LineFramer(source: ChunkedMemorySource([], failure: error))
        #expect(throws: error) { try framer.next() }
        #expect(throws: error) { try framer.next() }
    }

    /// Random NDJSON-ish input mixing every case the framer distinguishes.
    static func randomInput(_ rng: inout SplitMix, maxLineLength: Int) -> [UInt8] {
        var out: [UInt8] = []
        if Int.random(in: 0..<4, using: &rng) == 0 { out += [0xEF, 0xBB, 0xBF] }
        let lines = Int.random(in: 0...60, using: &rng)
        for _ in 0..<lines {
            let length: Int
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: length = 0
            case 1: length = Int.random(in: maxLineLength - 2...maxLineLength + 2, using: &rng)
            case 2: length = Int.random(in: maxLineLength...maxLineLength * 6, using: &rng)
            default: length = Int.random(in: 1..<maxLineLength, using: &rng)
            }
            let blank = Int.random(in: 0..<6, using: &rng) == 0
            for _ in 0..<length {
                if blank {
                    out.append([0x20, 0x09, 0x0D].randomElement(using: &rng)!)
                } else {
                    let r = Int.random(in: 0..<40, using: &rng)
                    out.append(r == 0 ? 0x0D : r == 1 ? 0x20 : UInt8.random(in: 0x21...0x7E, using: &rng))
                }
            }
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: out += [0x0D, 0x0A]
            default: out.append(0x0A)
            }
        }
        if Int.random(in: 0..<2, using: &rng) == 0 {
            // Final line without newline (possibly oversized, possibly ending in CR).
            let length = Int.random(in: 0...maxLineLength * 2, using: &rng)
            for _ in 0..<length { out.append(UInt8.random(in: 0x21...0x7E, using: &rng)) }
            if Int.random(in: 0..<4, using: &rng) == 0 { out.append(0x0D) }
        }
        return out
    }

    @Test("splitting the input anywhere gives the same frames as one big chunk and the reference")
    func property() {
        var rng = SplitMix(seed: 0xCA1_2024)
        for iteration in 0..<60 {
            let maxLineLength = [0, 1, 5, 16, 40, 200][iteration % 6]
            let input = Self.randomInput(&rng, maxLineLength: max(maxLineLength, 3))
            let reference = referenceFraming(input, maxLineLength: maxLineLength)
            let whole = frameToEnd(ChunkedMemorySource(input), chunkSize: 1 << 20, maxLineLength: maxLineLength)
            #expect(whole == reference, "iteration \(iteration), chunk 1 MiB")
            var chunkSizes = Array(1...17)
            for _ in 0..<4 { chunkSizes.append(Int.random(in: 1...65_536, using: &rng)) }
            for chunk in chunkSizes {
                let pieces = (0..<7).map { _ in Int.random(in: 1...max(1, chunk), using: &rng) }
                let regular = frameToEnd(ChunkedMemorySource(input), chunkSize: chunk, maxLineLength: maxLineLength)
                #expect(regular == whole, "iteration \(iteration), chunk \(chunk)")
                let irregular = frameToEnd(ChunkedMemorySource(input, pieces: pieces), chunkSize: chunk, maxLineLength: maxLineLength)
                #expect(irregular == whole, "iteration \(iteration), chunk \(chunk), pieces \(pieces)")
                let batched = frameInBatches(ChunkedMemorySource(input, pieces: pieces), chunkSize: chunk,
                                             maxLineLength: maxLineLength)
                #expect(batched == whole, "iteration \(iteration), chunk \(chunk), pieces \(pieces), in batches")
                if regular != whole || irregular != whole || batched != whole { return }
            }
            // The same input ending in an error: every complete line, then the error.
            let error = InputError(kind: .corrupt, source: "memory", offset: 0, message: "truncated zstd frame")
            let cut = referenceFraming(input, maxLineLength: maxLineLength, cutOff: true) + [.failed(error)]
            for chunk in [1, 3, 16, 1 << 20] {
                let got = frameToEnd(ChunkedMemorySource(input, pieces: [5, 1, 64], failure: error), chunkSize: chunk,
                                   maxLineLength: maxLineLength)
                #expect(got == cut, "iteration \(iteration), chunk \(chunk), cut off")
                let batched = frameInBatches(ChunkedMemorySource(input, pieces: [5, 1, 64], failure: error),
                                             chunkSize: chunk, maxLineLength: maxLineLength)
                #expect(batched == cut, "iteration \(iteration), chunk \(chunk), cut off, in batches")
            }
        }
    }
}
