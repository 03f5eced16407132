import PGClient
import PGMCPJSON
import PGRegistry

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
            Rows are cut at max_rows (and at the server's size cap), with truncated: true.
            """,
        inputSchema: JSONSchema.object(
            [
                ("sql", JSONSchema.string("One SQL statement, e.g. SELECT * FROM orders WHERE id = $1")),
                ("params", JSONSchema.params), ("database", JSONSchema.database),
                ("max_rows", JSONSchema.integer("Most rows to return (capped by the database's maxRows).", minimum: 1, maximum: 1_000_000)),
            ], required: ["sql"]),
        outputSchema: JSONSchema.output(
            [
                ("columns", columnsSchema), ("rows", JSONSchema.rows), ("rowCount", ["type": "integer"]),
                ("truncated", ["type": "boolean"]), ("elapsedMs", ["type": "number"]), ("database", ["type": "string"]),
            ], required: ["columns", "rows", "rowCount", "truncated", "elapsedMs", "database"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let sql = try call.arguments.requiredString("sql")
            let parameters = try call.arguments.parameters()
            let requested = try call.arguments.integer("max_rows", in: 1...1_000_000)
            // Reads only: a read-only transaction alone would still let LOCK, CLUSTER or a DO block
            // take locks that stall every reader of a table.
            do { try PGReadStatement.check(sql) } catch { throw ToolError.from(error) }
            let maxBytes = call.server.settings.maxResultBytes
            let types = call.server.typeNames
            let (result, elapsed, columnTypes, name) = try await call.withDatabase { connection, target in
                let limit = min(requested ?? target.config.maxRows, target.config.maxRows)
                let clock = ContinuousClock()
                let started = clock.now
                // One round trip: the statement in a read-only transaction under the database's
                // statement timeout, rolled back, and the connection left clean for its pool.
                let (_, rows) = try await connection.readOnlyTransaction(
                    PGStatement(sql, parameters: parameters), statementTimeoutMs: target.config.statementTimeoutMs,
                    into: ResultRows(maxRows: limit, maxBytes: maxBytes))
                let elapsed = clock.now - started
                let columnTypes = await types.columnTypes(rows.columns, database: target.name, connection: connection)
                return (rows, elapsed, columnTypes, target.name)
            }
            call.session.recordRowsReturned(result.rows.count)
            return JSONObject([
                ("columns", columns(result.columns, types: columnTypes)), ("rows", .array(result.rows)),
                ("rowCount", .int(Int64(result.rows.count))), ("truncated", .bool(result.truncated)),
                ("elapsedMs", milliseconds(elapsed)), ("database", .string(name)),
            ])
        })

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
            let maxBytes = call.server.settings.maxResultBytes
            let types = call.server.typeNames
            // The writable-and-chosen check happens in the same resolution as the lease.
            let (command, rows, elapsed, columnTypes, name) = try await call.withDatabase(access: .write) { connection, target in
                // Session-level, not SET LOCAL: the statement runs in its own implicit transaction, so
                // that VACUUM or CREATE INDEX CONCURRENTLY work too. The reset on release undoes it.
                try await connection.command("SET statement_timeout = \(target.config.statementTimeoutMs)")
                let clock = ContinuousClock()
                let started = clock.now
                let (command, rows) = try await connection.execute(
                    sql, parameters: parameters,
                    into: ResultRows(maxRows: target.config.maxRows, maxBytes: maxBytes, pastLimit: .skipRest))
                let elapsed = clock.now - started
                let columnTypes = await types.columnTypes(rows.columns, database: target.name, connection: connection)
                return (command, rows, elapsed, columnTypes, target.name)
            }
            var output = JSONObject([
                ("command", .string(command.command)), ("rowsAffected", command.rowsAffected.map { .int(Int64($0)) } ?? .null),
            ])
            if !rows.columns.isEmpty {
                output["columns"] = columns(rows.columns, types: columnTypes)
                output["rows"] = .array(rows.rows)
                if rows.truncated { output["truncated"] = true }
                call.session.recordRowsReturned(rows.rows.count)
            }
            output["elapsedMs"] = milliseconds(elapsed)
            output["database"] = .string(name)
            return output
        })

    static let explain = ToolDefinition(
        name: "explain", title: "Explain a query plan",
        description: """
            Shows PostgreSQL's plan for one statement (EXPLAIN (FORMAT JSON)). With analyze: true the statement really \
            runs, inside a transaction that is rolled back (read-only on read-only databases), and the plan carries actual \
            times and row counts.
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
            let plan = try await call.withDatabase(access: analyze ? .writeRolledBack : .read) { connection, target in
                // With analyze the statement really runs: read-write only where the database allows it.
                try await inTransaction(connection, target, readOnly: target.config.readOnly || !analyze) {
                    let options = analyze ? "FORMAT JSON, ANALYZE, BUFFERS" : "FORMAT JSON"
                    return try await connection.query("EXPLAIN (\(options)) \(sql)", parameters: parameters).rows.first?.first ?? .null
                }
            }
            return JSONObject([("plan", plan)])
        })

    static func columns(_ columns: [PGColumn], types: [String]) -> JSONValue {
        .array(zip(columns, types).map { column, type in ["name": .string(column.name), "type": .string(type)] })
    }
}
