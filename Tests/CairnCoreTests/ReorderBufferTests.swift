import Testing
@testable import CairnCore

/// The reorder buffer against a sorted-array model, and its events in a checkpoint's JSON.
struct ReorderBufferTests {
    @Test("seeded random inserts and pops release events by (time, arrival), lines and values intact",
          arguments: [1, 2, 3, 4])
    func matchesModel(seed: UInt64) {
        var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ bound: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(bound))
        }
        let buffer = ReorderBuffer(fieldCount: 2)
        let source = buffer.source(named: "in.ndjson")
        var model: [(time: Int64, seq: Int64, text: [UInt8])] = []
        var seq: Int64 = 0
        for _ in 0..<3000 {
            if model.isEmpty || next(3) > 0 {
                // Few distinct times, so ties are common; lines of varied lengths.
                let time = Int64(next(40))
                let text = Array("line \(seq) ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: next(600))
                let values = [ScannedValue.absent, ScannedValue.absent]
                text.withUnsafeBytes { line in
                    values.withUnsafeBufferPointer { row in
                        buffer.insert(line: line, values: row.baseAddress!, time: time, source: source,
                                      number: Int(seq) + 1, offset: seq)
                    }
                }
                model.append((time, seq, text))
                seq += 1
            } else {
                model.sort { ($0.time, $0.seq) < ($1.time, $1.seq) }
                let expected = model.removeFirst()
                let key = buffer.popMin()
                #expect(key.time == expected.time && key.seq == expected.seq)
                #expect(Array(buffer.line(key.slot)) == expected.text)
                #expect(buffer.slot(key.slot).offset == expected.seq)
                buffer.recycle(key.slot)
            }
            #expect(buffer.count == model.count)
        }
        #expect(buffer.nextSeq == seq)
        let snapshot = buffer.snapshot()
        #expect(snapshot.map(\.seq) == model.map(\.seq).sorted())
    }

    @Test("buffered events round-trip through the checkpoint's JSON, a line that is not UTF-8 as hex")
    func checkpointRoundTrip() {
        var checkpoint = Checkpoint()
        checkpoint.pipeline = 0xABC
        checkpoint.seen = 1_709_287_200_000_000_000
        checkpoint.nextSeq = 42
        checkpoint.buffered = [
            Checkpoint.Buffered(source: "a.ndjson", line: 7, offset: 300, seq: 40,
                                text: Array(#"{"event":"a","ts":"2024-03-01T10:00:00Z","user_id":"c-é\"1"}"#.utf8)),
            Checkpoint.Buffered(source: "<stdin>", line: 9, offset: 400, seq: 41,
                                text: Array(#"{"user_id":""#.utf8) + [0xFF, 0xC3] + Array(#""}"#.utf8)),
        ]
        let back = Checkpoint(json: checkpoint.json)
        #expect(back == checkpoint)
        let plain = Checkpoint(json: Checkpoint().json)
        #expect(plain?.seen == nil && plain?.buffered == [] && plain?.nextSeq == 0)
    }
}
