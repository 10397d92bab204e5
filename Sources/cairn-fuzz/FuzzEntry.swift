// The fuzz targets of cairn, in one executable.
//
// Built by fuzz/run with `swift build --sanitize fuzzer --sanitize address -Xswiftc -DCAIRN_FUZZ`:
// libFuzzer then supplies `main` and calls `LLVMFuzzerTestOneInput`, and CAIRN_FUZZ_TARGET
// (`expr`, `pipeline` or `tests`) says which target runs. In an ordinary build (`swift build`,
// `swift test`) the same checks are a replay tool instead, for a crash found earlier:
//
//     .build/debug/cairn-fuzz pipeline fuzz/crashes/pipeline-*
//
// which runs each file through the target once and prints its verdict.
import CairnCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One fuzz target: any bytes in, checks of what the code under test promises.
enum FuzzTarget: String, CaseIterable {
    case expr, pipeline, tests

    func run(_ bytes: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .expr: ExprFuzz.run(bytes)
        case .pipeline: PipelineFuzz.run(bytes)
        case .tests: TestFileFuzz.run(bytes)
        }
    }
}

/// Writes a message to standard error.
func complain(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

#if CAIRN_FUZZ

/// The target named by CAIRN_FUZZ_TARGET, read once.
let selectedTarget: FuzzTarget = {
    let name = getenv("CAIRN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        complain("cairn-fuzz: set CAIRN_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n")
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}
#else

/// Replays inputs through a target without libFuzzer: `cairn-fuzz TARGET FILE...`.
@main
struct FuzzReplay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let first = args.first, let target = FuzzTarget(rawValue: first), args.count > 1 else {
            complain("""
                usage: cairn-fuzz expr|pipeline|tests FILE...
                Replays inputs through a fuzz target. To fuzz, use fuzz/run (it builds this
                target with --sanitize fuzzer and -DCAIRN_FUZZ).

                """)
            exit(64)
        }
        for path in args.dropFirst() {
            guard let file = fopen(path, "rb") else {
                complain("cairn-fuzz: cannot open '\(path)'\n")
                exit(66)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = fread(&chunk, 1, chunk.count, file)
                if n == 0 { break }
                bytes.append(contentsOf: chunk[0..<n])
            }
            fclose(file)
            bytes.withUnsafeBufferPointer { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif
