// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "pgmcp",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PGClient", targets: ["PGClient"]),
        .library(name: "PGConfig", targets: ["PGConfig"]),
        .library(name: "PGRegistry", targets: ["PGRegistry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        // libpq, found through pkg-config; `apt-get install libpq-dev` provides it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The JSON value type every layer speaks: rows, config files, MCP messages.
        .target(name: "PGMCPJSON"),
        // Async libpq wrapper that never blocks Swift's cooperative pool.
        .target(name: "PGClient", dependencies: ["CLibPQ", "PGMCPJSON"]),
        // Database and server settings from every source the contract names.
        .target(name: "PGConfig", dependencies: ["PGClient", "PGMCPJSON"]),

        // ConnectionPoolRegistry: pools per database, work sessions, limits, idle timeouts, cleanup.
        .target(
            name: "PGRegistry",
            dependencies: [
                "PGClient", "PGConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Measures PGClient's non-blocking driver against blocking libpq on dispatch queues.
        .executableTarget(name: "pgclient-driver-bench", dependencies: ["PGClient", "CLibPQ"]),

        // Shared test helpers: where the throwaway PostgreSQL of scripts/test lives.
        .target(name: "TestSupport", dependencies: ["PGClient", "PGConfig", "PGMCPJSON"], path: "Tests/TestSupport"),
        .testTarget(name: "PGMCPJSONTests", dependencies: ["PGMCPJSON"]),
        .testTarget(name: "PGClientTests", dependencies: ["PGClient", "TestSupport"]),
        .testTarget(name: "PGConfigTests", dependencies: ["PGConfig", "TestSupport"]),
        .testTarget(
            name: "PGRegistryTests",
            dependencies: ["PGRegistry", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
    ]
)
