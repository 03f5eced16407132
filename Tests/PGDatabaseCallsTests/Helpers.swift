import Logging
import PGConfig
import PGDatabaseCalls
import PGRegistry
import TestSupport

/// The database calls over a registry of `entries`, its pools run in the background (until the
/// test shuts the registry down: `calls.registry.shutdown()`).
func testCalls(
    _ entries: [DatabaseConfig], settings: ServerSettings = ServerSettings(), prefix: String,
    clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
) -> DatabaseCalls {
    let registry = ConnectionPoolRegistry(
        configuration: Configuration(databases: entries, source: "test", server: settings), applicationName: TestDatabase.uniqueName(prefix),
        clock: clock)
    Task { await registry.poolGroup.run() }
    return DatabaseCalls(registry: registry, logger: Logger(label: "test"))
}

/// Runs `body` with the calls over one read-only entry on a scratch database that `setup` filled
/// (as the superuser), and a session; shuts the registry down and drops the database afterwards,
/// whatever happens.
func withScratchCalls(
    prefix: String, setup: [String] = [], _ body: (DatabaseCalls, WorkSession, String) async throws -> Void
) async throws {
    let database = try await TestDatabase.createScratchDatabase(prefix: prefix)
    let calls = testCalls([try TestDatabase.config(id: "main", database: database, readOnly: true)], prefix: prefix)
    do {
        try await TestDatabase.withConnection(database: database) { connection in
            for statement in setup { try await connection.command(statement) }
        }
        try await body(calls, try calls.registry.createSession(), database)
    } catch {
        await calls.registry.shutdown()
        try? await TestDatabase.dropDatabase(database)
        throw error
    }
    await calls.registry.shutdown()
    try await TestDatabase.dropDatabase(database)
}
