// swift-tools-version:6.0
import PackageDescription

let release = BuildSettingCondition.when(configuration: .release)
let staticRelease: [LinkerSetting] = [
    .unsafeFlags(["-static-stdlib"], release),
    .linkedLibrary("CoreFoundation", release),
    .linkedLibrary("_FoundationICU", release),
    .linkedLibrary("_FoundationCShims", release),
    .linkedLibrary("_FoundationCollections", release),
    .linkedLibrary("stdc++", release),
]

let package = Package(
    name: "cairn",
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .executable(name: "cairn-gen", targets: ["cairn-gen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // libzstd from the system (Debian: libzstd-dev).
        .systemLibrary(
            name: "CZstd",
            path: "Sources/CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        // SSE2 byte classification for the JSON scanner (header-only, inlined into Swift).
        .target(name: "CCairnSIMD", path: "Sources/CCairnSIMD"),
        // The engine: no ArgumentParser, no printing, no exit.
        .target(
            name: "CairnCore",
            dependencies: ["CZstd", "CCairnSIMD", .product(name: "Yams", package: "Yams")],
            // Release builds skip the dynamic exclusivity checks on class properties: on the
            // per-event path (framer, scratch arena) they cost more than the work they guard.
            // Debug builds and the tests keep them.
            swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        // The thin command-line front end. Release builds link the Swift runtime and
        // Foundation statically: the binary needs only libc, libstdc++ and libzstd on the
        // machine it is copied to, and starts in about half the time (no 20 shared libraries
        // to load and relocate). Foundation's static archives name their C libraries here,
        // as `swift build --static-swift-stdlib` would.
        .executableTarget(
            name: "cairn",
            dependencies: ["CairnCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            linkerSettings: staticRelease
        ),
        // Seeded generator of realistic event streams (samples, benchmarks).
        .executableTarget(
            name: "cairn-gen",
            dependencies: ["CairnCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The fuzz targets (fuzz/run builds them with --sanitize fuzzer -DCAIRN_FUZZ); in an
        // ordinary build, a tool that replays saved inputs through them.
        .executableTarget(name: "cairn-fuzz", dependencies: ["CairnCore"]),
        .testTarget(name: "CairnCoreTests", dependencies: ["CairnCore"]),
        .testTarget(name: "CairnCLITests", dependencies: ["CairnCore"], exclude: ["Cases", "Broken"]),
    ],
    swiftLanguageModes: [.v6]
)
