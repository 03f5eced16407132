import PGDatabaseCalls
import PGMCPJSON

/// query, execute, explain.
enum QueryTools {
    static let columnsSchema = JSONSchema.array(of: [
        "type": "object", "properties": ["name": ["type": "string"], "type": ["type": "string"]], "required": ["name", "type"],
    ])

    static let query = ToolDefinition(
        name: "query", title: "Run a read-only query",
        description: """
            Runs exactly one SQL statement that reads (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN) inside a READ ONLY \
            transaction (rolled back afterwards) and returns its rows. Use $1, $2, … with 'params' for values. Writes are refused by PostgreSQL here; use 'execute' on a writable database. \
            Rows are cut at max_rows (and at the server's size cap), with truncated: true and a nextCursor: pass it \
            as 'cursor' (without sql) for the next page, from the same snapshot.
            """,
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string("One SQL statement, e.g. SELECT * FROM orders WHERE id = $1")),
                ("params", JSONSchema.params), ("database", JSONSchema.database),
                ("max_rows", JSONSchema.integer("Most rows to return (capped by the database's maxRows).", minimum: 1, maximum: 1_000_000)),
                ("cursor", QueryPaging.cursorSchema),
            ]),
        outputSchema: JSONSchema.output(
            [
                ("columns", columnsSchema), ("rows", JSONSchema.rows), ("rowCount", ["type": "integer"]),
                ("truncated", ["type": "boolean"]), ("elapsedMs", ["type": "number"]), ("database", ["type": "string"]),
                ("nextCursor", ["type": "string"]),
            ], required: ["columns", "rows", "rowCount", "truncated", "elapsedMs", "database"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in try await QueryPaging.handle(call) })

    static let execute = ToolDefinition(
        name: "execute", title: "Run a write statement",
        description: """
            Runs exactly one SQL statement (INSERT, UPDATE, DELETE, DDL, …) and commits it. Refused on read-only \
            databases. Pass 'database' to say where it writes: without it, it writes to the active database only if \
            select_database chose it in this same MCP session (when several databases are configured). Use $1, $2, … \
            with 'params' for values. Rows of a RETURNING clause are returned.
            """,
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string("One SQL statement, e.g. UPDATE orders SET status = $1 WHERE id = $2")),
                ("params", JSONSchema.params), ("database", JSONSchema.database),
            ], required: ["sql"]),
        outputSchema: JSONSchema.output(
            [
                ("command", ["type": "string"]), ("rowsAffected", JSONSchema.integerOrNull), ("columns", columnsSchema),
                ("rows", JSONSchema.rows), ("elapsedMs", ["type": "number"]), ("database", ["type": "string"]),
            ], required: ["command", "rowsAffected", "elapsedMs", "database"]),
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: false, openWorld: true),
        handler: { call throws(ToolError) in
            let sql = try call.arguments.requiredString("sql")
            let parameters = try call.arguments.parameters()
            let database = try call.arguments.string("database")
            let answer = try await call.run { calls throws(DatabaseCallError) in
                try await calls.execute(session: call.session, database: database, sql: sql, parameters: parameters)
            }
            var output = JSONObject([
                ("command", .string(answer.command)), ("rowsAffected", answer.rowsAffected.map { .int(Int64($0)) } ?? .null),
            ])
            if let table = answer.table {
                output["columns"] = columns(table.columns)
                output["rows"] = .array(table.rows)
                if table.truncated { output["truncated"] = true }
            }
            output["elapsedMs"] = milliseconds(answer.elapsed)
            output["database"] = .string(answer.database)
            return output
        })

    static let explain = ToolDefinition(
        name: "explain", title: "Explain a query plan",
        description: """
            Shows PostgreSQL's plan for one statement (EXPLAIN (FORMAT JSON)). With analyze: true the statement really \
            runs, inside a transaction that is rolled back (read-only for a SELECT, and on read-only databases), and the \
            plan carries actual times and row counts.
            """,
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string("The statement to explain (without EXPLAIN).")), ("params", JSONSchema.params),
                ("analyze", JSONSchema.boolean("Run it and report actual times (rolled back afterwards). Defaults to false.")),
                ("database", JSONSchema.database),
            ], required: ["sql"]),
        outputSchema: JSONSchema.output([("plan", JSONSchema.anyValue)], required: ["plan"]),
        annotations: ToolAnnotations(readOnly: true, destructive: false, idempotent: true, openWorld: true),
        handler: { call throws(ToolError) in
            let sql = try call.arguments.requiredString("sql")
            let parameters = try call.arguments.parameters()
            let analyze = try call.arguments.bool("analyze") ?? false
            let database = try call.arguments.string("database")
            let plan = try await call.run { calls throws(DatabaseCallError) in
                try await calls.explain(session: call.session, database: database, sql: sql, parameters: parameters, analyze: analyze)
            }
            return JSONObject([("plan", plan)])
        })

    static func columns(_ columns: [ResultColumn]) -> JSONValue {
        .array(columns.map { column in ["name": .string(column.name), "type": .string(column.type)] })
    }
}
