import CairnCore

/// Any bytes as a CEL expression: parsing and compiling never crash, diagnostics lie inside
/// the text, and a program that compiles evaluates on sample events without crashing.
enum ExprFuzz {
    /// Events with the fields fuzzed expressions tend to name: strings with escapes, numbers
    /// at the edges of their types, nulls, objects and lists.
    static let events: [String] = [
        #"{"event":"purchase","user_id":"c-1","a":"x","b":2,"props":{"price":19.5,"qty":2,"sku":"A-1","note":"caf\u00e9","flag":true,"none":null,"tags":["t"],"big":9223372036854775807,"neg":-0.5,"huge":1e300}}"#,
        #"{"event":"","user_id":"","a":{"b":{"c":[1,2,{}]}},"b":-9223372036854775808,"c":18446744073709551615,"d":1e-400,"x":"\ud83d\ude00\"\\"}"#,
        #"{"event":"add_to_cart","user_id":12345,"a":null,"b":"1","c":0,"d":-0,"props":[],"e":1E+2}"#,
    ]

    static func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        let length = text.utf8.count
        func inside(_ range: SourceRange, _ what: String) {
            precondition(range.start >= 0 && range.start <= range.end && range.end <= length,
                         "\(what) range \(range) outside an expression of \(length) bytes")
        }
        if case .failure(let diagnostic) = ExprParser.parse(text) { inside(diagnostic.range, "parse diagnostic") }

        var fields = FieldPaths()
        let type = fields.intern(["event"])
        let customer = fields.intern(["user_id"])
        var env = ExprEnvironment(fields: fields, typeField: type, customerField: customer)
        let program: Program
        switch ExprCompiler.compile(text, in: &env) {
        case .failure(let diagnostics):
            precondition(!diagnostics.items.isEmpty, "a failed compile without diagnostics")
            for item in diagnostics.items { inside(item.range, "compile diagnostic") }
            return
        case .success(let p): program = p
        }
        let scanner = JSONScanner(paths: env.fields)
        var values = [ScannedValue](repeating: .absent, count: max(1, scanner.fieldCount))
        let scratch = EvalScratch()
        for event in events {
            var line = Array(event.utf8)
            line.withUnsafeMutableBytes { raw in
                let bytes = UnsafeRawBufferPointer(raw)
                values.withUnsafeMutableBufferPointer { table in
                    guard scanner.scan(bytes, into: table.baseAddress!) == .event else {
                        preconditionFailure("a sample event does not scan")
                    }
                    let activation = Activation(line: bytes, fields: UnsafePointer(table.baseAddress!),
                                                eventTime: 1_709_292_720_000_000_000)
                    let value = program.evaluate(activation, scratch: scratch)
                    if case .error(let error) = value {
                        _ = program.message(for: error)
                    } else {
                        _ = program.jsonText(of: value, activation: activation, scratch: scratch)
                    }
                }
            }
        }
    }
}
