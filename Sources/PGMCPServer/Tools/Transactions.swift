import PGClient
import PGRegistry

/// Runs `body` inside a transaction under the database's statement timeout, then rolls it back:
/// for catalog reads and EXPLAIN, which change nothing that should last. `readOnly` (the default)
/// makes PostgreSQL refuse writes too. (`query` does the same in one pipelined round trip.)
func inTransaction<R: Sendable>(
    _ connection: PGConnection, _ target: DatabaseTarget, readOnly: Bool = true, _ body: () async throws -> R
) async throws -> R {
    try await connection.command(readOnly ? "BEGIN READ ONLY" : "BEGIN")
    try await connection.command("SET LOCAL statement_timeout = \(target.config.statementTimeoutMs)")
    let result = try await body()
    try await connection.command("ROLLBACK")
    return result
}
