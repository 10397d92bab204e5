import Foundation
import Testing
@testable import CairnCore

/// The store against a dictionary model, over seeded random operations: inserts, removals by
/// key and by slot, payload updates, arena traffic, checkpoints and reopenings.
struct StatePropertyTests {
    typealias F = StateFixture

    @Test("random operations agree with a dictionary model across checkpoints and reopenings",
          arguments: [1, 2, 3] as [UInt64])
    func agreesWithModel(_ seed: UInt64) throws {
        let scratch = StateScratch()
        var rng = SplitMix(seed: seed)
        var model: [[UInt8]: UInt64] = [:]
        var store: StateStore? = try StateStore.open(directory: scratch.state, layout: F.layout(16), access: .write)
        // Keys from a small universe so that removals and re-insertions are frequent.
        func key(_ n: UInt64) -> [UInt8] { n % 3 == 0 ? Array("long-key-for-the-arena-\(n)".utf8) : Array("k\(n)".utf8) }
        var reopen = false
        for step in 0..<60_000 {
            if reopen {
                // The previous iteration's reference is gone: this releases the lock.
                let meta = store!.meta
                store = nil
                store = try StateStore.open(directory: scratch.state, layout: F.layout(16), access: .write)
                #expect(store!.meta == meta)
                reopen = false
            }
            let s = store!
            let roll = rng.next() % 100
            let k = key(rng.next() % 8_000)
            switch roll {
            case 0..<55:
                if let payload = F.find(s, k) {
                    let value = rng.next()
                    payload.storeBytes(of: value, as: UInt64.self)
                    s.markDirty(payload)
                    model[k] = value
                } else {
                    let value = rng.next()
                    try F.insert(s, k).storeBytes(of: value, as: UInt64.self)
                    model[k] = value
                }
            case 55..<85:
                #expect(F.remove(s, k) == (model.removeValue(forKey: k) != nil))
            case 85..<95:
                if s.slotCount > 0 {
                    let index = Int(rng.next() % UInt64(s.slotCount))
                    if let (slotKey, _) = s.slot(at: index) {
                        model.removeValue(forKey: Array(slotKey))
                        s.removeSlot(at: index)
                    }
                }
            case 95..<99:
                #expect(F.find(s, k)?.load(as: UInt64.self) == model[k])
            default:
                try s.checkpoint(meta: Array("\(step)".utf8))
                reopen = rng.next() % 2 == 0
            }
        }
        let s = store!
        #expect(s.customerCount == model.count)
        for (k, value) in model { #expect(F.find(s, k)?.load(as: UInt64.self) == value) }
        var live = 0
        for index in 0..<s.slotCount {
            guard let (slotKey, payload) = s.slot(at: index) else { continue }
            live += 1
            #expect(model[Array(slotKey)] == payload.load(as: UInt64.self))
        }
        #expect(live == model.count)
        #expect(s.stats.freeSlots == s.slotCount - model.count)
    }
}
