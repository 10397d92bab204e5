import Testing
@testable import CairnCore

/// `cairn diff`'s comparison: records paired by id, counted per group.
@Suite("record diff")
struct RecordDiffTests {
    static func record(_ id: String, time: String = "2024-03-04T10:00:00Z", customer: String = "c-1",
                       step: String = "steps[0]", kind: String = "action", template: String = "t",
                       reason: String? = nil) -> String {
        #"{"kind":"\#(kind)","id":"\#(id)","time":"\#(time)","customer":"\#(customer)","journey":"j","instance":null,"step":"\#(step)","channel":"email","template":"\#(template)","variant":null"#
            + (reason.map { #","reason":"\#($0)""# } ?? "") + "}"
    }

    @Test("the same records in any order are no difference")
    func identical() {
        let a = [Self.record("1"), Self.record("2", customer: "c-2")]
        let diff = RecordDiff.compare(old: a, new: a.reversed())
        #expect(diff.isEmpty && diff.groups.isEmpty && diff.customers == 0)
        #expect(diff.before == 2 && diff.after == 2)
    }

    @Test("same id and other text is changed; ids on one side only are removed or added; groups count both sides")
    func changes() {
        let old = [Self.record("1", template: "a"), Self.record("2", customer: "c-2"),
                   Self.record("3", time: "2024-03-04T09:00:00.5Z", customer: "c-3")]
        let new = [Self.record("1", template: "b"), Self.record("3", time: "2024-03-04T09:00:00.5Z", customer: "c-3"),
                   Self.record("4", time: "2024-03-04T09:00:00Z", customer: "c-4", kind: "skip", reason: "frequency_cap")]
        let diff = RecordDiff.compare(old: old, new: new)
        #expect((diff.changed, diff.removed, diff.added) == (1, 1, 1))
        #expect(diff.customers == 3)
        // Earliest first, by time (09:00:00 before 09:00:00.5 before 10:00).
        #expect(diff.changes.map { ($0.before ?? $0.after!).id } == ["4", "1", "2"])
        #expect(diff.changes[1].before?.template == "a" && diff.changes[1].after?.template == "b")
        let groups = diff.groups.map { "\($0.group.kind) \($0.group.template) \($0.before)→\($0.after)" }
        #expect(groups == ["action a 1→0", "action b 0→1", "action t 2→1", "skip frequency_cap t 0→1"])
    }
}
