import PGClient
import PGMCPJSON
import PGRegistry

/// How `top_queries` ranks the workload.
public enum WorkloadRanking: String, Sendable, CaseIterable {
    /// Time spent in all calls: what costs the server most.
    case totalTime = "total_time"
    /// Time per call: what a user waits for.
    case meanTime = "mean_time"
    /// The statement's share of time, blocks read, blocks dirtied and WAL written, averaged: what
    /// loads the machine, not only the clock.
    case resources
}

extension DatabaseCalls {
    /// Statement text is cut to this many characters: enough to recognise a statement, without one
    /// generated 50 kB IN-list filling a model's context.
    public static let workloadTextLength = 600

    /// The statements of this database's workload from pg_stat_statements, ranked by `ranking`:
    /// `[{query, calls, totalMs, meanMs, rows, sharedBlocksHit, sharedBlocksRead, share}]`. `share` is
    /// the statement's part (0…1) of the database's total time, or of its resources.
    public func topQueries(
        session: WorkSession, database: String?, ranking: WorkloadRanking, limit: Int
    ) async throws(DatabaseCallError) -> [JSONValue] {
        let rows = try await workload(session, database, ranking: ranking, limit: limit, textLength: Self.workloadTextLength)
        return rows.map { row -> JSONValue in
            [
                "query": StatementTextRedaction.redact(row[0]), "calls": row[1], "totalMs": row[2], "meanMs": row[3], "rows": row[4],
                "sharedBlocksHit": row[5], "sharedBlocksRead": row[6], "share": row[7],
            ]
        }
    }

    /// The ranked rows: query (cut to `textLength`, nil for no cut), calls, total ms, mean ms, rows,
    /// blocks hit, blocks read, share. Transaction control and settings (pgmcp's own BEGIN READ ONLY,
    /// SET LOCAL…) are left out: nothing there to tune; so are EXPLAIN and PREPARE (suggest_indexes
    /// plans with them), hypopg's functions, and reads that name `pg_catalog.`, which is how pgmcp's
    /// own catalog reads (and few applications' statements) are written.
    func workload(
        _ session: WorkSession, _ database: String?, ranking: WorkloadRanking, limit: Int, textLength: Int?
    ) async throws(DatabaseCallError) -> [[JSONValue]] {
        let place = try await extensionPlace("pg_stat_statements", session, database)
        guard let schema = place.schema else { throw DatabaseCallError(Self.statementStatisticsAdvice(place.database)) }
        let sql = """
            WITH s AS (
              SELECT query, calls, total_exec_time, mean_exec_time, rows, shared_blks_hit, shared_blks_read,
                     shared_blks_dirtied, wal_bytes
              FROM \(schema).pg_stat_statements
              WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
                AND query !~* '^\\s*(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SET|RESET|SHOW|SAVEPOINT|RELEASE|DISCARD|DEALLOCATE|PREPARE|EXECUTE|EXPLAIN)\\M'
                AND query !~ 'pg_catalog\\.|pg_stat_statements_reset|hypopg_'
            ), totals AS (
              SELECT nullif(sum(total_exec_time), 0) AS t, nullif(sum(shared_blks_read), 0) AS r,
                     nullif(sum(shared_blks_dirtied), 0) AS d, nullif(sum(wal_bytes), 0) AS w FROM s
            ), ranked AS (
              SELECT s.*,
                     CASE WHEN $1 = 'resources' THEN
                       (coalesce(total_exec_time / t, 0) + coalesce(shared_blks_read / r, 0)
                        + coalesce(shared_blks_dirtied / d, 0) + coalesce(wal_bytes / w, 0)::float8)
                       / greatest(1, (t IS NOT NULL)::int + (r IS NOT NULL)::int + (d IS NOT NULL)::int + (w IS NOT NULL)::int)
                     ELSE coalesce(total_exec_time / t, 0) END AS share
              FROM s, totals
            )
            SELECT CASE WHEN $3::int IS NOT NULL AND length(query) > $3::int THEN left(query, $3::int) || '…' ELSE query END,
                   calls, round(total_exec_time::numeric, 2)::float8, round(mean_exec_time::numeric, 2)::float8, rows,
                   shared_blks_hit, shared_blks_read, round(share::numeric, 4)::float8
            FROM ranked
            ORDER BY CASE $1 WHEN 'mean_time' THEN mean_exec_time WHEN 'resources' THEN share ELSE total_exec_time END DESC
            LIMIT $2::int
            """
        do {
            return try await catalogReads(
                session, database, [PGStatement(sql, parameters: [ranking.rawValue, String(limit), textLength.map(String.init)])])[0]
        } catch  where error.sqlState == "55000" && (error.serverMessage ?? "").contains("shared_preload_libraries") {
            throw DatabaseCallError(Self.statementStatisticsAdvice(place.database))
        }
    }
}
