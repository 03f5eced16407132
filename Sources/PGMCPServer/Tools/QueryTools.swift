import PGDatabaseCalls
import PGMCPJSON

/// query, execute, explain.
enum QueryTools {
    static let columnsSchema = JSONSchema.array(of: [
        "type": "object", "properties": ["name": ["type": "string"], "type": ["type": "string"]], "required": ["name", "type"],
    ])

    static let query = ToolDefinition(
        name: "query", title: "Run a read-only query",
        description:
            "Runs one read-only SQL statement and returns its rows. Use $1, $2… with params for values. A result cut at max_rows or the size cap has truncated: true and nextCursor: pass it as cursor (without sql) for the next page of the same snapshot.",
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string()),
                ("params", JSONSchema.params), ("database", JSONSchema.database),
                ("max_rows", JSONSchema.integer(minimum: 1, maximum: 1_000_000)),
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
        description:
            "Runs one SQL statement that writes (INSERT, UPDATE, DELETE, DDL) and commits it; refused on read-only databases. Pass 'database' to say where it writes (or select_database first).",
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string()),
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
        description:
            "Shows PostgreSQL's plan for one statement, with a summary: sequential scans of large tables and, with analyze: true (the statement runs, rolled back afterwards), the slowest node and the worst row estimate.",
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string()), ("params", JSONSchema.params),
                ("analyze", JSONSchema.boolean()),
                ("database", JSONSchema.database),
            ], required: ["sql"]),
        outputSchema: JSONSchema.output([("plan", JSONSchema.anyValue), ("summary", ["type": "object"])], required: ["plan", "summary"]),
        annotations: ToolAnnotations(readOnly: true, destructive: false, idempotent: true, openWorld: true),
        handler: { call throws(ToolError) in
            let sql = try call.arguments.requiredString("sql")
            let parameters = try call.arguments.parameters()
            let analyze = try call.arguments.bool("analyze") ?? false
            let database = try call.arguments.string("database")
            let answer = try await call.run { calls throws(DatabaseCallError) in
                try await calls.explain(session: call.session, database: database, sql: sql, parameters: parameters, analyze: analyze)
            }
            return JSONObject([("plan", answer.plan), ("summary", .object(answer.summary))])
        })

    static func columns(_ columns: [ResultColumn]) -> JSONValue {
        .array(columns.map { column in ["name": .string(column.name), "type": .string(column.type)] })
    }
}
