import Foundation
import Testing
@testable import CairnCore

/// `profile:` compiled for the runtime: `CompiledPipeline.profile` and `profileTTL`.
struct ProfileCompileTests {
    static func source(profile: String, entry: String = #"type == "purchase""#) -> String {
        """
        name: p
        events: { customer: user_id, time: ts, type: event }
        profile:
        \(profile)
        journeys:
          - name: j
            entry: \(entry)
            steps:
              - send: { channel: email, template: t }
        """
    }

    static let all = source(profile: """
          carts: { count: type == "add_to_cart", minus: type == "cart_cleared", window: 24h }
          spend: { sum: event.price, where: type == "purchase", window: 30d, bucket: 1d, default: 0 }
          units: { sum: int(event.qty), default: 2 }
          basket: { avg: event.price, default: 1 }
          cheapest: { min: event.price, window: 1s }
          dearest: { max: event.price }
          tz: { last: event.tz, where: has(event.tz), default: "UTC" }
          since: { first: time }
          skus: { distinct: event.sku, window: 7d }
          skus_wide: { distinct: event.sku, capacity: 64 }
        """, entry: #"profile.carts > 2 && profile.spend > 10.0 && profile.tz == "UTC" && profile.units + 1 > 3"#)

    @Test("every aggregate compiles in file order with its defaults resolved")
    func compiled() throws {
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: Self.all).get()
        let profile = pipeline.profile
        #expect(profile.map(\.name) == ["carts", "spend", "units", "basket", "cheapest", "dearest", "tz", "since",
                                         "skus", "skus_wide"])
        #expect(profile.map(\.kind) == [.count, .sum, .sum, .avg, .min, .max, .last, .first, .distinct, .distinct])
        #expect(profile.map(\.type) == [.int, .double, .int, .double, .dyn, .dyn, .dyn, .dyn, .int, .int])
        let second: Int64 = 1_000_000_000
        #expect(profile.map(\.window) == [86_400 * second, 30 * 86_400 * second, nil, nil, second, nil, nil, nil,
                                           7 * 86_400 * second, nil])
        // Default bucket: window / 8, exact in nanoseconds.
        #expect(profile.map(\.bucket) == [10_800 * second, 86_400 * second, nil, nil, 125_000_000, nil, nil, nil,
                                           75_600 * second, nil])
        #expect(profile.map(\.capacity) == [0, 0, 0, 0, 0, 0, 0, 0, 16, 64])
        // An integer default of a double sum or avg is a double; of an int sum, an int.
        #expect(profile.map(\.defaultValue) == [nil, .double(0), .int(2), .double(1), nil, nil, .string("UTC"), nil,
                                                 nil, nil])
        #expect(profile[0].minus != nil && profile[0].filter == nil)
        #expect(profile[1].filter != nil && profile[1].minus == nil)
        #expect(profile[1].value.resultType == .dyn)
        #expect(profile[0].value.resultType == .bool)
        // Aggregate programs read the event through the pipeline's field table.
        for path in [["price"], ["qty"], ["tz"], ["sku"]] {
            #expect(pipeline.fields.id(of: path) != nil, "\(path)")
        }
        // Without 'ttl', the longest window.
        #expect(pipeline.profileTTL == 30 * 86_400 * second)
    }

    @Test("ttl: the longest window by default, nil without windows or with 'never', else as written", arguments: [
        ("  a: { count: true, window: 1h }\n  b: { count: true, window: 2d }", Int64(2 * 86_400) * 1_000_000_000),
        ("  a: { count: true }", nil),
        ("  ttl: never\n  a: { count: true, window: 1h }", nil),
        ("  a: { count: true, window: 1h }\n  ttl: 90d", Int64(90 * 86_400) * 1_000_000_000),
    ] as [(String, Int64?)])
    func ttl(_ profile: String, _ expected: Int64?) throws {
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: Self.source(profile: profile)).get()
        #expect(pipeline.profileTTL == expected)
        #expect(!pipeline.profile.map(\.name).contains("ttl"))
    }

    @Test("an entry condition reads the profile with its static types")
    func entryReadsProfile() throws {
        let pipeline = try PipelineCompiler.compile(file: "p.yaml", source: Self.all).get()
        #expect(pipeline.journeys[0].entry.resultType == .bool)
        let wrong = Self.source(profile: "  carts: { count: true }", entry: "profile.carts + 1.0 > 2.0")
        guard case .failure(let errors) = PipelineCompiler.compile(file: "p.yaml", source: wrong) else {
            Issue.record("int + double compiled")
            return
        }
        #expect(errors.diagnostics.map(\.message) == ["no matching overload for '+' applied to (int, double)"])
    }

    @Test("a loaded spec compiles its profile too")
    func fromSpec() throws {
        let spec = try PipelineLoader.load(file: "p.yaml", source: Self.all).get()
        let pipeline = try PipelineCompiler.compile(spec).get()
        #expect(pipeline.profile.count == 10)
    }

    @Test("the example pipeline's profile loads and compiles")
    func cartRecovery() throws {
        // #filePath is <repo>/Tests/CairnCoreTests/ProfileCompileTests.swift.
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines/cart-recovery.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        let spec = try PipelineLoader.load(file: "cart-recovery.yaml", source: text).get()
        #expect(spec.profile.map(\.name.value) == ["carts_24h", "spend_90d", "open_tickets", "email_ok", "push_ok", "tz"])
        #expect(try PipelineCompiler.compile(spec).get().profile.count == 6)
    }
}
