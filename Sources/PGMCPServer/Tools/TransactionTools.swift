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
        description: """
            Opens a transaction on a database (default: the active one) that lasts across calls: until commit_transaction or \
            rollback_transaction, this session's query, execute, explain and catalog calls on that database run inside it and \
            see its uncommitted changes. Read-only unless read_only is false (default: the database's own mode; writing needs a \
            writable database, named or selected as for execute). It holds one of the session's connections. A statement that \
            fails leaves it aborted until rolled back. Left unused for PGMCP_TRANSACTION_IDLE_TIMEOUT seconds, or when the \
            session ends, it is rolled back. One per database per session.
            """,
        inputSchema: JSONSchema.object([
            ("database", JSONSchema.database),
            ("read_only", JSONSchema.boolean("Open it READ ONLY. Defaults to the database's mode (read-only databases only allow true).")),
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
        description: """
            Commits the session's open transaction on a database (default: the active one) and returns its connection. If a \
            statement in it failed, nothing is committed and the answer says so; if the answer to COMMIT is lost (the connection \
            broke), the error says the outcome is unknown: check the data before redoing anything.
            """,
        destructive: true, { calls, session, database throws(DatabaseCallError) in try await calls.commitTransaction(session: session, database: database) })

    static let rollback = ending(
        name: "rollback_transaction", title: "Roll back the transaction",
        description:
            "Rolls back the session's open transaction on a database (default: the active one): nothing of it is kept, its locks are released, and its connection returns to the pool.",
        destructive: false, { calls, session, database throws(DatabaseCallError) in try await calls.rollbackTransaction(session: session, database: database) })

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
