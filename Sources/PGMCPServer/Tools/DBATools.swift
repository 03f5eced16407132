import PGDatabaseCalls
import PGMCPJSON

/// The `dba` group: database_health, top_queries, blocking_locks (suggest_indexes has a file of its
/// own). Read-only catalog and statistics reads, served when `PGMCP_TOOLS` names the group.
enum DBATools {
    static let finding: JSONValue = [
        "type": "object",
        "properties": [
            "check": ["type": "string"], "severity": ["type": "string", "enum": ["info", "warning", "critical"]],
            "object": JSONSchema.stringOrNull, "evidence": ["type": "object"], "advice": ["type": "string"],
        ],
    ]

    static let databaseHealth = ToolDefinition(
        name: "database_health", title: "Check database health",
        description:
            "Checks a database for problems: invalid, duplicate, unused and bloated indexes, bloated and never-analysed tables, sequences near their end, invalid constraints, connections, transaction-ID wraparound, replication lag and slots, cache hit rate, sessions idle in a transaction. Each finding has a severity, its evidence and what to do.",
        inputSchema: JSONSchema.object([("database", JSONSchema.database)]),
        outputSchema: JSONSchema.output(
            [
                ("findings", JSONSchema.array(of: finding)), ("checked", JSONSchema.array(of: ["type": "string"])),
                ("skipped", JSONSchema.array(of: ["type": "object"])),
            ], required: ["findings", "checked"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let report = try await call.run { calls throws(DatabaseCallError) in
                try await calls.databaseHealth(session: call.session, database: database)
            }
            var result = JSONObject([
                ("findings", .array(report.findings.map(\.json))), ("checked", .array(report.checked.map(JSONValue.string))),
            ])
            if !report.skipped.isEmpty {
                result["skipped"] = .array(report.skipped.map { ["check": .string($0.check), "reason": .string($0.reason)] })
            }
            return result
        })

    static let topQueries = ToolDefinition(
        name: "top_queries", title: "Top queries of the workload",
        description:
            "The statements that cost this database most, from pg_stat_statements: by total_time (default), mean_time, or resources (time, blocks read and dirtied, WAL). Statement text is normalised ($1 for constants) and cut to a length.",
        inputSchema: JSONSchema.object([
            ("database", JSONSchema.database),
            ("by", ["type": "string", "enum": .array(WorkloadRanking.allCases.map { .string($0.rawValue) })]),
            ("limit", JSONSchema.integer(minimum: 1, maximum: 100)),
        ]),
        outputSchema: JSONSchema.output(
            [
                (
                    "queries",
                    JSONSchema.array(of: [
                        "type": "object",
                        "properties": [
                            "query": ["type": "string"], "calls": ["type": "integer"], "totalMs": ["type": "number"], "meanMs": ["type": "number"],
                            "rows": ["type": "integer"], "sharedBlocksHit": ["type": "integer"], "sharedBlocksRead": ["type": "integer"],
                            "share": ["type": "number"],
                        ],
                    ])
                )
            ], required: ["queries"]),
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let by = try call.arguments.string("by") ?? WorkloadRanking.totalTime.rawValue
            guard let ranking = WorkloadRanking(rawValue: by) else {
                throw ToolError("argument 'by' must be one of \(WorkloadRanking.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")), got '\(by)'")
            }
            let limit = try call.arguments.integer("limit", in: 1...100) ?? 10
            let queries = try await call.run { calls throws(DatabaseCallError) in
                try await calls.topQueries(session: call.session, database: database, ranking: ranking, limit: limit)
            }
            return JSONObject([("queries", .array(queries))])
        })

    static let blockingLocks = ToolDefinition(
        name: "blocking_locks", title: "Show lock waits",
        description:
            "Who waits on whom for a lock, as chains: each session that waits, then the sessions blocking it, down to the ones that block without waiting (usually the ones to act on), with durations and statements.",
        inputSchema: JSONSchema.object([("database", JSONSchema.database)]),
        outputSchema: JSONSchema.output(
            [("chains", JSONSchema.array(of: ["type": "object", "properties": ["waiting": ["type": "object"], "blockedBy": ["type": "array"]]]))],
            required: ["chains"]),
        annotations: ToolAnnotations(readOnly: true, destructive: false, idempotent: false, openWorld: true),
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let chains = try await call.run { calls throws(DatabaseCallError) in
                try await calls.blockingLocks(session: call.session, database: database)
            }
            return JSONObject([("chains", .array(chains))])
        })
}
