// swift-tools-version: 6.2
import PackageDescription

// The commit a release binary is built from: scripts/release sets PGMCP_COMMIT (hex digits, maybe
// "-dirty"); a plain `swift build` leaves it empty and `pgmcp --version` says "development build".
// Only characters a C string literal takes as they are, whatever the variable holds.
let buildCommit = String((Context.environment["PGMCP_COMMIT"] ?? "").filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })

/// Our async functions run on their caller's executor instead of hopping to the generic one on
/// every call and return (SE-0461): a `query` awaits through some seventy of them, and each hop
/// took the task's status lock (see BENCHMARKS.md, "Task switches").
let callerIsolated: [SwiftSetting] = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "pgmcp",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PGClient", targets: ["PGClient"]),
        .library(name: "PGConfig", targets: ["PGConfig"]),
        .library(name: "PGRegistry", targets: ["PGRegistry"]),
        .library(name: "PGMCPServer", targets: ["PGMCPServer"]),
        .executable(name: "pgmcp", targets: ["pgmcp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // JWT and JWKS (RS256, ES256) for the OAuth 2.1 resource server: no hand-written crypto.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        // HTTPS for the issuer's metadata and keys without Foundation's networking (which links libcurl).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Test peer only: its Client speaks to our server over real HTTP.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", exact: "0.12.1"),
    ],
    targets: [
        // libpq, found through pkg-config; `apt-get install libpq-dev` provides it.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // libpg_query: PostgreSQL's own parser outside the server (`apt-get install libpg-query-dev`).
        .systemLibrary(name: "CPGQuery", providers: [.apt(["libpg-query-dev"])]),
        // Linux headers Glibc's module lacks (epoll, prctl), for PGClient's socket reactor.
        .systemLibrary(name: "CLinux"),
        // The version (written once, in PGMCPBuild) and the commit scripts/release bakes in.
        .target(name: "CPGMCPCommit", cSettings: [.define("PGMCP_COMMIT", to: "\"\(buildCommit)\"")]),
        .target(name: "PGMCPBuild", dependencies: ["CPGMCPCommit"]),
        // The JSON value type every layer speaks: rows, config files, MCP messages.
        .target(name: "PGMCPJSON"),
        // Async libpq wrapper that never blocks Swift's cooperative pool.
        // One epoll thread that waits on every socket (PostgreSQL's, stdio's) and can run tasks.
        .target(name: "IOReactor", dependencies: ["CLinux"], swiftSettings: callerIsolated),
        .target(name: "PGClient", dependencies: ["CLibPQ", "IOReactor", "PGMCPJSON"], swiftSettings: callerIsolated),
        // What a statement is, by PostgreSQL's own parser: how many, which kind, what it writes, which
        // functions it calls. Checked once per statement text.
        .target(name: "PGParser", dependencies: ["CPGQuery", "PGMCPJSON"]),
        // Database and server settings from every source the contract names, and the policy the
        // dynamic-connection settings define: host patterns, addresses, name lookup, allowed keywords.
        .target(name: "PGConfig", dependencies: ["PGClient", "PGMCPJSON", "IOReactor"]),

        // ConnectionPoolRegistry: pools per database, work sessions, limits, idle timeouts, cleanup.
        .target(
            name: "PGRegistry",
            dependencies: [
                "PGClient", "PGConfig", "IOReactor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: callerIsolated
        ),
        // Database calls below the MCP line: the query/execute/explain and catalog recipes, result
        // shaping, the type-name cache, database errors, and transactions pinned across calls.
        .target(
            name: "PGDatabaseCalls",
            dependencies: ["PGRegistry", "PGClient", "PGConfig", "PGMCPJSON", "PGParser", .product(name: "Logging", package: "swift-log")],
            swiftSettings: callerIsolated
        ),
        // OAuth 2.1 resource server: bearer JWTs checked against the issuer's keys, into principals.
        .target(
            name: "PGMCPOAuth",
            dependencies: [
                "PGConfig", "PGMCPJSON", "IOReactor", .product(name: "JWTKit", package: "jwt-kit"), .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // A throwaway PostgreSQL cluster from the system's binaries: for `pgmcp demo` and the tests.
        .target(name: "PGCluster"),
        // `pgmcp demo`: two sample databases on a throwaway cluster, served over MCP.
        .target(name: "PGMCPDemo", dependencies: ["PGCluster", "IOReactor", "PGClient", "PGConfig", "PGMCPServer", .product(name: "Logging", package: "swift-log")]),
        // The MCP protocol layer: JSON-RPC, Streamable HTTP on Hummingbird, stdio, the tool catalog.
        .target(
            name: "PGMCPServer",
            dependencies: [
                "PGDatabaseCalls", "PGRegistry", "PGConfig", "IOReactor", "PGMCPJSON", "PGMCPOAuth", "PGMCPBuild",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: callerIsolated
        ),
        // The command line: serve, check, databases (and demo).
        .executableTarget(
            name: "pgmcp",
            dependencies: [
                "PGMCPServer", "PGConfig", "PGRegistry", "PGClient", "PGMCPDemo", "PGMCPBuild",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Measures PGClient's non-blocking driver against blocking libpq on dispatch queues.
        .executableTarget(name: "pgclient-driver-bench", dependencies: ["PGClient", "IOReactor", "CLibPQ"], path: "Benchmarks/pgclient-driver-bench"),

        // Shared test helpers: where the throwaway PostgreSQL of scripts/test lives.
        .target(
            name: "TestSupport", dependencies: ["PGClient", "PGConfig", "PGMCPJSON", "PGCluster", "IOReactor", .product(name: "JWTKit", package: "jwt-kit")],
            path: "Tests/TestSupport"),
        .testTarget(name: "PGMCPJSONTests", dependencies: ["PGMCPJSON"]),
        .testTarget(name: "IOReactorTests", dependencies: ["IOReactor"]),
        .testTarget(name: "PGParserTests", dependencies: ["PGParser"]),
        .testTarget(name: "PGClientTests", dependencies: ["PGClient", "IOReactor", "TestSupport"]),
        .testTarget(name: "PGDatabaseCallsTests", dependencies: ["PGDatabaseCalls", "TestSupport"]),
        .testTarget(name: "PGMCPOAuthTests", dependencies: ["PGMCPOAuth", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")]),
        .testTarget(name: "PGConfigTests", dependencies: ["PGConfig", "TestSupport"]),
        // Test helpers that speak MCP: a server in the test process, raw HTTP, the swift-sdk client.
        .target(
            name: "MCPTestSupport",
            dependencies: [
                "PGMCPServer", "PGRegistry", "PGConfig", "PGMCPJSON", "TestSupport",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/MCPTestSupport"),
        .testTarget(
            name: "PGMCPServerTests",
            dependencies: [
                "PGMCPServer", "TestSupport", "MCPTestSupport", "PGMCPJSON",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // End to end: the real `pgmcp` binary as a child process, the Python SDK, scale-out, the demo.
        .testTarget(
            name: "PGMCPEndToEndTests",
            dependencies: [
                "MCPTestSupport", "TestSupport", "PGMCPJSON", "PGClient",
                .product(name: "MCP", package: "swift-sdk"),
            ],
            // The Python SDK's test clients, run by path (not resources).
            exclude: ["Python"]
        ),
        .testTarget(
            name: "PGRegistryTests",
            dependencies: ["PGRegistry", "TestSupport", .product(name: "MetricsTestKit", package: "swift-metrics")]
        ),
    ]
)
