import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import CairnCore

/// The journey state's blob format and the timer heap, against simple references.
@Suite("journey state")
struct JourneyStateTests {
    /// A random customer state: instances with keys and contexts of random lengths, memos,
    /// send logs.
    static func randomState(_ rng: inout SplitMix) -> CustomerJourneys {
        let state = CustomerJourneys()
        for _ in 0..<Int(rng.next() % 5) {
            let keyStart = state.bytes.count
            let keyCount = Int(rng.next() % 20)
            for _ in 0..<keyCount { state.bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            let contextStart = state.bytes.count
            let contextCount = Int(rng.next() % 40)
            for _ in 0..<contextCount { state.bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            let flags = CustomerJourneys.Flags(rawValue: UInt8(rng.next() % 16))
            state.instances.append(CustomerJourneys.Instance(
                journeyHash: UInt32(truncatingIfNeeded: rng.next()), stepHash: UInt32(truncatingIfNeeded: rng.next()),
                entries: UInt32(rng.next() % 100), variantHash: UInt32(truncatingIfNeeded: rng.next()),
                wake: rng.next() % 2 == 0 ? .max : Int64(bitPattern: rng.next()), enteredAt: Int64(bitPattern: rng.next()),
                journey: Int(rng.next() % 7), step: Int(rng.next() % 300), flags: flags,
                keyStart: keyStart, keyCount: keyCount, contextStart: contextStart, contextCount: contextCount, keyHash: 0))
        }
        for _ in 0..<Int(rng.next() % 4) {
            state.memos.append(CustomerJourneys.Memo(
                journeyHash: UInt32(truncatingIfNeeded: rng.next()), entries: UInt32(rng.next() % 9),
                keyHash: rng.next(), lastEntry: Int64(bitPattern: rng.next())))
        }
        for _ in 0..<Int(rng.next() % 3) {
            let start = state.times.count
            let count = Int(rng.next() % 4) + 1
            for _ in 0..<count { state.times.append(Int64(bitPattern: rng.next())) }
            state.logs.append(CustomerJourneys.SendLog(channelHash: UInt32(truncatingIfNeeded: rng.next()), start: start,
                                                       count: count))
        }
        return state
    }

    @Test("a state encodes to exactly its size and decodes to the same instances, memos and logs")
    func roundTrip() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<500 {
            let state = Self.randomState(&rng)
            let size = state.encodedSize
            let capacity = size
            let blob = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            defer { blob.deallocate() }
            state.encode(into: blob)
            #expect(CustomerJourneys.size(blob) == size)
            let back = CustomerJourneys()
            back.decode(blob)
            #expect(back.instances.count == state.instances.count)
            for (k, (a, b)) in zip(state.instances, back.instances).enumerated() {
                #expect(a.journeyHash == b.journeyHash && a.stepHash == b.stepHash && a.entries == b.entries)
                #expect(a.variantHash == b.variantHash && a.wake == b.wake && a.enteredAt == b.enteredAt)
                #expect(a.journey == b.journey && a.step == b.step && a.flags == b.flags)
                #expect(state.withKey(k) { Array($0) } == back.withKey(k) { Array($0) })
                #expect(state.withContext(k) { Array($0) } == back.withContext(k) { Array($0) })
            }
            #expect(back.memos.map(\.keyHash) == state.memos.map(\.keyHash))
            #expect(back.memos.map(\.lastEntry) == state.memos.map(\.lastEntry))
            #expect(back.logs.count == state.logs.count)
            for (a, b) in zip(state.logs, back.logs) {
                #expect(a.channelHash == b.channelHash)
                #expect(state.times[a.start..<(a.start + a.count)] == back.times[b.start..<(b.start + b.count)])
            }
            // Encoding what was decoded gives the same bytes, also in place over the block it
            // was decoded from (which its keys and contexts point into).
            let again = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
            defer { again.deallocate() }
            back.encode(into: again)
            #expect(memcmp(blob, again, size) == 0)
            let inPlace = CustomerJourneys()
            inPlace.decode(again)
            inPlace.encode(into: again)
            #expect(memcmp(blob, again, size) == 0)
        }
    }

    @Test("ended instances and in-memory flags are not stored")
    func transient() {
        let state = CustomerJourneys()
        for k in 0..<3 {
            state.instances.append(CustomerJourneys.Instance(
                journeyHash: UInt32(k + 1), stepHash: 9, entries: 1, variantHash: 0, wake: .max, enteredAt: 0,
                journey: 0, step: 0, flags: k == 1 ? [.ended] : [.scheduled, .holdout], keyStart: 0, keyCount: 0,
                contextStart: 0, contextCount: 0, keyHash: 0))
        }
        let blob = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
        defer { blob.deallocate() }
        #expect(state.encodedSize == CustomerJourneys.headerSize + 2 * CustomerJourneys.instanceSize)
        state.encode(into: blob)
        let back = CustomerJourneys()
        back.decode(blob)
        #expect(back.instances.map(\.journeyHash) == [1, 3])
        #expect(back.instances.allSatisfy { $0.flags == [.holdout] })
    }

    @Test("timers pop in (time, slot) order whatever the order they were pushed in")
    func timerOrder() {
        var rng = SplitMix(seed: 11)
        for _ in 0..<200 {
            let queue = TimerQueue()
            var pushed: [(Int64, UInt32)] = []
            for _ in 0..<Int(rng.next() % 200) {
                let time = Int64(rng.next() % 50) - 25
                let slot = UInt32(rng.next() % 8)
                queue.push(time: time, slot: Int(slot))
                pushed.append((time, slot))
            }
            var popped: [(Int64, UInt32)] = []
            while !queue.isEmpty {
                let next = queue.nextTime
                let e = queue.pop()
                #expect(e.time == next)
                popped.append((e.time, e.slot))
            }
            let expected = pushed.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            #expect(popped.map(\.0) == expected.map(\.0))
            #expect(popped.map(\.1) == expected.map(\.1))
            #expect(queue.nextTime == .max)
        }
    }

    @Test("pushes and pops interleaved (and removeAll) match a sorted model, through growth")
    func timerModel() {
        var rng = SplitMix(seed: 12)
        let queue = TimerQueue()
        var model: [(time: Int64, slot: UInt32)] = []
        func before(_ a: (time: Int64, slot: UInt32), _ b: (time: Int64, slot: UInt32)) -> Bool {
            a.time < b.time || (a.time == b.time && a.slot < b.slot)
        }
        for step in 0..<8_000 {
            if step == 6_000 {
                queue.removeAll()
                model.removeAll()
            }
            if rng.next() % 3 != 0 || model.isEmpty {
                let entry = (time: Int64(rng.next() % 1_000), slot: UInt32(rng.next() % 64))
                queue.push(time: entry.time, slot: Int(entry.slot))
                model.append(entry)
            } else {
                let earliest = model.indices.min { before(model[$0], model[$1]) }!
                let expected = model.remove(at: earliest)
                let got = queue.pop()
                #expect(got.time == expected.time && got.slot == expected.slot, "step \(step)")
            }
            #expect(queue.count == model.count)
            #expect(queue.nextTime == (model.min(by: before)?.time ?? .max))
        }
        #expect(queue.capacity >= 512)
    }
}
