import Logging
import PGConfig
import PGDatabaseCalls
import PGRegistry

/// What every tool handler shares: the registry (sessions) and the database calls.
public final class ServerContext: Sendable {
    public let registry: ConnectionPoolRegistry
    public let calls: DatabaseCalls
    public let logger: Logger

    public init(registry: ConnectionPoolRegistry, logger: Logger) {
        self.registry = registry
        self.calls = DatabaseCalls(registry: registry, logger: logger)
        self.logger = logger
    }

    public var settings: ServerSettings { registry.configuration.server }
}
