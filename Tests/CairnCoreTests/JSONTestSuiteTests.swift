import Foundation
import Testing

@testable import CairnCore

/// Conformance against JSONTestSuite (github.com/nst/JSONTestSuite, test_parsing).
///
/// The data lives beside the repository, in `../shared/testdata/JSONTestSuite/test_parsing`
/// (CI clones the repository with `shared/` next to it); `CAIRN_SHARED_DIR` overrides the
/// location of `shared/`. A missing directory fails the tests: zero files is not a pass.
/// Each file is a whole document, scanned as one "line" (whitespace may include LF).
struct JSONTestSuiteTests {
    static let testDirectory: URL = {
        if let shared = ProcessInfo.processInfo.environment["CAIRN_SHARED_DIR"], !shared.isEmpty {
            return URL(fileURLWithPath: shared).appendingPathComponent("testdata/JSONTestSuite/test_parsing")
        }
        // #filePath is <repo>/Tests/CairnCoreTests/JSONTestSuiteTests.swift.
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repository.deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/JSONTestSuite/test_parsing")
    }()

    static func files(prefix: String) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: testDirectory.path)
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func outcome(of name: String) throws -> ScanOutcome {
        let data = try Data(contentsOf: testDirectory.appendingPathComponent(name))
        var paths = FieldPaths()
        paths.intern([])
        paths.intern(["a"])
        let scanner = JSONScanner(paths: paths)
        var values = [ScannedValue](repeating: .absent, count: paths.count)
        return data.withUnsafeBytes { bytes in
            values.withUnsafeMutableBufferPointer { scanner.scan(bytes, into: $0.baseAddress!) }
        }
    }

    /// A short description of an outcome, as pinned in the table below.
    static func describe(_ outcome: ScanOutcome) -> String {
        switch outcome {
        case .event: return "event"
        case .notObject(let kind): return "notObject(\(kind))"
        case .invalid(let error): return "invalid(\(error.code))"
        }
    }

    @Test("scanning with one reused scratch gives the outcome and values of the scan with stack scratch, document after document")
    func reusedScratchAgrees() throws {
        var paths = FieldPaths()
        for path in [[], ["a"], ["a", "b"], ["0"], [""], ["a", "b", "c"]] { paths.intern(path) }
        let scanner = JSONScanner(paths: paths, limits: JSONLimits(maxDepth: 100))
        let scratch = JSONScanner.Scratch(scanner)
        defer { scratch.deallocate() }
        // The suite's documents, and objects on the interned paths (open frames, 70 levels of
        // nesting bits), valid and cut short, between them.
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let own = [#"{"a":{"b":{"c":[1,{"a":2}]},"x":3},"0":"z"}"#, #"{"a":{"b":{"c":"#, "{\"a\":\(deep)}",
                   #"{"a":1,"a":{"b":{}}}"#, "{\"\":[\(deep),{\"a\":{\"b\":\(deep)}}]}", #"{"a":{"b":{"c":{"d":[]}}}}"#]
        var documents: [(String, Data)] = own.map { ($0, Data($0.utf8)) }
        for name in try Self.files(prefix: "y_") + Self.files(prefix: "n_") + Self.files(prefix: "i_") {
            documents.append((name, try Data(contentsOf: Self.testDirectory.appendingPathComponent(name))))
            documents.append(documents[documents.count % own.count])
        }
        documents += documents.reversed()
        #expect(documents.count == 2 * (6 + 2 * 318))
        var stack = [ScannedValue](repeating: .absent, count: paths.count)
        var reused = [ScannedValue](repeating: .absent, count: paths.count)
        for (name, data) in documents {
            let (a, b) = data.withUnsafeBytes { bytes in
                (stack.withUnsafeMutableBufferPointer { scanner.scan(bytes, into: $0.baseAddress!) },
                 reused.withUnsafeMutableBufferPointer { scanner.scan(bytes, into: $0.baseAddress!, scratch: scratch) })
            }
            #expect(Self.describe(a) == Self.describe(b), "\(name)")
            if case .invalid(let x) = a, case .invalid(let y) = b {
                #expect(x.offset == y.offset, "\(name)")
            } else {
                #expect(stack == reused, "\(name)")
            }
        }
    }

    @Test("the test suite directory is present with 95 y_, 188 n_ and 35 i_ files")
    func directoryIsPresent() throws {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: Self.testDirectory.path, isDirectory: &isDirectory)
        try #require(exists && isDirectory.boolValue, "JSONTestSuite missing at \(Self.testDirectory.path)")
        #expect(try Self.files(prefix: "y_").count == 95)
        #expect(try Self.files(prefix: "n_").count == 188)
        #expect(try Self.files(prefix: "i_").count == 35)
    }

    @Test("every y_ document is accepted")
    func acceptsEveryYes() throws {
        let names = try Self.files(prefix: "y_")
        try #require(names.count == 95)
        for name in names {
            let outcome = try Self.outcome(of: name)
            if case .invalid(let error) = outcome {
                Issue.record("\(name): rejected with \(error.code) at \(error.offset)")
            }
        }
    }

    @Test("every n_ document is rejected")
    func rejectsEveryNo() throws {
        let names = try Self.files(prefix: "n_")
        try #require(names.count == 188)
        for name in names {
            let outcome = try Self.outcome(of: name)
            guard case .invalid = outcome else {
                Issue.record("\(name): accepted as \(Self.describe(outcome))")
                continue
            }
        }
    }

    /// Implementation-defined cases: the scanner is strict (lone surrogates, invalid UTF-8,
    /// BOM and other encodings are rejected; huge numbers are valid text).
    static let pinnedImplementationDefined: [String: String] = [
        "i_number_double_huge_neg_exp.json": "notObject(array)",
        "i_number_huge_exp.json": "notObject(array)",
        "i_number_neg_int_huge_exp.json": "notObject(array)",
        "i_number_pos_double_huge_exp.json": "notObject(array)",
        "i_number_real_neg_overflow.json": "notObject(array)",
        "i_number_real_pos_overflow.json": "notObject(array)",
        "i_number_real_underflow.json": "notObject(array)",
        "i_number_too_big_neg_int.json": "notObject(array)",
        "i_number_too_big_pos_int.json": "notObject(array)",
        "i_number_very_big_negative_int.json": "notObject(array)",
        "i_object_key_lone_2nd_surrogate.json": "invalid(loneSurrogate)",
        "i_string_1st_surrogate_but_2nd_missing.json": "invalid(loneSurrogate)",
        "i_string_1st_valid_surrogate_2nd_invalid.json": "invalid(loneSurrogate)",
        "i_string_UTF-16LE_with_BOM.json": "invalid(unexpectedByte)",
        "i_string_UTF-8_invalid_sequence.json": "invalid(invalidUTF8)",
        "i_string_UTF8_surrogate_U+D800.json": "invalid(invalidUTF8)",
        "i_string_incomplete_surrogate_and_escape_valid.json": "invalid(loneSurrogate)",
        "i_string_incomplete_surrogate_pair.json": "invalid(loneSurrogate)",
        "i_string_incomplete_surrogates_escape_valid.json": "invalid(loneSurrogate)",
        "i_string_invalid_lonely_surrogate.json": "invalid(loneSurrogate)",
        "i_string_invalid_surrogate.json": "invalid(loneSurrogate)",
        "i_string_invalid_utf-8.json": "invalid(invalidUTF8)",
        "i_string_inverted_surrogates_U+1D11E.json": "invalid(loneSurrogate)",
        "i_string_iso_latin_1.json": "invalid(invalidUTF8)",
        "i_string_lone_second_surrogate.json": "invalid(loneSurrogate)",
        "i_string_lone_utf8_continuation_byte.json": "invalid(invalidUTF8)",
        "i_string_not_in_unicode_range.json": "invalid(invalidUTF8)",
        "i_string_overlong_sequence_2_bytes.json": "invalid(invalidUTF8)",
        "i_string_overlong_sequence_6_bytes.json": "invalid(invalidUTF8)",
        "i_string_overlong_sequence_6_bytes_null.json": "invalid(invalidUTF8)",
        "i_string_truncated-utf-8.json": "invalid(invalidUTF8)",
        "i_string_utf16BE_no_BOM.json": "invalid(unexpectedByte)",
        "i_string_utf16LE_no_BOM.json": "invalid(unexpectedByte)",
        "i_structure_500_nested_arrays.json": "invalid(tooDeep)",
        "i_structure_UTF-8_BOM_empty_object.json": "invalid(unexpectedByte)",
    ]

    @Test("every i_ document scans without crashing and keeps its pinned outcome")
    func pinsImplementationDefined() throws {
        let names = try Self.files(prefix: "i_")
        try #require(names.count == 35)
        #expect(Set(names) == Set(Self.pinnedImplementationDefined.keys))
        for name in names {
            let got = Self.describe(try Self.outcome(of: name))
            #expect(got == Self.pinnedImplementationDefined[name], "\(name)")
        }
    }
}
