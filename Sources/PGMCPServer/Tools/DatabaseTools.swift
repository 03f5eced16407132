import Foundation
import PGDatabaseCalls
import PGMCPJSON
import PGRegistry

/// list_databases, select_database, current_database.
enum DatabaseTools {
    static let entrySchema: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "title": ["type": "string"], "description": ["type": ["string", "null"]],
            "kind": ["type": "string", "enum": ["configured", "dynamic"]], "active": ["type": "boolean"],
            "readOnly": ["type": "boolean"], "host": ["type": ["string", "null"]], "port": ["type": ["integer", "null"]],
            "dbname": ["type": ["string", "null"]], "user": ["type": ["string", "null"]],
            "status": ["type": "string", "enum": ["healthy", "unhealthy", "unknown"]],
        ],
        "required": ["name", "kind", "active", "readOnly", "status"],
    ]

    static let listDatabases = ToolDefinition(
        name: "list_databases", title: "List databases",
        description: "Lists the databases you can use: which one is active, whether each is read-only, and whether it answers. Start here.",
        inputSchema: JSONSchema.object([]),
        outputSchema: JSONSchema.output([("databases", JSONSchema.array(of: entrySchema))], required: ["databases"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let active = call.session.activeDatabase
            let targets = call.server.registry.visibleDatabases(for: call.session)
            // Health first-hand: a database down or missing reads unhealthy the first time, not unknown.
            let snapshots = await call.server.registry.probedSnapshots(of: targets)
            let entries = zip(targets, snapshots).map { entry(for: $0, active: active, snapshot: $1) }
            return JSONObject([("databases", .array(entries))])
        })

    static func entry(for target: DatabaseTarget, active: String, snapshot: PoolStateMachine.Snapshot? = nil) -> JSONValue {
        let connection = target.config.connection
        let snapshot = snapshot ?? target.pool.snapshot()
        return .object(
            JSONObject([
                ("name", .string(target.name)), ("title", .string(target.config.title)),
                ("description", target.config.description.map(JSONValue.string) ?? .null),
                ("kind", .string(target.kind.rawValue)), ("active", .bool(target.name == active)),
                ("readOnly", .bool(target.config.readOnly)),
                ("host", connection.host.map(JSONValue.string) ?? .null),
                ("port", connection.port.flatMap { Int64($0) }.map(JSONValue.int) ?? .null),
                ("dbname", connection.database.map(JSONValue.string) ?? .null),
                ("user", connection.user.map(JSONValue.string) ?? .null),
                ("status", .string(snapshot.health.rawValue)),
            ]))
    }

    static let currentSchema = currentSchema(session: ["type": "object"])

    /// current_database's result. For select_database, `session` may be the handle of the work
    /// session a 2026-07-28 call without one was kept in (`MCPSessionGate.callKeepingSession`).
    static func currentSchema(session: JSONValue) -> JSONValue {
        JSONSchema.output(
            [
                ("database", ["type": "string"]), ("readOnly", ["type": "boolean"]), ("serverVersion", JSONSchema.stringOrNull),
                ("session", session), ("transaction", ["anyOf": [TransactionTools.transactionSchema, ["type": "null"]]]),
            ], required: ["database", "readOnly", "session"])
    }

    static let currentDatabase = ToolDefinition(
        name: "current_database", title: "Current database",
        description: "Shows the active database (read-only or not, server version), any transaction open on it, and this session's statistics.",
        inputSchema: JSONSchema.object([]), outputSchema: currentSchema, annotations: .readsDatabase,
        handler: { call throws(ToolError) in try await current(call) })

    static let selectDatabase = ToolDefinition(
        name: "select_database", title: "Select database",
        description: "Makes a database the active one for later calls that pass no 'database'. The choice lasts for this MCP session only. Returns what current_database returns.",
        inputSchema: JSONSchema.object(
            [("database", JSONSchema.string())], required: ["database"]),
        outputSchema: currentSchema(session: ["type": ["object", "string"]]), annotations: .sessionState,
        keepsSessionState: true,
        handler: { call throws(ToolError) in
            let name = try call.arguments.requiredString("database")
            do { try await call.server.registry.selectDatabase(name, for: call.session) } catch { throw ToolError.from(error) }
            return try await current(call)
        })

    static func current(_ call: ToolCall) async throws(ToolError) -> JSONObject {
        let current = try await call.run { calls throws(DatabaseCallError) in try await calls.currentDatabase(session: call.session) }
        let info = call.session.info
        let session = JSONObject([
            ("queries", .int(Int64(info.queries))), ("errors", .int(Int64(info.errors))),
            ("rowsReturned", .int(Int64(info.rowsReturned))), ("connectionsHeld", .int(Int64(info.connectionsHeld))),
            ("connectionLimit", .int(Int64(info.connectionLimit))), ("createdAt", .string(iso8601(info.createdAt))),
            ("lastActivityAt", .string(iso8601(info.lastActivityAt))),
        ])
        return JSONObject([
            ("database", .string(current.name)), ("readOnly", .bool(current.readOnly)),
            ("serverVersion", current.serverVersion.map(JSONValue.string) ?? .null), ("session", .object(session)),
            ("transaction", call.server.calls.openTransaction(session: call.session, database: current.name).map(TransactionTools.json) ?? .null),
        ])
    }
}

func iso8601(_ date: Date) -> String { date.ISO8601Format() }
