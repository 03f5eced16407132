import Logging
import PGClient
import PGConfig
import PGMCPJSON
import PGRegistry

/// Every call that touches a database, below the MCP line: the recipes of `query`, `execute`,
/// `explain` and the catalog reads, the shaping of their results, and the errors they raise. The
/// server maps a tool's arguments to one of these and its answer to JSON; it never sees a
/// connection.
public final class DatabaseCalls: Sendable {
    public let registry: ConnectionPoolRegistry
    public let logger: Logger
    let typeNames = TypeNameCache()

    public init(registry: ConnectionPoolRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    public var settings: ServerSettings { registry.configuration.server }

    /// Runs `body` with a connection to `database` (or the session's active one): the session's
    /// open transaction there when it has one (`transaction` non-nil: the recipe then runs inside
    /// it), else a pooled connection. Every failure comes out as a `DatabaseCallError`, a PostgreSQL
    /// one explained with the database's settings.
    func withDatabase<R: Sendable>(
        _ session: WorkSession, _ database: String?, access: ConnectionPoolRegistry.Access = .read,
        _ body: @escaping @Sendable (PGConnection, DatabaseTarget, PinnedConnection?) async throws -> R
    ) async throws(DatabaseCallError) -> R {
        do {
            return try await registry.withSessionConnection(session: session, database: database, access: access) { connection, target, transaction in
                do { return try await body(connection, target, transaction) } catch let error as PGError {
                    throw DatabaseCallError.explaining(error, on: target, inTransaction: transaction != nil)
                }
            }
        } catch {
            throw DatabaseCallError.from(error)
        }
    }
}

/// A column of a result: its name and its type as PostgreSQL names it.
public struct ResultColumn: Sendable, Equatable {
    public var name: String
    public var type: String
}

/// Rows as the contract shapes them (one JSON array per row), cut at a row or byte limit.
public struct ResultTable: Sendable {
    public var columns: [ResultColumn]
    public var rows: [JSONValue]
    public var truncated: Bool
}

/// Milliseconds with two decimals, for `elapsedMs`.
public func milliseconds(_ duration: Duration) -> Double {
    (duration.inMilliseconds * 100).rounded() / 100
}
