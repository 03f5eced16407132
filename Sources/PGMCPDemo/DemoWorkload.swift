import PGClient
import PGCluster

/// What gives the demo's DBA tools something to find in `demo_dev`: a 200,000-row `page_views`
/// table that its most frequent statement reads by a column without an index (top_queries names
/// it, suggest_indexes proposes the index), an index nothing uses and a copy of it
/// (database_health reports both), and the extensions the tools read (pg_stat_statements; hypopg
/// where the server has it).
enum DemoWorkload {
    /// As the superuser, in each database: the extensions (creating them needs more than the demo's
    /// roles have), and the right to read every session's statistics for both roles.
    static func extensionStatements(_ cluster: LocalPostgres) -> [String] {
        ["pg_stat_statements", "hypopg"].filter(cluster.hasExtension).map { "CREATE EXTENSION IF NOT EXISTS \($0)" }
    }

    static func statisticsReset(_ cluster: LocalPostgres) -> [String] {
        cluster.hasExtension("pg_stat_statements") ? ["SELECT pg_stat_statements_reset()"] : []
    }

    static let grants = ["GRANT pg_read_all_stats TO demo_app, demo_readonly"]

    /// As `demo_app`, in `demo_dev`.
    static let schema = [
        """
        CREATE TABLE page_views (
            id bigserial PRIMARY KEY,
            customer_id integer NOT NULL,
            path text NOT NULL,
            viewed_at timestamptz NOT NULL)
        """,
        "COMMENT ON TABLE page_views IS 'Web analytics: one row per page view'",
        """
        INSERT INTO page_views (customer_id, path, viewed_at)
        SELECT 1 + (g * 7919) % 5000, (ARRAY['/', '/products', '/cart', '/checkout', '/account'])[1 + g % 5],
               now() - (g || ' seconds')::interval
        FROM generate_series(1, 200000) g
        """,
        "CREATE INDEX page_views_path_idx ON page_views (path)",
        "CREATE INDEX page_views_path_copy ON page_views (path)",
        "ANALYZE page_views",
    ]

    /// The statement the workload repeats: a customer's views, found by a full scan.
    static let frequentStatement = "SELECT count(*), max(viewed_at) FROM page_views WHERE customer_id = $1"

    /// Runs the workload `times` times on `connection`.
    static func run(on connection: PGConnection, times: Int = 25) async throws {
        for customer in 0..<times { _ = try await connection.query(frequentStatement, parameters: [String(1 + customer * 37)]) }
    }
}
