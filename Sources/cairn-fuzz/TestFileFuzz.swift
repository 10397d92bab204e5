import CairnCore

/// Any bytes as a `cairn test` file: loading never crashes, every diagnostic points inside the
/// file, every inline event is one line of valid JSON, and each event written back as YAML
/// flow (what `--update` writes) loads as the same JSON.
enum TestFileFuzz {
    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        let source = String(decoding: bytes, as: UTF8.self)
        switch PipelineTestFile.load(file: "fuzz.test.yaml", source: source) {
        case .failure(let errors):
            precondition(!errors.diagnostics.isEmpty, "a failure without a diagnostic")
            checkPositions(errors.diagnostics, source: source)
        case .success(let file):
            for test in file.tests {
                guard case .events(let lines) = test.input else { continue }
                for line in lines where line.value.first == "{" {
                    // Mappings become JSON; a block of NDJSON is the user's own text.
                    guard let json = JSONTree.parse(Array(line.value.utf8)) else { continue }
                    let flow = RecordMatch.yamlFlow(json)
                    let again = PipelineTestFile.load(file: "again.test.yaml",
                                                      source: "tests:\n  - name: t\n    events:\n      - \(flow)\n")
                    guard case .success(let reloaded) = again, case .events(let back) = reloaded.tests[0].input else {
                        preconditionFailure("YAML flow of \(line.value) does not load: \(flow)")
                    }
                    precondition(back.first?.value == json.text, "\(json.text) came back as \(back.first?.value ?? "nothing")")
                }
                for matcher in test.expect.records ?? [] {
                    precondition(JSONTree.parse(Array(matcher.fields.text.utf8)) != nil, "a matcher that is not JSON")
                }
            }
        }
    }
}
