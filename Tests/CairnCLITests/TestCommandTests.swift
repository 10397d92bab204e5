import Foundation
import Testing

/// `cairn test --update` and how test files sit beside pipelines; the reports themselves are
/// golden cases (Cases/test-*).
struct TestCommandTests {
    static let cases = CLI.repoRoot.appendingPathComponent("Tests/CairnCLITests/Cases")

    /// A temporary directory holding the golden cases' pipeline and a copy of `test`.
    func workspace(_ test: String) throws -> (dir: URL, file: URL) {
        let dir = try CLI.temporaryDirectory()
        let shared = dir.appendingPathComponent("_shared")
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.cases.appendingPathComponent("_shared/reminder.yaml"),
                                         to: shared.appendingPathComponent("reminder.yaml"))
        let cases = dir.appendingPathComponent("case")
        try FileManager.default.createDirectory(at: cases, withIntermediateDirectories: true)
        let file = cases.appendingPathComponent("reminder.test.yaml")
        try test.write(to: file, atomically: true, encoding: .utf8)
        return (cases, file)
    }

    @Test("--update rewrites failing records and profiles, keeps passing tests and comments, and the file then passes")
    func update() throws {
        let source = try String(contentsOf: Self.cases.appendingPathComponent("test-fail/reminder.test.yaml"), encoding: .utf8)
        let (dir, file) = try workspace(source)
        let first = try CLI.run(["test", "--update", "reminder.test.yaml"], in: dir)
        // The third test also fails on includes, excludes and a late event, which --update
        // does not touch.
        #expect(first.status == 1, "\(first.out)\(first.err)")
        #expect(first.out.contains("cairn test: 4 tests in 1 file: 1 passed, 1 failed, 2 updated"), "\(first.out)")
        let updated = try String(contentsOf: file, encoding: .utf8)
        // Each test keeps the fields its matchers named; a record already matched keeps its text.
        #expect(updated.contains("""
                  records:
                    - { kind: action, template: reminder, time: 2024-03-04T11:00:00Z }

            """), "\(updated)")
        #expect(updated.contains("""
                  records:
                    - { kind: enter }
                    - { kind: action, template: reminder }

            """), "\(updated)")
        #expect(updated.contains("""
                  profiles:
                    c-1: { carts: 1 }
                    c-3: null
                    c-2: null

            """), "\(updated)")
        #expect(updated.hasPrefix("# Deliberately broken expectations: each must fail, pointing at its own line.\n"))
        #expect(updated.contains("  - name: this one passes\n    events:\n      - { event: page_view, ts: 2024-03-04T10:00:00Z, user_id: c-1 }\n    expect:\n      records: []\n"))
        // Only what --update leaves alone still fails.
        let second = try CLI.run(["test", "reminder.test.yaml"], in: dir)
        #expect(second.status == 1)
        #expect(second.out.contains("no record matches") && second.out.contains("matches what must not happen")
                && second.out.contains("1 late event, expected 0"))
        #expect(!second.out.contains("record 1 differs") && !second.out.contains("profile of"), "\(second.out)")
        // A second update changes nothing.
        _ = try CLI.run(["test", "--update", "reminder.test.yaml"], in: dir)
        #expect(try String(contentsOf: file, encoding: .utf8) == updated)
    }

    @Test("--update records the whole records of a test without expectations")
    func updateNewTest() throws {
        let (dir, file) = try workspace("""
            pipeline: ../_shared/reminder.yaml
            tests:
              - name: new
                events:
                  - { event: add_to_cart, ts: 2024-03-04T10:00:00Z, user_id: c-1, props: { cart_id: k-1 } }
                until: 1d
              # the next test
              - name: other
                events: []

            """)
        let run = try CLI.run(["test", "--update", "reminder.test.yaml"], in: dir)
        #expect(run.status == 0, "\(run.out)\(run.err)")
        #expect(try String(contentsOf: file, encoding: .utf8) == """
            pipeline: ../_shared/reminder.yaml
            tests:
              - name: new
                events:
                  - { event: add_to_cart, ts: 2024-03-04T10:00:00Z, user_id: c-1, props: { cart_id: k-1 } }
                until: 1d
                expect:
                  records:
                    - { kind: action, id: 5f82e4bd935fce6f, time: 2024-03-04T11:00:00Z, customer: c-1, journey: cart, instance: k-1, step: "steps[1]", channel: email, template: reminder, data: { cart: k-1 }, variant: null }
              # the next test
              - name: other
                events: []
                expect:
                  records: []

            """)
        #expect(try CLI.run(["test", "reminder.test.yaml"], in: dir).status == 0)
    }

    @Test("a test without expectations that cannot be edited is reported, not silently passed")
    func updateFlowStyle() throws {
        let (dir, _) = try workspace("""
            pipeline: ../_shared/reminder.yaml
            tests: [ { name: flow, events: [ { event: add_to_cart, ts: 2024-03-04T10:00:00Z, user_id: c-1, props: { cart_id: k } } ], until: 1d } ]
            """)
        let run = try CLI.run(["test", "--update", "reminder.test.yaml"], in: dir)
        #expect(run.status == 1)
        #expect(run.out.contains("cannot update this test: write it and its 'expect' as block mappings"), "\(run.out)")
    }

    @Test("cairn check skips the test files of a directory; cairn test runs only them")
    func filesBesidePipelines() throws {
        let (dir, _) = try workspace("pipeline: ../_shared/reminder.yaml\ntests: []\n")
        try FileManager.default.copyItem(at: Self.cases.appendingPathComponent("_shared/reminder.yaml"),
                                         to: dir.appendingPathComponent("reminder.yaml"))
        let check = try CLI.run(["check", "."], in: dir)
        #expect(check.status == 0)
        #expect(check.err == "cairn: './reminder.yaml' is valid\n")
        let test = try CLI.run(["test", "."], in: dir)
        #expect(test.status == 0)
        #expect(test.out == "ok    ./reminder.test.yaml  (0 tests)\ncairn test: 0 tests in 1 file: 0 passed, 0 failed\n")
    }

    @Test("the same test file gives the same report, byte for byte")
    func deterministic() throws {
        let dir = Self.cases.appendingPathComponent("test-fail")
        let a = try CLI.run(["test", "reminder.test.yaml"], in: dir)
        let b = try CLI.run(["test", "reminder.test.yaml", "--format", "json"], in: dir)
        let c = try CLI.run(["test", "reminder.test.yaml"], in: dir)
        #expect(a.stdout == c.stdout)
        #expect(b.status == 1)
        let report = try JSONSerialization.jsonObject(with: b.stdout) as? [String: Any]
        #expect(report?["failed"] as? Int == 3)
    }

    @Test("a report that cannot be written exits 74 and says why; so do a run's records", arguments: ["test", "run"])
    func unwritableOutput(_ command: String) throws {
        // /dev/full fails every write (ENOSPC), even for root, whom file modes do not stop.
        let args = command == "test"
            ? ["test", "pipelines/cart-recovery.test.yaml"]
            : ["run", "pipelines/cart-recovery.yaml", "samples/journeys.ndjson", "--emit", "all"]
        let run = try CLI.run(args, stdoutPath: "/dev/full")
        #expect(run.status == 74, "\(run.err)")
        #expect(run.err.contains("no space left on device"), "\(run.err)")
    }

    @Test("every scenario pipeline in pipelines/ has tests, and they pass")
    func scenarios() throws {
        let run = try CLI.run(["test", "pipelines"])
        #expect(run.status == 0, "\(run.out)\(run.err)")
        for name in ["app-onboarding", "cart-recovery", "omnichannel-escalation", "post-purchase-care", "win-back"] {
            #expect(run.out.contains("ok    pipelines/\(name).test.yaml"), "no passing tests for \(name): \(run.out)")
        }
    }
}
