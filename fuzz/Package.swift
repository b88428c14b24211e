// swift-tools-version:6.1
import Foundation
import PackageDescription

// libFuzzer targets for Parley's parsers of outside input; `scripts/fuzz` builds and runs them.
// Each executable is one fuzz entry point (`LLVMFuzzerTestOneInput`), fed from `corpus/NAME/`.
//
// ParleyCore comes from the root package. ParleyAdapters is not linked: it brings the engine, the
// store, NIO, NIOSSL, AsyncHTTPClient and GRDB, which would double the cold sanitizer build. The
// adapters' pure parsers are compiled here instead, as `ParleyAdapterParsers`, from symbolic links
// to their files in Sources/ParleyAdapters (they need only Foundation, Crypto and ParleyCore).

// A path dependency's identity is its folder's name, whatever the checkout is called.
let parley = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: "fuzz-\(name)",
        dependencies: ["FuzzSupport"]
            + products.map { product -> Target.Dependency in
                switch product {
                case "ParleyCore": return .product(name: product, package: parley)
                case "Yams": return .product(name: product, package: "Yams")
                default: return .target(name: product)
                }
            },
        path: "Sources/fuzz-\(name)"
    )
}

let package = Package(
    name: "ParleyFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        .target(
            name: "ParleyAdapterParsers",
            dependencies: [
                .product(name: "ParleyCore", package: parley), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        fuzzTarget("address", ["ParleyCore"]),
        fuzzTarget("command", ["ParleyCore"]),
        fuzzTarget("condition", ["ParleyCore"]),
        fuzzTarget("config", ["ParleyCore", "Yams"]),
        fuzzTarget("cron", ["ParleyCore"]),
        fuzzTarget("hooks", ["ParleyCore"]),
        fuzzTarget("irc", ["ParleyAdapterParsers"]),
        fuzzTarget("matrix", ["ParleyCore", "ParleyAdapterParsers"]),
        fuzzTarget("slack", ["ParleyCore", "ParleyAdapterParsers"]),
    ],
    swiftLanguageModes: [.v6]
)
