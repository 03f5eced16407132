import PGDatabaseCalls
import PGMCPJSON

/// connect_database, disconnect_database: databases a client names by connection string at run time.
enum DynamicConnectionTools {
    static let connect = ToolDefinition(
        name: "connect_database", title: "Connect to a database",
        description:
            "Connects a database by connection string (libpq or postgresql:// URI) if the server allows its host, private to this session and read-only unless read_only is false. It becomes the active database.",
        inputSchema: JSONSchema.object(
            [
                ("connection_string", JSONSchema.string()),
                (
                    "name",
                    JSONSchema.string("Default: its database name.")
                ),
                ("read_only", JSONSchema.boolean()),
            ], required: ["connection_string"]),
        outputSchema: JSONSchema.output([("database", DatabaseTools.entrySchema)], required: ["database"]),
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        keepsSessionState: true, needsDynamicConnections: true,
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
        description: "Closes one of this session's connect_database connections: its statements are cancelled and its transaction rolled back.",
        inputSchema: JSONSchema.object([("name", JSONSchema.string())], required: ["name"]),
        outputSchema: JSONSchema.output([("disconnected", ["type": "string"]), ("activeDatabase", ["type": "string"])], required: ["disconnected", "activeDatabase"]),
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: true),
        keepsSessionState: true, needsDynamicConnections: true,
        handler: { call throws(ToolError) in
            let name = try call.arguments.requiredString("name")
            try await call.run { calls throws(DatabaseCallError) in try await calls.disconnectDatabase(session: call.session, name: name) }
            return JSONObject([("disconnected", .string(name)), ("activeDatabase", .string(call.session.activeDatabase))])
        })
}
