import Foundation
import Testing
@testable import CairnCore

struct StateIntegrityTests {
    typealias F = StateFixture

    /// A directory with customers (long keys, so the arena has content) whose last journal
    /// holds no page (the second checkpoint changed nothing).
    func populated() throws -> StateScratch {
        let scratch = StateScratch()
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        for i in 0..<3_000 { F.fill(try F.insert(store, F.key(i)), size: 32, i) }
        try store.checkpoint(meta: [1])
        try store.checkpoint(meta: [2])
        return scratch
    }

    func openError(_ scratch: StateScratch) -> StateError? {
        do {
            _ = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            return nil
        } catch {
            return error
        }
    }

    @Test("a flipped byte in any file is reported as corruption naming that file",
          arguments: ["slots.cairn", "index.cairn", "arena.cairn", "journal"])
    func flippedByte(_ name: String) throws {
        let scratch = try populated()
        let bytes = scratch.bytes(name)
        for position in [bytes.count / 3, bytes.count - 9] {
            var flipped = bytes
            flipped[position] ^= 0x10
            #expect(FileManager.default.createFile(atPath: scratch.file(name), contents: Data(flipped)))
            let error = openError(scratch)
            guard case let .corrupt(file, detail)? = error else {
                Issue.record("expected .corrupt for \(name) at \(position), got \(String(describing: error))")
                continue
            }
            #expect(file == scratch.file(name))
            if name != "journal" { #expect(detail == "checksum mismatch in page \(position / 4096)") }
            #expect(error!.description.hasPrefix(scratch.file(name) + ": "))
        }
    }

    @Test("a truncated file is reported as corruption naming that file",
          arguments: ["slots.cairn", "index.cairn", "arena.cairn", "journal"])
    func truncated(_ name: String) throws {
        let scratch = try populated()
        let bytes = scratch.bytes(name)
        #expect(FileManager.default.createFile(atPath: scratch.file(name), contents: Data(bytes.prefix(bytes.count - 4096))))
        guard case let .corrupt(file, _)? = openError(scratch) else {
            Issue.record("expected .corrupt for truncated \(name)")
            return
        }
        #expect(file == scratch.file(name))
    }

    @Test("a store killed while being created opens as a new one; data without a journal does not")
    func killedAtCreation() throws {
        let scratch = StateScratch()
        try FileManager.default.createDirectory(atPath: scratch.state, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: scratch.file("index.cairn"), contents: Data(count: 65536)))
        #expect(FileManager.default.createFile(atPath: scratch.file("slots.cairn"), contents: Data()))
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            #expect(store.customerCount == 0)
            _ = try F.insert(store, F.key(1))
            try store.checkpoint(meta: [])
        }
        try FileManager.default.removeItem(atPath: scratch.file("journal"))
        #expect(openError(scratch) == .corrupt(file: scratch.file("journal"), detail: "missing journal (the data files are not empty)"))
    }

    @Test("a checkpoint stopped midway reopens to the old or the new checkpoint, whole",
          arguments: [CheckpointCrashPoint.afterJournalWrite, .afterRename, .afterHalfThePages])
    func crashPoint(_ point: CheckpointCrashPoint) throws {
        #if DEBUG
        let scratch = StateScratch()
        let n = 4_000
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            for i in 0..<n { F.fill(try F.insert(store, F.key(i)), size: 32, i, version: 1) }
            try store.checkpoint(meta: [1])
            for i in 0..<n {
                let payload = try #require(F.find(store, F.key(i)))
                F.fill(payload, size: 32, i, version: 2)
                store.markDirty(payload)
            }
            for i in n..<2 * n { F.fill(try F.insert(store, F.key(i)), size: 32, i, version: 2) }
            for i in Swift.stride(from: 0, to: n, by: 10) { F.remove(store, F.key(i)) }
            store.crashPoint = point
            #expect(throws: StateError.self) { try store.checkpoint(meta: [2]) }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.file("journal.tmp")) || point == .afterJournalWrite)
        // Twice: the first open repairs the files, the second must find them whole.
        for _ in 0..<2 {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            if point == .afterJournalWrite {
                #expect(store.meta == [1])
                #expect(store.customerCount == n)
                for i in 0..<n { #expect(F.find(store, F.key(i)).map { F.matches($0, size: 32, i, version: 1) } == true) }
                #expect(F.find(store, F.key(n)) == nil)
            } else {
                #expect(store.meta == [2])
                #expect(store.customerCount == 2 * n - n / 10)
                var wrong = 0
                for i in 0..<2 * n {
                    let found = F.find(store, F.key(i))
                    if i < n && i % 10 == 0 { if found != nil { wrong += 1 } } else if found.map({ F.matches($0, size: 32, i, version: 2) }) != true { wrong += 1 }
                }
                #expect(wrong == 0)
            }
        }
        #endif
    }

    @Test("a reader sees a committed checkpoint the data files lack, and changes no file")
    func readerReplaysInMemory() throws {
        #if DEBUG
        let scratch = StateScratch()
        do {
            let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
            for i in 0..<1_000 { F.fill(try F.insert(store, F.key(i)), size: 32, i, version: 1) }
            try store.checkpoint(meta: [1])
            for i in 0..<1_000 {
                let payload = try #require(F.find(store, F.key(i)))
                F.fill(payload, size: 32, i, version: 2)
                store.markDirty(payload)
            }
            store.crashPoint = .afterRename
            #expect(throws: StateError.self) { try store.checkpoint(meta: [2]) }
        }
        let names = ["slots.cairn", "index.cairn", "arena.cairn", "journal"]
        let before = names.map { scratch.bytes($0) }
        do {
            let reader = try StateStore.open(directory: scratch.state, layout: nil, access: .read)
            #expect(reader.meta == [2])
            for i in 0..<1_000 { #expect(F.find(reader, F.key(i)).map { F.matches($0, size: 32, i, version: 2) } == true) }
        }
        #expect(names.map { scratch.bytes($0) } == before)
        #endif
    }

    @Test("after removal and a checkpoint no byte sequence of the key remains in any file")
    func erasure() throws {
        let scratch = StateScratch()
        let long = Array("ERASE-ME-7f3a9c-long-customer".utf8)
        let short = Array("zq9X!kw#".utf8)
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(), access: .write)
        for i in 0..<2_000 { F.fill(try F.insert(store, F.key(i)), size: 32, i) }
        _ = try F.insert(store, long)
        _ = try F.insert(store, short)
        try store.checkpoint(meta: [1])
        func occurrences() throws -> [String] {
            var found: [String] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: scratch.state) {
                let bytes = scratch.bytes(name)
                for key in [long, short] where bytes.count >= key.count {
                    if (0...(bytes.count - key.count)).contains(where: { bytes[$0..<$0 + key.count].elementsEqual(key) }) {
                        found.append(name)
                    }
                }
            }
            return found.sorted()
        }
        #expect(try occurrences() == ["arena.cairn", "journal", "journal", "slots.cairn"])
        #expect(F.remove(store, long))
        #expect(F.remove(store, short))
        try store.checkpoint(meta: [2])
        #expect(try occurrences() == [])
    }

    @Test("a checkpoint of many customers, all dirty, is timed and sized")
    func checkpointFigures() throws {
        let n = ProcessInfo.processInfo.environment["CAIRN_STATE_BENCH"] != nil ? 1_000_000 : 100_000
        let scratch = StateScratch()
        let store = try StateStore.open(directory: scratch.state, layout: F.layout(160), access: .write)
        var key = [UInt8](repeating: 0, count: 12)
        var started = StateFileIO.now()
        for i in 0..<n {
            var v = UInt64(i)
            for b in 0..<12 { key[b] = 0x30 + UInt8(v % 10); v /= 10 }
            let hash = F.hash(key)
            let payload = try key.withUnsafeBytes { try store.insert($0, hash: hash) }
            payload.storeBytes(of: UInt64(i), as: UInt64.self)
        }
        let insertNs = StateFileIO.now() - started
        started = StateFileIO.now()
        var found = 0
        for i in 0..<n {
            var v = UInt64(i)
            for b in 0..<12 { key[b] = 0x30 + UInt8(v % 10); v /= 10 }
            let hash = F.hash(key)
            if let payload = key.withUnsafeBytes({ store.find($0, hash: hash) }) {
                payload.storeBytes(of: UInt64(i) + 1, toByteOffset: 8, as: UInt64.self)
                store.markDirty(payload)
                found += 1
            }
        }
        let findNs = StateFileIO.now() - started
        #expect(found == n)
        try store.checkpoint(meta: [1])
        let stats = store.stats
        print("state: \(n) customers × 160 B: insert \(insertNs / 1_000_000) ms, find+update \(findNs / 1_000_000) ms, checkpoint \(stats.lastCheckpointNanoseconds / 1_000_000) ms "
              + "(\(stats.lastCheckpointDirtyBytes >> 20) MiB dirty), \(String(format: "%.1f", stats.bytesPerCustomer)) B/customer, "
              + "files \(stats.files.map { "\($0.name.split(separator: "/").last!)=\($0.bytes >> 10) KiB" })")
        #expect(stats.customers == n)
    }
}
