import PGClient
import PGMCPJSON
import PGRegistry

/// list_schemas, list_tables, describe_table: catalog queries, parameterised, read-only.
enum SchemaTools {
    /// Schemas nobody asks about: the catalogs and every session's temporary schemas.
    static let systemSchemaFilter = """
        n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
        AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
        """

    static let listSchemas = ToolDefinition(
        name: "list_schemas", title: "List schemas",
        description: "Lists the database's schemas (system schemas left out) with their owner and how many tables, views and materialized views each holds.",
        inputSchema: JSONSchema.object([("database", JSONSchema.database)]),
        outputSchema: JSONSchema.output(
            [("schemas", JSONSchema.array(of: ["type": "object", "properties": ["name": ["type": "string"], "owner": ["type": "string"], "tables": ["type": "integer"]]]))],
            required: ["schemas"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let rows = try await call.withDatabase { connection, target in
                try await inTransaction(connection, target) {
                    try await connection.query("""
                        SELECT n.nspname::text, pg_catalog.pg_get_userbyid(n.nspowner)::text,
                               count(c.oid) FILTER (WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f'))
                        FROM pg_catalog.pg_namespace n LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid
                        WHERE \(systemSchemaFilter)
                        GROUP BY n.oid, n.nspname, n.nspowner ORDER BY n.nspname
                        """).rows
                }
            }
            let schemas = rows.map { row -> JSONValue in ["name": row[0], "owner": row[1], "tables": row[2]] }
            return JSONObject([("schemas", .array(schemas))])
        })

    static let kinds: [String: String] = ["r": "table", "v": "view", "m": "materialized_view", "f": "foreign_table", "p": "partitioned_table"]

    static let listTables = ToolDefinition(
        name: "list_tables", title: "List tables",
        description: "Lists tables, views, materialized views, foreign and partitioned tables of one schema (default: every non-system schema), with estimated row counts, total size on disk and comments.",
        inputSchema: JSONSchema.object([
            ("schema", JSONSchema.string("Schema to list. Defaults to every non-system schema.")), ("database", JSONSchema.database),
        ]),
        outputSchema: JSONSchema.output(
            [
                ("tables", JSONSchema.array(of: [
                    "type": "object",
                    "properties": [
                        "schema": ["type": "string"], "name": ["type": "string"],
                        "kind": ["type": "string", "enum": ["table", "view", "materialized_view", "foreign_table", "partitioned_table"]],
                        "estimatedRows": JSONSchema.integerOrNull, "sizeBytes": JSONSchema.integerOrNull, "comment": JSONSchema.stringOrNull,
                    ],
                ]))
            ], required: ["tables"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let schema = try call.arguments.string("schema")
            let rows = try await call.withDatabase { connection, target in
                try await inTransaction(connection, target) {
                    try await connection.query("""
                        SELECT n.nspname::text, c.relname::text, c.relkind::text,
                               CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::int8 END,
                               CASE WHEN c.relkind IN ('r', 'p', 'm') THEN pg_catalog.pg_total_relation_size(c.oid) END,
                               pg_catalog.obj_description(c.oid, 'pg_class')
                        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
                          AND CASE WHEN $1::text IS NULL THEN \(systemSchemaFilter) ELSE n.nspname = $1 END
                        ORDER BY 1, 2
                        """, parameters: [schema]).rows
                }
            }
            let tables = rows.map { row -> JSONValue in
                [
                    "schema": row[0], "name": row[1], "kind": .string(kinds[row[2].stringValue ?? ""] ?? "table"),
                    "estimatedRows": row[3], "sizeBytes": row[4], "comment": row[5],
                ]
            }
            return JSONObject([("tables", .array(tables))])
        })

    static let describeTable = ToolDefinition(
        name: "describe_table", title: "Describe a table",
        description: "Describes a table or view: columns (type, nullability, default, comment), primary key, foreign keys, indexes and other constraints. 'table' may be schema-qualified ('sales.orders').",
        inputSchema: JSONSchema.object(
            [
                ("table", JSONSchema.string("Table or view name, optionally schema-qualified.")),
                ("schema", JSONSchema.string("Its schema. Defaults to the first match on the search path.")),
                ("database", JSONSchema.database),
            ], required: ["table"]),
        outputSchema: JSONSchema.output(
            [
                ("schema", ["type": "string"]), ("name", ["type": "string"]), ("kind", ["type": "string"]),
                ("comment", JSONSchema.stringOrNull), ("columns", JSONSchema.array(of: describedColumn)),
                ("primaryKey", JSONSchema.array(of: ["type": "string"])), ("foreignKeys", JSONSchema.array(of: foreignKey)),
                ("indexes", JSONSchema.array(of: index)), ("constraints", JSONSchema.array(of: constraint)),
            ], required: ["schema", "name", "kind", "columns", "primaryKey", "foreignKeys", "indexes", "constraints"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            var table = try call.arguments.requiredString("table")
            var schema = try call.arguments.string("schema")
            if schema == nil, let dot = table.firstIndex(of: ".") {
                schema = String(table[..<dot])
                table = String(table[table.index(after: dot)...])
            }
            let (name, schemaName) = (table, schema)
            let description = try await call.withDatabase { connection, target in
                try await inTransaction(connection, target) { try await describe(connection, table: name, schema: schemaName) }
            }
            guard let description else {
                let place = schemaName.map { "schema '\($0)'" } ?? "the search path"
                throw ToolError("no table or view '\(name)' in \(place) of this database; list_tables shows what exists")
            }
            return description
        })

    static let describedColumn: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "type": ["type": "string"], "nullable": ["type": "boolean"],
            "default": JSONSchema.stringOrNull, "comment": JSONSchema.stringOrNull,
        ],
    ]
    static let foreignKey: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "columns": JSONSchema.array(of: ["type": "string"]), "referencedTable": ["type": "string"],
            "referencedColumns": JSONSchema.array(of: ["type": "string"]), "definition": ["type": "string"],
        ],
    ]
    static let index: JSONValue = [
        "type": "object",
        "properties": ["name": ["type": "string"], "definition": ["type": "string"], "unique": ["type": "boolean"], "primary": ["type": "boolean"]],
    ]
    static let constraint: JSONValue = [
        "type": "object", "properties": ["name": ["type": "string"], "type": ["type": "string"], "definition": ["type": "string"]],
    ]

    static func describe(_ connection: PGConnection, table: String, schema: String?) async throws -> JSONObject? {
        let found = try await connection.query("""
            SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text, pg_catalog.obj_description(c.oid, 'pg_class')
            FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
              AND CASE WHEN $2::text IS NULL THEN pg_catalog.pg_table_is_visible(c.oid) ELSE n.nspname = $2 END
            LIMIT 1
            """, parameters: [table, schema]).rows
        guard let row = found.first, let oid = row[0].intValue else { return nil }
        let relation = [String(oid)]
        let columns = try await connection.query("""
            SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                   pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum)
            FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, parameters: relation).rows
        let primaryKey = try await connection.query("""
            SELECT a.attname::text FROM pg_catalog.pg_index i
            JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true
            JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord
            """, parameters: relation).rows
        let foreignKeys = try await connection.query("""
            SELECT con.conname::text,
                   ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
                   con.confrelid::regclass::text,
                   ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o),
                   pg_catalog.pg_get_constraintdef(con.oid)
            FROM pg_catalog.pg_constraint con WHERE con.conrelid = $1::oid AND con.contype = 'f' ORDER BY con.conname
            """, parameters: relation).rows
        let indexes = try await connection.query("""
            SELECT c.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary
            FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = $1::oid ORDER BY c.relname
            """, parameters: relation).rows
        let constraints = try await connection.query("""
            SELECT conname::text, CASE contype WHEN 'c' THEN 'check' WHEN 'u' THEN 'unique' WHEN 'x' THEN 'exclusion' END,
                   pg_catalog.pg_get_constraintdef(oid)
            FROM pg_catalog.pg_constraint WHERE conrelid = $1::oid AND contype IN ('c', 'u', 'x') ORDER BY conname
            """, parameters: relation).rows
        return JSONObject([
            ("schema", row[1]), ("name", row[2]), ("kind", .string(kinds[row[3].stringValue ?? ""] ?? "table")), ("comment", row[4]),
            ("columns", .array(columns.map { ["name": $0[0], "type": $0[1], "nullable": $0[2], "default": $0[3], "comment": $0[4]] })),
            ("primaryKey", .array(primaryKey.map { $0[0] })),
            ("foreignKeys", .array(foreignKeys.map {
                ["name": $0[0], "columns": $0[1], "referencedTable": $0[2], "referencedColumns": $0[3], "definition": $0[4]]
            })),
            ("indexes", .array(indexes.map { ["name": $0[0], "definition": $0[1], "unique": $0[2], "primary": $0[3]] })),
            ("constraints", .array(constraints.map { ["name": $0[0], "type": $0[1], "definition": $0[2]] })),
        ])
    }
}
