import PGClient

/// Runs `body` inside a transaction, then rolls it back: for catalog reads and EXPLAIN, which change
/// nothing that should last. `readOnly` (the default) makes PostgreSQL refuse writes too. The
/// statement timeout is the session's (`DatabaseConfig.sessionParameters`). (`query` does the same
/// in one pipelined round trip.)
func inTransaction<R: Sendable>(
    _ connection: PGConnection, readOnly: Bool = true, _ body: () async throws -> R
) async throws -> R {
    try await connection.command(readOnly ? "BEGIN READ ONLY" : "BEGIN")
    let result = try await body()
    try await connection.command("ROLLBACK")
    return result
}
