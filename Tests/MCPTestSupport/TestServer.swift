import Foundation
import Hummingbird
import Logging
import PGConfig
import PGMCPServer
import PGRegistry
import TestSupport

/// A pgmcp HTTP server inside the test process, on a free port, over the test cluster.
public final class TestServer: Sendable {
    public let registry: ConnectionPoolRegistry
    public let port: Int
    private let task: Task<Void, any Error>

    public var url: URL { URL(string: "http://127.0.0.1:\(port)/mcp")! }
    public var base: String { "http://127.0.0.1:\(port)" }

    private init(registry: ConnectionPoolRegistry, port: Int, task: Task<Void, any Error>) {
        self.registry = registry
        self.port = port
        self.task = task
    }

    public static func start(databases: [DatabaseConfig], _ tweak: (inout ServerSettings) -> Void = { _ in }) async throws -> TestServer {
        var settings = ServerSettings()
        settings.port = 0
        settings.acquireTimeout = .seconds(5)
        tweak(&settings)
        let configuration = Configuration(databases: databases, source: "test", server: settings)
        var logger = Logger(label: "pgmcp-test")
        logger.logLevel = .warning
        let registry = ConnectionPoolRegistry(configuration: configuration, logger: logger, applicationName: TestDatabase.uniqueName("srv"))
        let dispatcher = MCPDispatcher(context: ServerContext(registry: registry, logger: logger))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        // Cancelling the server task (how tests stop it) makes Hummingbird log a benign "Already closed".
        var appLogger = logger
        appLogger.logLevel = .critical
        let app = HTTPServer.makeApplication(dispatcher: dispatcher, metrics: nil, logger: appLogger) { port in
            continuation.yield(port)
            continuation.finish()
        }
        // On the event loops, as `pgmcp serve` runs it.
        let task = Task {
            try await ServerRuntime.onEventLoops {
                try await withThrowingDiscardingTaskGroup { group in
                    // The pools' connects and closes, until `stop()` shuts the registry down.
                    group.addTask { await registry.poolGroup.run() }
                    try await app.runService(gracefulShutdownSignals: [])
                }
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return TestServer(registry: registry, port: port, task: task)
    }

    public func stop() async {
        await registry.shutdown()
        task.cancel()
        _ = try? await task.value
    }

    /// Runs `body` with a server on `databases`, stopping it afterwards whatever happens.
    public static func with(
        databases: [DatabaseConfig], _ tweak: (inout ServerSettings) -> Void = { _ in }, _ body: (TestServer) async throws -> Void
    ) async throws {
        let server = try await start(databases: databases, tweak)
        do {
            try await body(server)
            await server.stop()
        } catch {
            await server.stop()
            throw error
        }
    }
}

/// A scratch database with a small related schema, and two entries on it: `dev` (read-write)
/// and `ro` (read-only), for one suite.
public struct Fixture: Sendable {
    public let databaseName: String
    public var dev: DatabaseConfig
    public var ro: DatabaseConfig

    /// The tables, types and data every server test finds.
    public static let statements = [
        "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE)",
        "COMMENT ON TABLE customers IS 'People who order'",
        "COMMENT ON COLUMN customers.email IS 'Contact address'",
        "CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped')",
        """
        CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id),
        total numeric(10,2) CHECK (total >= 0), status order_status NOT NULL DEFAULT 'new',
        created_at timestamptz DEFAULT now())
        """,
        "CREATE INDEX orders_customer_idx ON orders (customer_id)",
        "INSERT INTO customers (name, email) SELECT 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 50) g",
        "INSERT INTO orders (customer_id, total) SELECT (g % 50) + 1, g * 1.5 FROM generate_series(1, 200) g",
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100",
        "CREATE SCHEMA reporting",
        "CREATE TABLE reporting.daily (day date PRIMARY KEY, revenue numeric)",
        "ANALYZE",
    ]

    public static func make() async throws -> Fixture {
        let name = try await TestDatabase.createScratchDatabase(prefix: "srv")
        try await TestDatabase.withConnection(database: name) { c in
            for statement in statements { try await c.command(statement) }
        }
        return Fixture(
            databaseName: name,
            dev: try TestDatabase.config(id: "dev", database: name, readOnly: false),
            ro: try TestDatabase.config(id: "ro", database: name, readOnly: true))
    }

    public func drop() async throws { try await TestDatabase.dropDatabase(databaseName) }

    /// Runs `body` with a fresh fixture (its two entries changed by `entries` first) and a server on
    /// both entries; stops the server and drops the fixture afterwards whatever happens.
    public static func withServer(
        entries: (inout Fixture) -> Void = { _ in }, settings: (inout ServerSettings) -> Void = { _ in },
        _ body: (TestServer, Fixture) async throws -> Void
    ) async throws {
        var fixture = try await Fixture.make()
        entries(&fixture)
        do {
            try await TestServer.with(databases: [fixture.dev, fixture.ro], settings) { try await body($0, fixture) }
            try await fixture.drop()
        } catch {
            try? await fixture.drop()
            throw error
        }
    }
}
