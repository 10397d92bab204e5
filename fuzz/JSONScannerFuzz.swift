// libFuzzer entry point for the JSON scanner and the event-time parsers; built by fuzz/run
// together with Sources/CairnCore/JSON (no package target: libFuzzer supplies `main`).
//
// Beyond "never crashes", it checks what the scanner promises on any input: a valid object
// yields spans that lie inside the line, in the right shape for their kind; scanning is
// deterministic; scanning the line with a trailing space gives the same outcome.

nonisolated(unsafe) let scanner: JSONScanner = {
    var paths = FieldPaths()
    for path in ["event", "ts", "user_id", "props.price", "props.items", "a", "a.b", "a.b.c", "x.y"] {
        _ = paths.intern(path.split(separator: ".").map(String.init))
    }
    return JSONScanner(paths: paths, limits: JSONLimits(maxDepth: 64))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let line = UnsafeRawBufferPointer(start: data, count: size)
    let count = scanner.fieldCount
    let values = UnsafeMutablePointer<ScannedValue>.allocate(capacity: count)
    values.initialize(repeating: .absent, count: count)
    defer { values.deallocate() }
    let outcome = scanner.scan(line, into: values)
    if case .event = outcome {
        for i in 0..<count where values[i].isPresent {
            let v = values[i]
            precondition(v.start >= 0 && v.start <= v.end && Int(v.end) <= size, "span outside the line")
            let first = data[Int(v.start)]
            switch v.kind {
            case .string: precondition(data[Int(v.end)] == 0x22 && data[Int(v.start) - 1] == 0x22, "string span")
            case .object: precondition(first == 0x7B && data[Int(v.end) - 1] == 0x7D, "object span")
            case .array: precondition(first == 0x5B && data[Int(v.end) - 1] == 0x5D, "array span")
            case .number: precondition(first == 0x2D || (first >= 0x30 && first <= 0x39), "number span")
            default: break
            }
        }
    }
    let again = UnsafeMutablePointer<ScannedValue>.allocate(capacity: count)
    again.initialize(repeating: .absent, count: count)
    defer { again.deallocate() }
    precondition(scanner.scan(line, into: again) == outcome, "scan is not deterministic")
    var padded = Array(line)
    padded.append(0x20)
    let paddedOutcome = padded.withUnsafeBytes { scanner.scan($0, into: again) }
    switch (outcome, paddedOutcome) {
    case (.event, .event), (.notObject, .notObject), (.invalid, .invalid): break
    default: precondition(size == 0, "trailing whitespace changed the outcome")
    }
    _ = EventTime.parseRFC3339(line)
    _ = EventTime.parseEpochSeconds(line)
    _ = EventTime.parseEpochMilliseconds(line)
    return 0
}
