import PGDatabaseCalls
import PGMCPJSON

/// connect_database, disconnect_database: databases a client names by connection string at run time.
enum DynamicConnectionTools {
    static let connect = ToolDefinition(
        name: "connect_database", title: "Connect to a database",
        description: """
            Connects this session to a PostgreSQL database given by a connection string (postgresql://user:password@host:5432/db?sslmode=require \
            or host=… dbname=… form), if the server allows it (PGMCP_ALLOW_DYNAMIC_CONNECTIONS, hosts in PGMCP_DYNAMIC_ALLOWED_HOSTS, \
            TLS when PGMCP_DYNAMIC_REQUIRE_SSL). The connection is private to this session, read-only unless read_only is false, \
            becomes the active database, and closes with disconnect_database or when the session ends. The connection string and \
            password are never shown again. Returns its list_databases entry.
            """,
        inputSchema: JSONSchema.object(
            [
                ("connection_string", JSONSchema.string("A libpq connection string or postgresql:// URI naming one host.")),
                (
                    "name",
                    JSONSchema.string("What to call it in this session (letters, digits, '-', '_', '.'). Defaults to its database name, made unique in this session (-2, -3…).")
                ),
                ("read_only", JSONSchema.boolean("Open it read-only. Defaults to true; false lets execute write there.")),
            ], required: ["connection_string"]),
        outputSchema: JSONSchema.output([("database", DatabaseTools.entrySchema)], required: ["database"]),
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        keepsSessionState: true,
        handler: { call throws(ToolError) in
            let connectionString = try call.arguments.requiredString("connection_string")
            let name = try call.arguments.string("name")
            let readOnly = try call.arguments.bool("read_only")
            let target = try await call.run { calls throws(DatabaseCallError) in
                try await calls.connectDatabase(session: call.session, connectionString: connectionString, name: name, readOnly: readOnly)
            }
            let snapshot = await target.pool.probedSnapshot()
            return JSONObject([("database", DatabaseTools.entry(for: target, active: call.session.activeDatabase, snapshot: snapshot))])
        })

    static let disconnect = ToolDefinition(
        name: "disconnect_database", title: "Disconnect a database",
        description:
            "Closes one of this session's dynamic connections (connect_database) at once: statements running on it are cancelled and its open transaction, if any, is rolled back. If it was the active database, the session falls back to the default database.",
        inputSchema: JSONSchema.object([("name", JSONSchema.string("The dynamic connection's name (see list_databases)."))], required: ["name"]),
        outputSchema: JSONSchema.output([("disconnected", ["type": "string"]), ("activeDatabase", ["type": "string"])], required: ["disconnected", "activeDatabase"]),
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        keepsSessionState: true,
        handler: { call throws(ToolError) in
            let name = try call.arguments.requiredString("name")
            try await call.run { calls throws(DatabaseCallError) in try await calls.disconnectDatabase(session: call.session, name: name) }
            return JSONObject([("disconnected", .string(name)), ("activeDatabase", .string(call.session.activeDatabase))])
        })
}
