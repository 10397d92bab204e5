import Foundation
import Testing
@testable import CairnCore

/// Damage anywhere in a state directory is reported, or repaired from the journal, and never
/// read as state: hundreds of seeded byte flips and truncations across every file, each
/// opened for reading and for writing.
struct StateDamageTests {
    typealias F = StateFixture

    /// A directory with 3,000 customers (half with arena keys) over two checkpoints.
    static func build(_ scratch: StateScratch) throws {
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        for i in 0..<3000 { F.fill(try F.insert(store, F.key(i)), size: 32, i) }
        try store.checkpoint(meta: Array("first".utf8))
        for i in stride(from: 0, to: 3000, by: 97) {
            let payload = F.find(store, F.key(i))!
            F.fill(payload, size: 32, i, version: 2)
            store.markDirty(payload)
        }
        try store.checkpoint(meta: Array("second".utf8))
    }

    /// Every customer with the payload the second checkpoint gave it.
    static func intact(_ store: StateStore) -> Bool {
        store.customerCount == 3000 && (0..<3000).allSatisfy { i in
            guard let payload = F.find(store, F.key(i)) else { return false }
            return F.matches(payload, size: 32, i, version: i % 97 == 0 ? 2 : 1)
        } && store.meta == Array("second".utf8)
    }

    @Test("a flipped byte anywhere, or a file cut short, is reported as damage or repaired, never read as state",
          arguments: ["slots.cairn", "index.cairn", "arena.cairn", "journal"])
    func damageAnywhere(file: String) throws {
        let pristine = StateScratch()
        try Self.build(pristine)
        let original = pristine.bytes(file)
        #expect(original.count > 0)
        var rng = SplitMix(seed: UInt64(file.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var reported = 0, repaired = 0
        for round in 0..<150 {
            let scratch = StateScratch()
            try FileManager.default.copyItem(atPath: pristine.state, toPath: scratch.state)
            var bytes = original
            if round % 6 == 5 {
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
            } else {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(1 << (rng.next() % 8))
            }
            try Data(bytes).write(to: URL(fileURLWithPath: scratch.file(file)))
            for access in [StateStore.Access.read, .write] {
                do {
                    let store = try StateStore.open(directory: scratch.state, layout: access == .write ? F.layout() : nil,
                                                    access: access)
                    // Opened: the damage was in a page the journal restores; all is as written.
                    #expect(Self.intact(store), "round \(round): \(file) opened (\(access)) with different state")
                    repaired += 1
                } catch .corrupt(let name, _) {
                    #expect(name.hasSuffix(file) || name.hasSuffix("journal"), "round \(round): blamed \(name) for \(file)")
                    reported += 1
                } catch {
                    Issue.record("round \(round): \(file) damage gave \(error)")
                }
            }
        }
        #expect(reported > 0)
        _ = repaired
    }
}
