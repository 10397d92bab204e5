import Testing
@testable import CairnCore

/// The type gates give the same masks whether the scan numbered the event's type
/// (`EventTypes`, one load) or the gate compares the type's bytes itself.
struct TypeGateTests {
    static let source = JourneyCompileTests.header + """
        profile:
          carts:  { count: type == "add_to_cart" }
          views:  { count: type == "page_view" || type == "search" }
          spend:  { sum: event.total, where: type == "purchase" }
          any:    { count: event.total > 0 }
        journeys:
          - name: a
            entry: type == "add_to_cart"
            exit: type == "purchase"
            steps: [ { wait_for: { event: type == "checkout", timeout: 1h } } ]
          - name: b
            entry: type == "page_view" && profile.views > 3
            steps: [ { wait: 1h } ]
          - name: c
            entry: event.total > 10
            steps: [ { wait: 1h } ]
        """

    @Test("a numbered type and a compared one give every gate the same mask, for every kind of type")
    func numberedMatchesCompared() throws {
        let pipeline = try JourneyCompileTests.compile(Self.source)
        var gates = [
            TypeGate(typeField: pipeline.typeField, members: pipeline.profile.enumerated().map { i, field in
                (UInt64(1) << UInt64(i), field.kind == .count ? [field.value, field.minus].compactMap { $0 } : field.filter.map { [$0] })
            }),
            TypeGate(typeField: pipeline.typeField, members: pipeline.journeys.enumerated().map {
                (UInt64(1) << UInt64($0.offset), [$0.element.entry])
            }),
            EventTypeFilter.gate(pipeline),
        ]
        defer { for gate in gates { gate.deallocate() } }
        let types = EventTypes(typeField: pipeline.typeField, gates: gates)
        #expect(types.literals.map { String(decoding: $0, as: UTF8.self) }
                == ["add_to_cart", "checkout", "page_view", "purchase", "search"])
        for k in gates.indices { gates[k].number(by: types) }

        let scanner = JSONScanner(paths: pipeline.fields)
        let lines = [
            #"{"event":"add_to_cart","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"checkout","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"page_view","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"purchase","user_id":"u","ts":"2024-03-01T00:00:00Z","total":3}"#,
            #"{"event":"search","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"login","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"page_vie","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"purchase\u0073","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":"pag\u0065_view","user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"event":7,"user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
            #"{"user_id":"u","ts":"2024-03-01T00:00:00Z"}"#,
        ]
        var numbers: [UInt8] = []
        for text in lines {
            let bytes = Array(text.utf8)
            var values = [ScannedValue](repeating: .absent, count: pipeline.fields.count)
            bytes.withUnsafeBytes { line in
                values.withUnsafeMutableBufferPointer { fields in
                    _ = scanner.scan(line, into: fields.baseAddress!)
                    let number = types.number(UnsafePointer(fields.baseAddress!), line: line)
                    numbers.append(number)
                    var numbered = Activation(line: line, fields: UnsafePointer(fields.baseAddress!))
                    numbered.typeNumber = number
                    let compared = Activation(line: line, fields: UnsafePointer(fields.baseAddress!))
                    for (k, gate) in gates.enumerated() {
                        #expect(gate.mask(numbered) == gate.mask(compared), "gate \(k), line \(text)")
                    }
                }
            }
        }
        // Literals by number; 0 for other strings; unnumbered for escaped, non-string, absent.
        let u = EventTypes.unnumbered
        #expect(numbers == [1, 2, 3, 4, 5, 0, 0, 0, u, u, u, u])
    }

    @Test("conditions on the type read the scan's copy of a numbered type and decide as they do on the line")
    func typeTextMatchesLine() throws {
        let source = Self.source + """

              - name: d
                entry: type != "search" && event.event != "login" && (type == "purchase" || type == "")
                steps: [ { wait: 1h } ]
            """
        let pipeline = try JourneyCompileTests.compile(source)
        let gates = [
            TypeGate(typeField: pipeline.typeField, members: pipeline.journeys.enumerated().map {
                (UInt64(1) << UInt64($0.offset), [$0.element.entry])
            }),
            EventTypeFilter.gate(pipeline),
        ]
        defer { for gate in gates { gate.deallocate() } }
        let types = EventTypes(typeField: pipeline.typeField, gates: gates)
        let scanner = JSONScanner(paths: pipeline.fields)
        let scratch = EvalScratch()
        var compared = 0
        for type in ["add_to_cart", "checkout", "page_view", "purchase", "search", "login", "", "purchas"] {
            let bytes = Array(#"{"event":"\#(type)","user_id":"u","ts":"2024-03-01T00:00:00Z","total":20}"#.utf8)
            var values = [ScannedValue](repeating: .absent, count: pipeline.fields.count)
            bytes.withUnsafeBytes { line in
                values.withUnsafeMutableBufferPointer { fields in
                    _ = scanner.scan(line, into: fields.baseAddress!)
                    let plain = Activation(line: line, fields: UnsafePointer(fields.baseAddress!))
                    var numbered = plain
                    numbered.typeNumber = types.number(UnsafePointer(fields.baseAddress!), line: line)
                    guard numbered.typeNumber != 0 && numbered.typeNumber != EventTypes.unnumbered else { return }
                    numbered.typeField = Int32(pipeline.typeField)
                    numbered.typeText = types.text(numbered.typeNumber)
                    for program in pipeline.programs where program.resultType == .bool {
                        #expect("\(program.evaluate(numbered, scratch: scratch))" == "\(program.evaluate(plain, scratch: scratch))",
                                "type \(type)")
                        #expect(program.storage.matches(numbered, scratch: scratch) == program.storage.matches(plain, scratch: scratch),
                                "type \(type)")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 20)
    }
}
