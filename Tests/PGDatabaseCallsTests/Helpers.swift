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
