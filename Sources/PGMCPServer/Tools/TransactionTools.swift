import PGDatabaseCalls
import PGMCPJSON
import PGRegistry

/// begin_transaction, commit_transaction, rollback_transaction: a transaction held open across calls.
enum TransactionTools {
    static let transactionSchema: JSONValue = [
        "type": "object",
        "properties": [
            "database": ["type": "string"], "readOnly": ["type": "boolean"], "startedAt": ["type": "string"],
            "status": ["type": "string", "enum": ["open", "aborted"]], "ageSeconds": ["type": "number"], "idleSeconds": ["type": "number"],
        ],
        "required": ["database", "readOnly", "startedAt", "status"],
    ]

    static let begin = ToolDefinition(
        name: "begin_transaction", title: "Begin a transaction",
        description:
            "Opens a transaction that lasts across calls: query and execute on that database run in it until commit_transaction or rollback_transaction. Read-only unless read_only is false; rolled back when left idle.",
        inputSchema: JSONSchema.object([
            ("database", JSONSchema.database),
            ("read_only", JSONSchema.boolean("Default: the database's mode.")),
        ]),
        outputSchema: JSONSchema.output([("transaction", transactionSchema)], required: ["transaction"]),
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: true),
        keepsSessionState: true,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let readOnly = try call.arguments.bool("read_only")
            let info = try await call.run { calls throws(DatabaseCallError) in
                try await calls.beginTransaction(session: call.session, database: database, readOnly: readOnly)
            }
            return JSONObject([("transaction", json(info))])
        })

    static let endSchema = JSONSchema.output(
        [
            ("database", ["type": "string"]), ("outcome", ["type": "string", "enum": ["committed", "rolled_back"]]),
            ("durationSeconds", ["type": "number"]),
        ], required: ["database", "outcome"])

    static let commit = ending(
        name: "commit_transaction", title: "Commit the transaction",
        description: "Commits the open transaction on a database. If the answer to COMMIT is lost, the error says the outcome is unknown.",
        destructive: true, { calls, session, database throws(DatabaseCallError) in try await calls.commitTransaction(session: session, database: database) })

    static let rollback = ending(
        name: "rollback_transaction", title: "Roll back the transaction",
        description: "Rolls back the open transaction on a database and releases its locks.",
        destructive: true, { calls, session, database throws(DatabaseCallError) in try await calls.rollbackTransaction(session: session, database: database) })

    /// commit_transaction and rollback_transaction: the same arguments, result and handling; only
    /// the call differs.
    static func ending(
        name: String, title: String, description: String, destructive: Bool,
        _ end: @escaping @Sendable (DatabaseCalls, WorkSession, String?) async throws(DatabaseCallError) -> TransactionEnd
    ) -> ToolDefinition {
        ToolDefinition(
            name: name, title: title, description: description,
            inputSchema: JSONSchema.object([("database", JSONSchema.database)]), outputSchema: endSchema,
            annotations: ToolAnnotations(readOnly: false, destructive: destructive, idempotent: false, openWorld: true),
            keepsSessionState: true,
            handler: { call throws(ToolError) in
                let database = try call.arguments.string("database")
                return json(try await call.run { calls throws(DatabaseCallError) in try await end(calls, call.session, database) })
            })
    }

    static func json(_ info: TransactionInfo) -> JSONValue {
        .object(
            JSONObject([
                ("database", .string(info.database)), ("readOnly", .bool(info.readOnly)), ("startedAt", .string(iso8601(info.startedAt))),
                ("status", .string(info.status)), ("ageSeconds", .double(rounded(info.ageSeconds))), ("idleSeconds", .double(rounded(info.idleSeconds))),
            ]))
    }

    static func json(_ end: TransactionEnd) -> JSONObject {
        JSONObject([("database", .string(end.database)), ("outcome", .string(end.outcome)), ("durationSeconds", .double(rounded(end.durationSeconds)))])
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
