import PGMCPJSON

/// The table checks of `database_health`: sequences near their end, constraints never validated,
/// tables the planner knows nothing about.
extension HealthCheck {
    /// How much of its range a sequence has used, where the range ends at the sequence's own limit
    /// or at the largest value of the column it feeds, whichever comes first (a bigint sequence
    /// behind an integer column fails at 2^31 - 1).
    static let sequences = HealthCheck(
        name: "sequences",
        sql: """
            WITH s AS (
              SELECT q.schemaname, q.sequencename, q.last_value::numeric AS last, q.min_value::numeric AS low,
                     q.max_value::numeric AS high, q.increment_by, col.typname, col.tab, col.attname
              FROM pg_catalog.pg_sequences q
              JOIN pg_catalog.pg_namespace n ON n.nspname = q.schemaname
              JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = q.sequencename
              LEFT JOIN LATERAL (
                SELECT t.typname::text, tc.relname::text AS tab, a.attname::text
                FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class tc ON tc.oid = d.refobjid
                JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                  AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
                LIMIT 1
              ) col ON true
              WHERE q.last_value IS NOT NULL
            ), bounded AS (
              SELECT *, CASE typname WHEN 'int2' THEN 32767 WHEN 'int4' THEN 2147483647 END AS column_high
              FROM s
            ), used AS (
              SELECT *,
                     CASE WHEN increment_by > 0
                          THEN (last - low) / nullif(least(high, coalesce(column_high, high)) - low, 0)
                          ELSE (high - last) / nullif(high - greatest(low, coalesce(-column_high - 1, low)), 0) END AS fraction,
                     CASE WHEN increment_by > 0 THEN least(high, coalesce(column_high, high))
                          ELSE greatest(low, coalesce(-column_high - 1, low)) END AS limit_value
              FROM bounded
            )
            SELECT schemaname::text, sequencename::text, last::text, limit_value::text, round(fraction, 4)::float8, tab, attname, typname
            FROM used WHERE fraction >= 0.75 ORDER BY fraction DESC
            """,
        findings: { rows in
            rows.map { row in
                let sequence = name(row[0], row[1])
                let fraction = row[4].numberValue ?? 0
                var evidence = JSONObject([("lastValue", row[2]), ("limit", row[3]), ("usedFraction", row[4])])
                if !row[5].isNull {
                    evidence["column"] = .string(name(row[0], row[5]) + "." + quotedIfNeeded(row[6].stringValue ?? ""))
                    evidence["columnType"] = row[7]
                }
                let widen =
                    row[7].stringValue.map { type in
                        type == "int8" ? "" : " Widen the column first: ALTER TABLE … ALTER COLUMN … TYPE bigint (rewrites the table), then ALTER SEQUENCE \(sequence) AS bigint."
                    } ?? " ALTER SEQUENCE \(sequence) AS bigint (or raise its MAXVALUE) gives it room."
                return HealthFinding(
                    check: "sequence_near_end", severity: fraction >= 0.9 ? .critical : .warning, object: sequence, evidence: evidence,
                    advice: "Inserts fail once the sequence reaches its limit." + widen)
            }
        })

    /// `NOT VALID` constraints: added without checking the rows already there, so they prove nothing
    /// about them and the planner cannot rely on them.
    static let invalidConstraints = HealthCheck(
        name: "invalid_constraints",
        sql: """
            SELECT n.nspname::text, c.relname::text, con.conname::text,
                   CASE con.contype WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' ELSE con.contype::text END
            FROM pg_catalog.pg_constraint con JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT con.convalidated AND \(userSchemas)
            ORDER BY 1, 2, 3
            """,
        findings: { rows in
            rows.map { row in
                let table = name(row[0], row[1])
                let constraint = quotedIfNeeded(row[2].stringValue ?? "")
                return HealthFinding(
                    check: "invalid_constraint", severity: .warning, object: "\(table) \(constraint)",
                    evidence: JSONObject([("table", .string(table)), ("constraint", row[2]), ("type", row[3])]),
                    advice:
                        "Rows written before the constraint was added were never checked. ALTER TABLE \(table) VALIDATE CONSTRAINT \(constraint) checks them without blocking writes."
                )
            }
        })

    /// Tables with rows that were never analysed: the planner guesses their size and contents.
    static let neverAnalysed = HealthCheck(
        name: "never_analysed",
        sql: """
            SELECT schemaname::text, relname::text, n_live_tup, n_mod_since_analyze
            FROM pg_catalog.pg_stat_user_tables
            WHERE last_analyze IS NULL AND last_autoanalyze IS NULL AND (n_live_tup > 0 OR n_mod_since_analyze > 0)
            ORDER BY n_live_tup DESC, 1, 2
            """,
        findings: { rows in
            rows.map { row in
                let table = name(row[0], row[1])
                return HealthFinding(
                    check: "never_analysed", severity: (row[2].intValue ?? 0) >= 10000 ? .warning : .info, object: table,
                    evidence: JSONObject([("liveRows", row[2]), ("changedSinceAnalyse", row[3])]),
                    advice:
                        "The planner has no statistics for it and guesses row counts, which leads to poor plans. Run ANALYZE \(table); if autovacuum never does, check that it is on for this table."
                )
            }
        })
}
