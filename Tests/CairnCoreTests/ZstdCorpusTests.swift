import CairnCore
import CZstd
import Foundation
import Testing

/// Where the shared zstd corpus lives: `<repo>/../shared/testdata/zstd` (CI clones `shared/`
/// beside the repository). This file is `<repo>/Tests/CairnCoreTests/ZstdCorpusTests.swift`.
private let corpusDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/testdata/zstd")

/// One row of MANIFEST.tsv.
struct ZstdManifestRow: Sendable {
    var path: String
    var expect: String
    var outSize: Int?
    var outSHA256: String
    var note: String
}

/// What reading one input through `InputOpener` + `ByteSource` to its end gave.
struct ZstdDecodeOutcome {
    var isCompressed: Bool
    var output: [UInt8]
    var error: InputError?
}

/// Opens `path` and reads it to the end (or the first error) through the `ByteSource`.
func decodeToEnd(_ path: String, bufferSize: Int = 64 << 10) throws -> ZstdDecodeOutcome {
    let source = try InputOpener.open(path)
    defer { source.close() }
    var output: [UInt8] = []
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
    defer { buffer.deallocate() }
    do {
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { break }
            output += buffer[0..<n]
        }
    } catch {
        return ZstdDecodeOutcome(isCompressed: source.isCompressed, output: output, error: error)
    }
    return ZstdDecodeOutcome(isCompressed: source.isCompressed, output: output, error: nil)
}

func loadZstdManifest() throws -> [ZstdManifestRow] {
    let url = corpusDirectory.appendingPathComponent("MANIFEST.tsv")
    guard FileManager.default.fileExists(atPath: url.path) else {
        Issue.record("zstd corpus missing at \(url.path): clone the shared repository beside this one")
        throw CocoaError(.fileNoSuchFile)
    }
    let text = try String(contentsOf: url, encoding: .utf8)
    var rows: [ZstdManifestRow] = []
    for line in text.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        rows.append(ZstdManifestRow(path: fields[0], expect: fields[1], outSize: Int(fields[2]),
                                outSHA256: fields[3], note: fields.count > 6 ? fields[6] : ""))
    }
    return rows
}

/// How a file is expected to come out on this machine.
enum PinnedZstdOutcome {
    /// Decodes without error (to `size` bytes when known).
    case accepts(size: Int?)
    /// Ends in a `.corrupt` error.
    case rejects
    /// Decodes to nothing, or ends in a `.corrupt` error: the linked libzstd's patch level
    /// decides, and no other outcome (bytes out, another error, a crash) is right.
    case emptyOrRejects
}

/// Outcomes that depend on the libzstd version, pinned for Debian 12's libzstd 1.5.4.
///
/// libzstd 1.5.4 predates upstream fixes (see the corpus README): it wrongly ACCEPTS the
/// three golden-decompression-errors files and klauspost's 76671405…, and wrongly REJECTS
/// golden-decompression/zeroSeq_2B.zst ("Src size is incorrect"). These are failures of the
/// library version, not of cairn; they are pinned, not skipped, so an upgrade shows up here.
private let libzstd154Deviations: [String: PinnedZstdOutcome] = [
    "upstream/facebook-zstd/golden-decompression-errors/off0.bin.zst": .accepts(size: nil),
    "upstream/facebook-zstd/golden-decompression-errors/truncated_huff_state.zst": .accepts(size: nil),
    "upstream/facebook-zstd/golden-decompression-errors/zeroSeq_extraneous.zst": .accepts(size: nil),
    "upstream/klauspost-compress/bad/76671405460bb57ffd4a0079e8d380748e6c0697.zst": .accepts(size: nil),
    "upstream/facebook-zstd/golden-decompression/zeroSeq_2B.zst": .rejects,
]

/// `i` rows: the outcome cairn chooses (and documents).
private let implementationDefined: [String: PinnedZstdOutcome] = [
    // windowLog 28 > libzstd's default limit 27: a clean error, no 256 MiB allocation.
    "generated/i_window_256MiB_needs_raised_limit.zst": .rejects,
    // No magic, so plain input; 0 bytes is an empty input (no lines), not an error.
    "generated/i_zero_byte_file.zst": .accepts(size: 0),
    // A 2-byte block that decodes to nothing: Debian's libzstd 1.5.4+dfsg2-5 accepts it, its
    // security update 1.5.4+dfsg2-5+deb12u1 (November 2026) rejects it as 1.5.7 does ("Src
    // size is incorrect", also from the zstd CLI); both report version 1.5.4.
    "upstream/klauspost-compress/good/2274d31e0d569fe9e31bedc4f9fddd9c9f114c2f.zst": .emptyOrRejects,
]

@Suite("zstd corpus")
struct ZstdCorpusTests {
    @Test("the manifest lists all 74 corpus files")
    func manifestRowCount() throws {
        let rows = try loadZstdManifest()
        #expect(rows.count == 74)
        #expect(rows.filter { $0.expect == "y" }.count == 25)
        #expect(rows.filter { $0.expect == "n" }.count == 46)
        #expect(rows.filter { $0.expect == "i" }.count == 3)
    }

    @Test("every corpus file decodes or fails as the manifest says, with libzstd 1.5.4 deviations pinned")
    func corpus() throws {
        let rows = try loadZstdManifest()
        try #require(rows.count == 74)
        let isLibzstd154 = ZSTD_versionNumber() == 10504
        for row in rows {
            let path = corpusDirectory.appendingPathComponent(row.path).path
            let outcome = try decodeToEnd(path)
            let label = Comment(rawValue: "\(row.path) (\(row.expect)): \(outcome.error.map { "\($0.kind) \($0.message)" } ?? "ok, \(outcome.output.count) bytes")")

            if let pinned = implementationDefined[row.path] ?? (isLibzstd154 ? libzstd154Deviations[row.path] : nil) {
                switch pinned {
                case let .accepts(size):
                    #expect(outcome.error == nil, label)
                    if let size { #expect(outcome.output.count == size, label) }
                case .rejects:
                    #expect(outcome.error?.kind == .corrupt, label)
                case .emptyOrRejects:
                    #expect(outcome.output.isEmpty, label)
                    #expect(outcome.error == nil || outcome.error?.kind == .corrupt, label)
                }
                continue
            }
            switch row.expect {
            case "y":
                #expect(outcome.error == nil, label)
                #expect(outcome.output.count == row.outSize, label)
                #expect(SHA256.hex(outcome.output) == row.outSHA256, label)
            case "n" where !outcome.isCompressed:
                // No zstd magic: the input layer decides by content, not by the ".zst" name, so
                // this is read as plain bytes. The engine then rejects its lines as invalid
                // JSON/UTF-8 (n_plain_ndjson_named_zst.zst is genuinely valid NDJSON and is
                // accepted as such). Asserted here: not recognised as zstd, no error.
                #expect(outcome.error == nil, label)
                #expect(["generated/n_bad_magic.zst", "generated/n_gzip_named_zst.zst",
                         "generated/n_plain_ndjson_named_zst.zst",
                         "upstream/klauspost-compress/bad/frame_badmagic.zst"].contains(row.path), label)
            case "n":
                #expect(outcome.error?.kind == .corrupt, label)
                if let error = outcome.error {
                    #expect(error.source == path, label)
                    #expect(error.offset != nil, label)
                    #expect(error.message.first?.isLowercase == true, label)
                    #expect(!error.message.hasSuffix("."), label)
                }
            default:
                Issue.record("unpinned implementation-defined row", sourceLocation: SourceLocation(
                    fileID: #fileID, filePath: #filePath, line: #line, column: #column))
            }
        }
    }

    @Test("a gzip file named .zst is not recognised as zstd and its bytes are not UTF-8 text")
    func gzipNamedZst() throws {
        let outcome = try decodeToEnd(corpusDirectory.appendingPathComponent("generated/n_gzip_named_zst.zst").path)
        #expect(!outcome.isCompressed)
        #expect(outcome.error == nil)
        #expect(Array(outcome.output.prefix(2)) == [0x1F, 0x8B])
        // So the engine rejects its first line as invalid UTF-8 / JSON.
        #expect(String(validating: outcome.output, as: UTF8.self) == nil)
    }

    @Test("truncated and corrupt corpus files name the error and the compressed offset")
    func errorDetails() throws {
        let truncated = corpusDirectory.appendingPathComponent("generated/n_truncated_mid_block.zst").path
        let size = try FileManager.default.attributesOfItem(atPath: truncated)[.size] as! Int
        let outcome = try decodeToEnd(truncated)
        #expect(outcome.error == InputError(kind: .corrupt, source: truncated, offset: Int64(size),
                                            message: "truncated zstd frame"))
        let checksum = try decodeToEnd(corpusDirectory.appendingPathComponent("generated/n_bad_checksum.zst").path)
        #expect(checksum.error?.message == "zstd: restored data doesn't match checksum")
        let window = try decodeToEnd(corpusDirectory.appendingPathComponent("generated/i_window_256MiB_needs_raised_limit.zst").path)
        #expect(window.error?.kind == .corrupt)
        #expect(window.error?.message == "zstd: frame requires too much memory for decoding (window 256 MiB, limit 128 MiB)")
        #expect(window.output.isEmpty)
    }
}

@Test("SHA-256 matches the standard test vectors")
func sha256MatchesStandardVectors() {
    #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
}

// MARK: - ZstdSource behaviour on generated streams

/// Compresses `data` into one zstd frame (with checksum and content size).
func zstdCompress(_ data: [UInt8], level: Int32 = 3) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
    let n = out.withUnsafeMutableBytes { dst in
        data.withUnsafeBytes { src in
            ZSTD_compress(dst.baseAddress, dst.count, src.baseAddress, src.count, level)
        }
    }
    precondition(ZSTD_isError(n) == 0)
    return Array(out[0..<n])
}

/// Seeded NDJSON lines, each ending in LF.
func seededNDJSONLines(_ count: Int, seed: UInt64) -> [[UInt8]] {
    var rng = SplitMix(seed: seed)
    return (0..<count).map { i in
        let pad = String(repeating: "x", count: Int.random(in: 0...400, using: &rng))
        return Array("{\"i\":\(i),\"user\":\"c-\(UInt32.random(in: 0...99_999, using: &rng))\",\"pad\":\"\(pad)\"}\n".utf8)
    }
}

/// A fresh temporary directory, removed by the caller.
func makeInputTestDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-input-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func writeBytes(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}

@Suite("zstd source")
struct ZstdSourceTests {
    @Test("a multi-frame file with skippable and empty frames yields the same bytes and lines as the plain file")
    func multiFrame() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = seededNDJSONLines(20_000, seed: 1)  // ~4.2 MB: several ring slots
        let plain = lines.flatMap { $0 }
        let third = lines.count / 3
        let skippable: [UInt8] = [0x5E, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]
        let compressed = zstdCompress(lines[..<third].flatMap { $0 }, level: 1)
            + skippable
            + zstdCompress([])
            + zstdCompress(lines[third..<(2 * third)].flatMap { $0 }, level: 19)
            + zstdCompress(lines[(2 * third)...].flatMap { $0 }, level: -5)
        let plainURL = dir.appendingPathComponent("events.ndjson")
        let zstdURL = dir.appendingPathComponent("events.bin")  // no .zst: decided by content
        try writeBytes(plain, to: plainURL)
        try writeBytes(compressed, to: zstdURL)

        let fromZstd = try decodeToEnd(zstdURL.path, bufferSize: 100_003)
        #expect(fromZstd.isCompressed)
        #expect(fromZstd.error == nil)
        #expect(fromZstd.output == plain)
        let fromPlain = try decodeToEnd(plainURL.path)
        #expect(!fromPlain.isCompressed)
        #expect(fromPlain.output == plain)

        let zstdSource = try InputOpener.open(zstdURL.path)
        let plainSource = try InputOpener.open(plainURL.path)
        let zstdFrames = frameToEnd(zstdSource, chunkSize: 65_536)
        #expect(zstdFrames.count == lines.count)
        #expect(zstdFrames == frameToEnd(plainSource, chunkSize: 1 << 20))
        #expect(zstdSource.bytesConsumed == zstdSource.totalBytes)
        #expect(plainSource.bytesConsumed == plainSource.totalBytes)
        zstdSource.close()
        plainSource.close()
    }

    @Test("concatenated .zst files decode as one stream, also with tiny compressed reads")
    func concatenated() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = seededNDJSONLines(300, seed: 2).flatMap { $0 }
        let b = seededNDJSONLines(500, seed: 3).flatMap { $0 }
        let url = dir.appendingPathComponent("both.zst")
        try writeBytes(zstdCompress(a) + zstdCompress(b), to: url)
        for readSize in [1 << 20, 4096, 7] {
            let source = try InputOpener.open(url.path, readSize: readSize)
            var output: [UInt8] = []
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1000, alignment: 1)
            defer { buffer.deallocate() }
            while case let n = try source.read(into: buffer), n > 0 { output += buffer[0..<n] }
            #expect(output == a + b, "readSize \(readSize)")
            #expect(try source.read(into: buffer) == 0)
            source.close()
        }
    }

    @Test("a truncated stream returns every complete line, then a truncated-frame error")
    func truncated() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let lines = seededNDJSONLines(20_000, seed: 4)
        let compressed = zstdCompress(lines.flatMap { $0 }, level: 1)
        let cut = compressed.count / 2
        let url = dir.appendingPathComponent("cut.zst")
        try writeBytes(Array(compressed[..<cut]), to: url)

        let frames = frameToEnd(try InputOpener.open(url.path), chunkSize: 65_536)
        guard case let .failed(error) = frames.last else {
            Issue.record("no error at the end: \(String(describing: frames.last))")
            return
        }
        #expect(error == InputError(kind: .corrupt, source: url.path, offset: Int64(cut),
                                    message: "truncated zstd frame"))
        let returned = frames.dropLast()
        #expect(returned.count > 1000 && returned.count < lines.count)
        var offset: Int64 = 0
        for (index, frame) in returned.enumerated() {
            #expect(frame == .line(Array(lines[index].dropLast()), number: index + 1, offset: offset))
            offset += Int64(lines[index].count)
        }
    }

    @Test("closing before the end stops the worker without hanging", .timeLimit(.minutes(1)))
    func earlyClose() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 48 MiB of text compressing to little: far more than the 4 MiB ring.
        let line = Array("{\"event\":\"page_view\",\"user\":\"c-1\",\"n\":12345}\n".utf8)
        var plain: [UInt8] = []
        plain.reserveCapacity(48 << 20)
        while plain.count < 48 << 20 { plain += line }
        let url = dir.appendingPathComponent("big.zst")
        try writeBytes(zstdCompress(plain, level: 1), to: url)

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<20 {
            let source = try InputOpener.open(url.path)
            #expect(try source.read(into: buffer) > 0)
            source.close()
            #expect(try source.read(into: buffer) == 0)
            source.close()  // idempotent
        }
        // Dropped without close(): deinit cancels and joins.
        for _ in 0..<20 {
            let source = try InputOpener.open(url.path)
            _ = try source.read(into: buffer)
        }
        // Never read at all.
        for _ in 0..<20 { try InputOpener.open(url.path).close() }
    }

    @Test("opening reports missing paths and directories by kind, with the path")
    func openErrors() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("nope.ndjson").path
        #expect(throws: InputError(kind: .notFound, source: missing, message: "no such file or directory")) {
            try InputOpener.open(missing)
        }
        #expect(throws: InputError(kind: .isDirectory, source: dir.path, message: "is a directory")) {
            try InputOpener.open(dir.path)
        }
        let secret = dir.appendingPathComponent("secret.ndjson")
        try writeBytes(Array("{}\n".utf8), to: secret)
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: secret.path)
        if geteuid() != 0 {  // root may read anything
            #expect(throws: InputError(kind: .permissionDenied, source: secret.path, message: "permission denied")) {
                try InputOpener.open(secret.path)
            }
        }
    }

    @Test("a file shorter than the magic is plain input")
    func shortFiles() throws {
        let dir = try makeInputTestDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for bytes: [UInt8] in [[], [0x28], [0x28, 0xB5, 0x2F], Array("{}\n".utf8)] {
            let url = dir.appendingPathComponent("short")
            try writeBytes(bytes, to: url)
            let outcome = try decodeToEnd(url.path)
            #expect(!outcome.isCompressed)
            #expect(outcome.output == bytes)
            #expect(outcome.error == nil)
        }
    }
}
