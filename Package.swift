// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "pgcellar",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pgcellar", targets: ["pgcellar"]),
        .library(name: "PostgresClient", targets: ["PostgresClient"]),
        .library(name: "Cellar", targets: ["Cellar"]),
        /// For Tests/Fuzz, a package of its own that reads archives from memory.
        .library(name: "CellarSupport", targets: ["CellarSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: - C libraries
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        .systemLibrary(
            name: "CLibCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        /// glibc extras Swift's Glibc module leaves out (malloc tuning, thread names).
        .systemLibrary(name: "CGlibcExtras"),

        // MARK: - Libraries
        /// libpq in Swift; knows nothing of pgcellar.
        .target(
            name: "PostgresClient",
            dependencies: [
                "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// zstd frames, SHA-256, XXH3 and random bytes, atomic files, blocking threads.
        .target(
            name: "CellarSupport",
            dependencies: ["CZstd", "COpenSSL", "CXXHash", "CGlibcExtras"]
        ),
        /// Object stores for the backup repository: a directory, or S3 over libcurl.
        .target(
            name: "ObjectStore",
            dependencies: ["CellarSupport", "CLibCurl", "COpenSSL"]
        ),
        /// The toolkit: configuration, provisioning, rotation, Kubernetes output,
        /// the archive format, export and restore.
        .target(
            name: "Cellar",
            dependencies: [
                "PostgresClient",
                "CellarSupport",
                "ObjectStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        /// The command types, in a library so tests can run them in-process.
        .target(
            name: "CellarCommands",
            dependencies: [
                "Cellar",
                "PostgresClient",
                "CellarSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgcellar",
            dependencies: ["CellarCommands", "CellarSupport"]
        ),

        // MARK: - Tests
        .testTarget(
            name: "PostgresClientTests",
            dependencies: ["PostgresClient"]
        ),
        .testTarget(
            name: "CellarSupportTests",
            dependencies: ["CellarSupport"]
        ),
        .testTarget(
            name: "CellarTests",
            dependencies: [
                "Cellar", "CellarSupport", "CellarCommands", "ObjectStore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: ["ObjectStore", "CellarSupport"],
            exclude: ["SigV4TestSuite"]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Cellar", "CellarSupport", "PostgresClient", "CellarCommands", "ObjectStore",
                           .product(name: "Yams", package: "Yams")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
