import PGClient
import PGRegistry

/// Where an extension the DBA calls read (pg_stat_statements, hypopg) lives in a database: its
/// schema, as the catalog names it, quoted for the statements that use its objects; nil when it is
/// not there. Looked up on every call, since the extension may be created or dropped at any time.
/// With it, the name of the database the call resolved to and the server's major version, for a
/// message that says where and what to install.
struct ExtensionPlace: Sendable {
    var schema: String?
    var database: String
    var serverMajor: Int64?
}

extension DatabaseCalls {
    func extensionPlace(_ name: String, _ session: WorkSession, _ database: String?) async throws(DatabaseCallError) -> ExtensionPlace {
        let lookup = PGStatement(
            """
            SELECT (SELECT n.nspname::text FROM pg_catalog.pg_extension e
                    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1),
                   pg_catalog.current_setting('server_version_num')::int / 10000
            """, parameters: [name])
        let (rows, resolved) = try await catalogReadsNamingDatabase(session, database, [lookup])
        let row = rows[0].first
        return ExtensionPlace(schema: row?[0].stringValue.map(SQLQuoting.identifier), database: resolved, serverMajor: row?[1].intValue)
    }

    /// What to do when pg_stat_statements is missing or not loaded, for the answer's message.
    static func statementStatisticsAdvice(_ database: String) -> String {
        """
        pg_stat_statements is not enabled in '\(database)': add pg_stat_statements to shared_preload_libraries in \
        postgresql.conf, restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements in this database (as a \
        role allowed to create extensions). Until then, pass the statements to examine explicitly where a tool takes them.
        """
    }
}
