import Foundation
import Testing
@testable import CairnCore

/// A scratch directory for one test, removed at the end.
final class StateScratch {
    let url: URL
    var path: String { url.path }
    /// A state directory inside the scratch directory (not yet created).
    var state: String { url.appendingPathComponent("st").path }

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-state-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func file(_ name: String) -> String { "\(state)/\(name)" }

    func bytes(_ name: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: file(name)) ?? Data()) }
}

/// Keys and payloads the tests feed the store.
enum StateFixture {
    static func layout(_ payloadSize: Int = 32, fingerprint: UInt64 = 0xC0FFEE) -> StoreLayout {
        StoreLayout(payloadSize: payloadSize, fingerprint: fingerprint,
                    description: Array("{\"payload\":\(payloadSize),\"fp\":\(fingerprint)}".utf8))
    }

    /// Short keys (inline) for even i, long ones (arena) for odd i.
    static func key(_ i: Int) -> [UInt8] {
        i % 2 == 0 ? Array("c\(i)".utf8) : Array("customer-with-a-long-key-\(i)".utf8)
    }

    static func hash(_ key: [UInt8]) -> UInt64 { key.withUnsafeBytes { XXH64.hash($0, seed: 0) } }

    @discardableResult
    static func insert(_ store: StateStore, _ key: [UInt8]) throws -> UnsafeMutableRawPointer {
        try key.withUnsafeBytes { try store.insert($0, hash: hash(key)) }
    }

    static func find(_ store: StateStore, _ key: [UInt8]) -> UnsafeMutableRawPointer? {
        key.withUnsafeBytes { store.find($0, hash: hash(key)) }
    }

    @discardableResult
    static func remove(_ store: StateStore, _ key: [UInt8]) -> Bool {
        key.withUnsafeBytes { store.remove($0, hash: hash(key)) }
    }

    /// Fills a payload with a pattern derived from `i` and `version`.
    static func fill(_ payload: UnsafeMutableRawPointer, size: Int, _ i: Int, version: UInt64 = 1) {
        for w in 0..<size / 8 {
            payload.storeBytes(of: UInt64(i) &* 1_000_003 &+ UInt64(w) &+ version << 48, toByteOffset: w * 8, as: UInt64.self)
        }
    }

    static func matches(_ payload: UnsafeMutableRawPointer, size: Int, _ i: Int, version: UInt64 = 1) -> Bool {
        (0..<size / 8).allSatisfy {
            payload.load(fromByteOffset: $0 * 8, as: UInt64.self) == UInt64(i) &* 1_000_003 &+ UInt64($0) &+ version << 48
        }
    }
}

struct StateStoreTests {
    typealias F = StateFixture

    @Test("customers inserted and checkpointed are found with the same payload after reopening")
    func roundTrip() throws {
        let scratch = StateScratch()
        let n = 5_000
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            #expect(store.meta == [])
            for i in 0..<n {
                let payload = try F.insert(store, F.key(i))
                F.fill(payload, size: 32, i)
            }
            try store.checkpoint(meta: [1, 2, 3])
            #expect(store.stats.checkpointSequence == 1)
        }
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        #expect(store.meta == [1, 2, 3])
        #expect(store.customerCount == n)
        for i in 0..<n {
            let payload = try #require(F.find(store, F.key(i)))
            #expect(F.matches(payload, size: 32, i))
        }
        #expect(F.find(store, Array("absent".utf8)) == nil)
        // The writer still holds the lock.
        #expect(throws: StateError.busy(directory: scratch.state, pid: getpid())) {
            _ = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
        }
    }

    @Test("a store opened for reading takes its layout from the files")
    func readAccess() throws {
        let scratch = StateScratch()
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(16), access: .write)
            F.fill(try F.insert(store, F.key(7)), size: 16, 7)
            try store.checkpoint(meta: [9])
        }
        let store = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
        #expect(store.layout == F.layout(16))
        #expect(store.meta == [9])
        #expect(F.matches(try #require(F.find(store, F.key(7))), size: 16, 7))
        #expect(throws: StateError.self) { try store.checkpoint(meta: []) }
    }

    @Test("arena blocks, free lists and free slots survive a reopen")
    func arenaAndFreeListsPersist() throws {
        let scratch = StateScratch()
        var handles: [UInt64] = []
        var freed: UInt64 = 0
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(8), access: .write)
            for i in 0..<100 { _ = try F.insert(store, F.key(i)) }
            for i in 0..<50 {
                let count = 10 + i * 37
                let handle = try store.allocate(count)
                let bytes = store.bytes(handle)
                for b in 0..<count { bytes.storeBytes(of: UInt8(truncatingIfNeeded: i &+ b), toByteOffset: b, as: UInt8.self) }
                store.markDirty(handle, count: count)
                handles.append(handle)
            }
            freed = handles[20]
            store.free(freed, count: 10 + 20 * 37)
            #expect(F.remove(store, F.key(42)))
            try store.checkpoint(meta: [])
        }
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(8), access: .write)
        for (i, handle) in handles.enumerated() where i != 20 {
            let count = 10 + i * 37
            let bytes = store.bytes(handle)
            #expect((0..<count).allSatisfy { bytes.load(fromByteOffset: $0, as: UInt8.self) == UInt8(truncatingIfNeeded: i &+ $0) })
        }
        #expect(try store.allocate(10 + 20 * 37) == freed)
        #expect(store.stats.freeSlots == 1)
        _ = try F.insert(store, Array("newcomer".utf8))
        #expect(store.slotCount == 100)
        #expect(store.stats.freeSlots == 0)
        #expect(F.find(store, F.key(42)) == nil)
        #expect(store.customerCount == 100)
    }

    @Test("growth across many segment splits and region chunks keeps every customer")
    func growth() throws {
        let scratch = StateScratch()
        let n = 300_000
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(8), access: .write)
            for i in 0..<n {
                let payload = try F.insert(store, F.key(i))
                payload.storeBytes(of: UInt64(i), as: UInt64.self)
            }
            #expect(store.stats.indexSegments > 500)
            for i in Swift.stride(from: 0, to: n, by: 7) {
                #expect(F.find(store, F.key(i))?.load(as: UInt64.self) == UInt64(i))
            }
            try store.checkpoint(meta: [])
        }
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(8), access: .write)
        #expect(store.customerCount == n)
        var missing = 0
        for i in 0..<n where F.find(store, F.key(i))?.load(as: UInt64.self) != UInt64(i) { missing += 1 }
        #expect(missing == 0)
    }

    @Test("index entries sit near their home position (regression: a precedence slip put every home at 0)")
    func probeDistance() throws {
        let store = try StateStore.open(directory: nil, layout: F.layout(8), access: .write)
        for i in 0..<50_000 { _ = try F.insert(store, F.key(i)) }
        var total = 0, entries = 0
        for s in 0..<store.segmentCount {
            let (tags, slots) = store.segment(s)
            for p in 0..<StateStore.segmentEntries where slots[p] != 0 {
                total += (p - StateStore.home(tags[p]) + StateStore.segmentEntries) % StateStore.segmentEntries
                entries += 1
            }
        }
        #expect(entries == 50_000)
        #expect(Double(total) / Double(entries) < 4, "mean probe distance \(Double(total) / Double(entries))")
        #expect(Set((0..<1_000).map { StateStore.home(UInt16($0 * 65)) }).count > 600)
    }

    @Test("removed customers are gone and their slots are reused")
    func removalAndReuse() throws {
        let store = try StateStore.open(directory: nil, layout: F.layout(), access: .write)
        for i in 0..<1_000 { F.fill(try F.insert(store, F.key(i)), size: 32, i) }
        for i in Swift.stride(from: 0, to: 1_000, by: 3) { #expect(F.remove(store, F.key(i))) }
        #expect(!F.remove(store, F.key(0)))
        #expect(store.customerCount == 666)
        #expect(store.stats.freeSlots == 334)
        for i in 0..<1_000 {
            if i % 3 == 0 {
                #expect(F.find(store, F.key(i)) == nil)
            } else {
                #expect(F.find(store, F.key(i)).map { F.matches($0, size: 32, i) } == true)
            }
        }
        for i in 1_000..<1_334 {
            let payload = try F.insert(store, F.key(i))
            #expect((0..<32).allSatisfy { payload.load(fromByteOffset: $0, as: UInt8.self) == 0 })
            F.fill(payload, size: 32, i)
        }
        #expect(store.slotCount == 1_000)
        #expect(store.stats.freeSlots == 0)

        // Removal while iterating, by slot.
        var seen = 0
        for s in 0..<store.slotCount {
            guard let (key, payload) = store.slot(at: s) else { continue }
            seen += 1
            let name = String(decoding: key, as: UTF8.self)
            let i = Int(name.split(separator: "-").last!.drop { !$0.isNumber })!
            #expect(F.matches(payload, size: 32, i))
            if i % 2 == 1 { store.removeSlot(at: s) }
        }
        #expect(seen == 1_000)
        #expect(store.customerCount == 500)
        for i in 0..<1_334 where i % 2 == 1 { #expect(F.find(store, F.key(i)) == nil) }
    }

    @Test("two stores fed the same operations write byte-identical files")
    func determinism() throws {
        let a = StateScratch(), b = StateScratch()
        for scratch in [a, b] {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(24), access: .write)
            var rng = SplitMix(seed: 42)
            for step in 0..<20_000 {
                let i = Int(rng.next() % 5_000)
                if let payload = F.find(store, F.key(i)) {
                    if rng.next() % 4 == 0 { F.remove(store, F.key(i)) } else {
                        F.fill(payload, size: 24, step)
                        store.markDirty(payload)
                    }
                } else {
                    F.fill(try F.insert(store, F.key(i)), size: 24, step)
                }
                if step % 5_000 == 4_999 {
                    let handle = try store.allocate(100 + step % 300)
                    store.bytes(handle).storeBytes(of: UInt64(step), as: UInt64.self)
                    store.markDirty(handle, count: 8)
                    try store.checkpoint(meta: Array("step \(step)".utf8))
                }
            }
        }
        for name in ["slots.cairn", "index.cairn", "arena.cairn", "journal"] {
            #expect(a.bytes(name) == b.bytes(name), "\(name) differs")
            #expect(!a.bytes(name).isEmpty)
        }
    }

    @Test("a store without a directory lives in memory and keeps the meta of its checkpoints")
    func memoryOnly() throws {
        let store = try StateStore.open(directory: nil, layout: F.layout(0), access: .write)
        for i in 0..<10_000 { _ = try F.insert(store, F.key(i)) }
        #expect(store.customerCount == 10_000)
        #expect(F.find(store, F.key(9_999)) != nil)
        try store.checkpoint(meta: [7])
        #expect(store.meta == [7])
        #expect(store.stats.checkpointSequence == 1)
        let handle = try store.allocate(5_000)
        #expect(handle != 0)
        store.bytes(handle).storeBytes(of: 0xAB, toByteOffset: 4_999, as: UInt8.self)
        let other = try store.allocate(5_000)
        #expect(other != handle)
        store.free(handle, count: 5_000)
        #expect(try store.allocate(4_097) == handle)  // same class (2 pages), zeroed
        #expect(store.bytes(handle).load(fromByteOffset: 4_999, as: UInt8.self) == 0)
    }

    @Test("a second writer of the same directory is refused with the holder's pid")
    func lock() throws {
        let scratch = StateScratch()
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        #expect(throws: StateError.busy(directory: scratch.state, pid: getpid())) {
            _ = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        }
        #expect(throws: StateError.busy(directory: scratch.state, pid: getpid())) {
            _ = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
        }
        _ = store
    }

    @Test("readers share the lock and keep a writer out, without naming a stale pid")
    func readersShare() throws {
        let scratch = StateScratch()
        do { _ = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write) }
        let first = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
        let second = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
        #expect(throws: StateError.busy(directory: scratch.state, pid: nil)) {
            _ = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        }
        _ = (first, second)
    }

    @Test("opening with another layout fingerprint reports both descriptions")
    func layoutChange() throws {
        let scratch = StateScratch()
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(fingerprint: 1), access: .write)
            _ = try F.insert(store, F.key(1))
            try store.checkpoint(meta: [])
        }
        #expect(throws: StateError.layoutChanged(directory: scratch.state, stored: F.layout(fingerprint: 1).description,
                                                 current: F.layout(fingerprint: 2).description)) {
            _ = try StateStore.open(directory: scratch.state, layout: F.layout(fingerprint: 2), access: .write)
        }
    }

    @Test("key longer than the limit is refused")
    func keyLimit() throws {
        let store = try StateStore.open(directory: nil, layout: F.layout(), access: .write)
        let key = [UInt8](repeating: 0x61, count: StateStore.maxKeyLength + 1)
        #expect(throws: StateError.self) { _ = try F.insert(store, key) }
        let longest = [UInt8](repeating: 0x61, count: StateStore.maxKeyLength)
        _ = try F.insert(store, longest)
        #expect(F.find(store, longest) != nil)
    }
}
