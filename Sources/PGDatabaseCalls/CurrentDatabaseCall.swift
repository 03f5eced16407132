import PGClient
import PGRegistry

/// What `current_database` shows of the session's active database.
public struct CurrentDatabase: Sendable {
    public var name: String
    public var readOnly: Bool
    /// PostgreSQL's version as text (e.g. "15.8"); nil when the database cannot be reached.
    public var serverVersion: String?
}

extension DatabaseCalls {
    public func currentDatabase(session: WorkSession) async throws(DatabaseCallError) -> CurrentDatabase {
        let name = session.activeDatabase
        let target: DatabaseTarget
        do { target = try registry.resolve(name, for: session) } catch { throw DatabaseCallError.from(error) }
        var version = target.pool.serverVersion
        if version == nil {
            // Never connected yet: one lease tells. A database that is down reports null, not an error.
            version = try? await registry.withConnection(session: session, database: name) { connection, _ in connection.serverVersion }
        }
        return CurrentDatabase(name: name, readOnly: target.config.readOnly, serverVersion: version.map(PGServerVersion.text))
    }
}
