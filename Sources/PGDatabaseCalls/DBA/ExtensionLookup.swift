import PGClient
import PGRegistry

/// Where an extension the DBA calls read (pg_stat_statements, hypopg) lives in a database: its
/// schema, as the catalog names it, quoted for the statements that use its objects. Looked up on
/// every call, since the extension may be created or dropped at any time; nil when it is not there.
extension DatabaseCalls {
    func extensionSchema(_ name: String, _ session: WorkSession, _ database: String?) async throws(DatabaseCallError) -> String? {
        let rows = try await catalogReads(
            session, database,
            [
                PGStatement(
                    """
                    SELECT n.nspname::text FROM pg_catalog.pg_extension e
                    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1
                    """, parameters: [name])
            ])[0]
        return rows.first?.first?.stringValue.map(SQLQuoting.identifier)
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
