// swift-tools-version:6.0
import PackageDescription

// A libFuzzer target over pgcellar's archive readers, in a package of its own so
// that `-sanitize=fuzzer` never touches the normal build. scripts/fuzz.sh
// builds and runs it.
//
// The main package is a path dependency; SwiftPM names a path dependency after
// its directory (the checkout's name, e.g. "pgcellar" or a worktree's), so the
// manifest looks the name up rather than spelling it.
let root = Context.packageDirectory + "/../.."
let rootName = String(Context.packageDirectory.split(separator: "/").dropLast(2).last ?? "pgcellar").lowercased()

let package = Package(
    name: "pgcellar-fuzz",
    dependencies: [
        .package(path: root),
    ],
    targets: [
        .executableTarget(
            name: "ArchiveFuzzer",
            dependencies: [
                .product(name: "Cellar", package: rootName),
                .product(name: "CellarSupport", package: rootName),
            ],
            // libFuzzer supplies main(); the target only defines the
            // LLVMFuzzerTestOneInput entry point.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
