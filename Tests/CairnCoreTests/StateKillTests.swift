import Foundation
import Testing
@testable import CairnCore

/// `kill -9` of a real process at random instants while it checkpoints in a loop: every
/// reopening must find exactly one whole checkpoint, never older than the last one seen.
///
/// The child is this test binary, re-run with `CAIRN_STATE_CHILD=DIR` on the child test.
struct StateKillTests {
    typealias F = StateFixture
    static let base = 2_000
    static let perRound = 300

    /// The state a completed checkpoint `round` holds: `base + round × perRound` customers,
    /// every payload filled for `round`, meta = round.
    static func check(_ store: StateStore) throws -> Int {
        let round = store.meta.isEmpty ? 0 : Int(store.meta.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let count = round == 0 ? store.customerCount : base + round * perRound
        #expect(store.customerCount == count)
        var wrong = 0
        for i in 0..<count where F.find(store, F.key(i)).map({ F.matches($0, size: 64, i, version: UInt64(round)) }) != true {
            wrong += 1
        }
        #expect(wrong == 0, "round \(round): \(wrong) customers not as checkpointed")
        return round
    }

    @Test("child: checkpoints rounds until killed", .enabled(if: ProcessInfo.processInfo.environment["CAIRN_STATE_CHILD"] != nil))
    func child() throws {
        let directory = ProcessInfo.processInfo.environment["CAIRN_STATE_CHILD"]!
        let store = try StateStore.open(directory: directory, layout: F.layout(64), access: .write)
        var round = store.meta.isEmpty ? 0 : Int(store.meta.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            round += 1
            let count = Self.base + round * Self.perRound
            for i in 0..<count {
                let payload = try F.find(store, F.key(i)) ?? F.insert(store, F.key(i))
                F.fill(payload, size: 64, i, version: UInt64(round))
                store.markDirty(payload)
            }
            try store.checkpoint(meta: withUnsafeBytes(of: UInt64(round)) { Array($0) })
        }
    }

    /// This test binary, from /proc/self/exe.
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    @Test("kill -9 at random instants always leaves one whole checkpoint")
    func killAtRandom() throws {
        let scratch = StateScratch()
        var rng = SplitMix(seed: 7)
        var last = 0
        var rounds: [Int] = []
        for attempt in 0..<6 {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: Self.executable())
            child.arguments = ["--testing-library", "swift-testing", "--filter", "StateKillTests/child"]
            child.environment = ProcessInfo.processInfo.environment.merging(["CAIRN_STATE_CHILD": scratch.state]) { $1 }
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            try child.run()
            usleep(UInt32(200_000 + rng.next() % 600_000) + UInt32(attempt == 0 ? 300_000 : 0))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            guard FileManager.default.fileExists(atPath: scratch.file("journal")) else { continue }
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(64), access: .write)
            let round = try Self.check(store)
            #expect(round >= last)
            last = round
            rounds.append(round)
        }
        print("state: kill -9 left rounds \(rounds)")
        #expect(last > 0)
    }
}
