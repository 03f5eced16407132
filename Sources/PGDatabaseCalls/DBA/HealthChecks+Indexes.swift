import PGMCPJSON

/// The index checks of `database_health`: invalid, duplicate, unused and bloated indexes.
extension HealthCheck {
    /// Schemas no user table lives in.
    static let userSchemas = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg\\_temp\\_%' \
        AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
        """

    /// Left behind by a failed `CREATE INDEX CONCURRENTLY`: never used by a query, still updated by
    /// every write. One being built right now is not reported.
    static let invalidIndexes = HealthCheck(
        name: "invalid_indexes",
        sql: """
            SELECT n.nspname::text, ci.relname::text, ct.relname::text, pg_catalog.pg_relation_size(ci.oid)
            FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
            JOIN pg_catalog.pg_class ct ON ct.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = ci.relnamespace
            WHERE NOT i.indisvalid AND \(userSchemas)
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
            ORDER BY 1, 2
            """,
        findings: { rows in
            rows.map { row in
                let index = name(row[0], row[1])
                return HealthFinding(
                    check: "invalid_index", severity: .warning, object: index,
                    evidence: JSONObject([("table", .string(name(row[0], row[2]))), ("sizeBytes", row[3])]),
                    advice:
                        "No query uses an invalid index, but every write still updates it. Rebuild it with REINDEX INDEX CONCURRENTLY \(index), or drop it with DROP INDEX CONCURRENTLY \(index)."
                )
            }
        })

    /// Indexes of one table on the same columns, operator classes, order, expressions and predicate:
    /// all but one cost writes and space for nothing. The one to keep backs a constraint if any does,
    /// else it is the oldest.
    static let duplicateIndexes = HealthCheck(
        name: "duplicate_indexes",
        sql: """
            SELECT n.nspname::text, ct.relname::text,
                   array_agg(ci.relname::text ORDER BY i.indisprimary DESC, (con.oid IS NOT NULL) DESC, i.indisunique DESC, ci.oid),
                   array_agg(con.oid IS NOT NULL ORDER BY i.indisprimary DESC, (con.oid IS NOT NULL) DESC, i.indisunique DESC, ci.oid),
                   sum(pg_catalog.pg_relation_size(ci.oid))::int8
            FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
            JOIN pg_catalog.pg_class ct ON ct.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = ct.relnamespace
            LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
            WHERE i.indisvalid AND \(userSchemas)
            GROUP BY n.nspname, ct.relname, i.indrelid, ci.relam, i.indkey::text, i.indclass::text, i.indcollation::text,
                     i.indoption::text, coalesce(i.indexprs::text, ''), coalesce(i.indpred::text, '')
            HAVING count(*) > 1
            ORDER BY 1, 2
            """,
        findings: { rows in
            rows.map { row in
                let schema = row[0]
                let indexes = (row[2].arrayValue ?? []).map { name(schema, $0) }
                let backsConstraint = (row[3].arrayValue ?? []).map { $0.boolValue ?? false }
                let drop = zip(indexes, backsConstraint).dropFirst().filter { !$0.1 }.map(\.0)
                let advice =
                    drop.isEmpty
                    ? "Each of them backs a constraint; drop the redundant constraint (ALTER TABLE … DROP CONSTRAINT) to remove its index."
                    : "Keep \(indexes[0]); drop the others: " + drop.map { "DROP INDEX CONCURRENTLY \($0);" }.joined(separator: " ")
                return HealthFinding(
                    check: "duplicate_index", severity: .warning, object: name(schema, row[1]),
                    evidence: JSONObject([("indexes", .array(indexes.map(JSONValue.string))), ("totalSizeBytes", row[4])]),
                    advice: advice)
            }
        })

    /// Never scanned since statistics were last reset, and enforcing nothing (not unique, no
    /// constraint): every write pays for it. Scans on replicas are not counted here.
    static let unusedIndexes = HealthCheck(
        name: "unused_indexes",
        sql: """
            SELECT s.schemaname::text, s.indexrelname::text, s.relname::text, pg_catalog.pg_relation_size(s.indexrelid),
                   (SELECT d.stats_reset::text FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database())
            FROM pg_catalog.pg_stat_user_indexes s JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid
            WHERE s.idx_scan = 0 AND i.indisvalid AND NOT i.indisunique AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = s.indexrelid)
            ORDER BY 4 DESC, 1, 2
            """,
        findings: { rows in
            rows.map { row in
                let index = name(row[0], row[1])
                let large = (row[3].intValue ?? 0) >= 100 << 20
                return HealthFinding(
                    check: "unused_index", severity: large ? .warning : .info, object: index,
                    evidence: JSONObject([("table", .string(name(row[0], row[2]))), ("scans", 0), ("sizeBytes", row[3]), ("statisticsSince", row[4])]),
                    advice:
                        "No scan since statistics were reset\(row[4].isNull ? "" : " (\(row[4].stringValue ?? ""))"). If no replica uses it either and no rare job needs it, DROP INDEX CONCURRENTLY \(index)."
                )
            }
        })

    /// B-tree indexes at least twice the size their rows need (estimated from the planner's
    /// statistics: entries × their width against the page space), with at least 10 MB to win back.
    static let bloatedIndexes = HealthCheck(
        name: "bloated_indexes",
        sql: """
            WITH estimate AS (
              SELECT n.nspname, ci.relname AS index, ct.relname AS tab, ci.relpages, ci.reltuples,
                     pg_catalog.current_setting('block_size')::int AS block,
                     ceil(ci.reltuples * (12 + ((w.width + 7) / 8) * 8)
                          / ((pg_catalog.current_setting('block_size')::int - 40) * 0.9)) + 1 AS expected
              FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
              JOIN pg_catalog.pg_am am ON am.oid = ci.relam AND am.amname = 'btree'
              JOIN pg_catalog.pg_class ct ON ct.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = ct.relnamespace
              CROSS JOIN LATERAL (
                SELECT sum(s.avg_width)::int AS width, count(s.avg_width) AS known
                FROM unnest(i.indkey) k(attnum) JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                LEFT JOIN pg_catalog.pg_stats s ON s.schemaname = n.nspname AND s.tablename = ct.relname AND s.attname = a.attname
              ) w
              WHERE \(userSchemas) AND i.indexprs IS NULL AND ci.reltuples > 0 AND w.known = i.indnatts
                AND ci.relpages::bigint * pg_catalog.current_setting('block_size')::int > 10 << 20
            )
            SELECT nspname::text, index::text, tab::text, relpages::bigint * block, expected::bigint * block,
                   round((1 - expected / relpages)::numeric, 2)::float8
            FROM estimate WHERE relpages >= 2 * expected AND (relpages - expected) * block > 10 << 20
            ORDER BY (relpages - expected) DESC
            """,
        findings: { rows in
            rows.map { row in
                let index = name(row[0], row[1])
                return HealthFinding(
                    check: "bloated_index", severity: .warning, object: index,
                    evidence: JSONObject([
                        ("table", .string(name(row[0], row[2]))), ("sizeBytes", row[3]), ("estimatedNeededBytes", row[4]),
                        ("estimatedBloatRatio", row[5]),
                    ]),
                    advice:
                        "Rebuild it without blocking writes: REINDEX INDEX CONCURRENTLY \(index). The estimate comes from the planner's statistics; ANALYZE the table first if they are old."
                )
            }
        })

    /// Dead rows VACUUM has not yet reclaimed: a fifth of the table or more, and at least 10,000.
    static let bloatedTables = HealthCheck(
        name: "bloated_tables",
        sql: """
            SELECT schemaname::text, relname::text, n_live_tup, n_dead_tup,
                   round((n_dead_tup::numeric / (n_live_tup + n_dead_tup)), 2)::float8,
                   greatest(last_vacuum, last_autovacuum)::text, pg_catalog.pg_table_size(relid)
            FROM pg_catalog.pg_stat_user_tables
            WHERE n_dead_tup >= 10000 AND n_dead_tup * 5 >= n_live_tup + n_dead_tup
            ORDER BY n_dead_tup DESC
            """,
        findings: { rows in
            rows.map { row in
                let table = name(row[0], row[1])
                return HealthFinding(
                    check: "bloated_table", severity: .warning, object: table,
                    evidence: JSONObject([
                        ("liveRows", row[2]), ("deadRows", row[3]), ("deadRatio", row[4]), ("lastVacuum", row[5]), ("sizeBytes", row[6]),
                    ]),
                    advice:
                        "VACUUM (ANALYZE) \(table) reclaims the dead rows for reuse. If autovacuum falls behind on it, lower its autovacuum_vacuum_scale_factor (ALTER TABLE \(table) SET (autovacuum_vacuum_scale_factor = 0.05)); to give the space back to the system, pg_repack or VACUUM FULL (which locks the table)."
                )
            }
        })
}
