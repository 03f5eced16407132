import PGClient
import PGMCPJSON
import PGRegistry

/// list_schemas, list_tables, describe_table: catalog reads, parameterised, in one read-only
/// round trip each (describe_table's six reads share one pipeline with a single sync).
extension DatabaseCalls {
    /// Schemas nobody asks about: the catalogs and every session's temporary schemas.
    static let systemSchemaFilter = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
        AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
        """

    static let tableKinds: [String: String] = ["r": "table", "v": "view", "m": "materialized_view", "f": "foreign_table", "p": "partitioned_table"]

    /// `[{name, owner, tables}]`, system schemas left out.
    public func listSchemas(session: WorkSession, database: String?) async throws(DatabaseCallError) -> [JSONValue] {
        let rows = try await catalogReads(
            session, database,
            [
                PGStatement(
                    """
                    SELECT n.nspname::text, pg_catalog.pg_get_userbyid(n.nspowner)::text,
                           count(c.oid) FILTER (WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f'))
                    FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
                    WHERE \(Self.systemSchemaFilter)
                    GROUP BY n.oid, n.nspname, n.nspowner ORDER BY n.nspname
                    """)
            ])[0]
        return rows.map { row -> JSONValue in ["name": row[0], "owner": row[1], "tables": row[2]] }
    }

    /// `[{schema, name, kind, estimatedRows, sizeBytes, comment}]` of `schema` (default: every
    /// non-system schema).
    public func listTables(session: WorkSession, database: String?, schema: String?) async throws(DatabaseCallError) -> [JSONValue] {
        let rows = try await catalogReads(
            session, database,
            [
                PGStatement(
                    """
                    SELECT n.nspname::text, c.relname::text, c.relkind::text,
                           CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::int8 END,
                           CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_catalog.pg_total_relation_size(c.oid) END,
                           pg_catalog.obj_description(c.oid, 'pg_class')
                    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
                      AND CASE WHEN $1::text IS NULL THEN \(Self.systemSchemaFilter) ELSE n.nspname = $1 END
                    ORDER BY 1, 2
                    """, parameters: [schema])
            ])[0]
        return rows.map { row -> JSONValue in
            [
                "schema": row[0], "name": row[1], "kind": .string(Self.tableKinds[row[2].stringValue ?? ""] ?? "table"),
                "estimatedRows": row[3], "sizeBytes": row[4], "comment": row[5],
            ]
        }
    }

    /// The table or view `table` in `schema` (default: the first on the search path): columns,
    /// primary key, foreign keys, indexes and other constraints; nil when there is none.
    public func describeTable(
        session: WorkSession, database: String?, table: String, schema: String?
    ) async throws(DatabaseCallError) -> JSONObject? {
        // Every read finds the relation itself ($1, $2), so all six go in one round trip.
        let relation = """
            (SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
               AND CASE WHEN $2::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $2 END
             LIMIT 1)
            """
        let parameters = [table, schema]
        let reads = [
            """
            SELECT n.nspname::text, c.relname::text, c.relkind::text, pg_catalog.obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = \(relation)
            """,
            """
            SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                   pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum)
            FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = \(relation) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """,
            """
            SELECT a.attname::text FROM pg_catalog.pg_index i
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = \(relation) AND i.indisprimary ORDER BY k.ord
            """,
            """
            SELECT con.conname::text,
                   ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
                   con.confrelid::regclass::text,
                   ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o),
                   pg_catalog.pg_get_constraintdef(con.oid)
            FROM pg_catalog.pg_constraint con WHERE con.conrelid = \(relation) AND con.contype = 'f' ORDER BY con.conname
            """,
            """
            SELECT c.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary
            FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = \(relation) ORDER BY c.relname
            """,
            """
            SELECT conname::text, CASE contype WHEN 'c' THEN 'check' WHEN 'u' THEN 'unique' WHEN 'x' THEN 'exclusion' END,
                   pg_catalog.pg_get_constraintdef(oid)
            FROM pg_catalog.pg_constraint WHERE conrelid = \(relation) AND contype IN ('c', 'u', 'x') ORDER BY conname
            """,
        ]
        let results = try await catalogReads(session, database, reads.map { PGStatement($0, parameters: parameters) })
        guard let row = results[0].first else { return nil }
        let (columns, primaryKey, foreignKeys, indexes, constraints) = (results[1], results[2], results[3], results[4], results[5])
        return JSONObject([
            ("schema", row[0]), ("name", row[1]), ("kind", .string(Self.tableKinds[row[2].stringValue ?? ""] ?? "table")), ("comment", row[3]),
            ("columns", .array(columns.map { ["name": $0[0], "type": $0[1], "nullable": $0[2], "default": $0[3], "comment": $0[4]] })),
            ("primaryKey", .array(primaryKey.map { $0[0] })),
            (
                "foreignKeys",
                .array(
                    foreignKeys.map {
                        ["name": $0[0], "columns": $0[1], "referencedTable": $0[2], "referencedColumns": $0[3], "definition": $0[4]]
                    })
            ),
            ("indexes", .array(indexes.map { ["name": $0[0], "definition": $0[1], "unique": $0[2], "primary": $0[3]] })),
            ("constraints", .array(constraints.map { ["name": $0[0], "type": $0[1], "definition": $0[2]] })),
        ])
    }

    /// Runs catalog reads in one read-only round trip under the database's statement timeout; each
    /// read's rows, in order.
    func catalogReads(_ session: WorkSession, _ database: String?, _ statements: [PGStatement]) async throws(DatabaseCallError) -> [[[JSONValue]]] {
        try await catalogReadsNamingDatabase(session, database, statements).rows
    }

    /// `catalogReads`, with the name of the database they ran on (`database`, or the session's
    /// active one), for a message that says where.
    func catalogReadsNamingDatabase(
        _ session: WorkSession, _ database: String?, _ statements: [PGStatement]
    ) async throws(DatabaseCallError) -> (rows: [[[JSONValue]]], database: String) {
        try await withDatabase(session, database) { connection, target, transaction in
            let scope = transaction == nil ? PGScope.transaction(readOnly: true) : .savepoint(readOnly: true)
            let reads = try await connection.scopedReads(statements, in: scope, statementTimeoutMs: target.config.statementTimeoutMs)
            return (reads.map(\.rows), target.name)
        }
    }
}
