import Testing
@testable import CairnCore

/// JSONTree reads the small JSON texts cairn writes for itself (checkpoint records, layout
/// descriptions); a damaged or foreign text must come back nil, never crash.
struct JSONTreeTests {
    @Test("values round-trip through text: strings with escapes, numbers kept as written, order kept")
    func roundTrip() {
        let text = #"{"a":[1,-2.5e3,true,false,null],"é\"\\\n":"x\u0001y","big":18446744073709551615,"o":{}}"#
        let tree = JSONTree.parse(Array(text.utf8))
        #expect(tree != nil)
        #expect(tree?["big"] == .number("18446744073709551615"))
        #expect(tree?["é\"\\\n"]?.string == "x\u{1}y")
        #expect(tree?["a"]?.array?.count == 5)
        #expect(tree.map { JSONTree.parse(Array($0.text.utf8)) } == tree)
        #expect(JSONTree.parse(Array(" [ ] ".utf8)) == .array([]))
    }

    @Test("anything that is not one JSON value is nil", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "nul", "1 2", "\"\\x\"", "\"a\u{1}\"", "--1", "[\"\\ud800\"]",
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func invalid(text: String) {
        #expect(JSONTree.parse(Array(text.utf8)) == nil)
    }

    @Test("a checkpoint record survives its own text, and a damaged one is refused")
    func checkpointRecord() {
        var record = Checkpoint()
        record.pipeline = 0xDEAD_BEEF
        record.clock = -5
        record.events = 7
        record.inputs = [Checkpoint.Input(path: "a \"b\".zst", size: 9, head: 1, headBytes: 9, offset: 4, line: 1, done: false)]
        #expect(Checkpoint(json: record.json) == record)
        var damaged = record.json
        damaged.removeLast()
        #expect(Checkpoint(json: damaged) == nil)
    }
}
