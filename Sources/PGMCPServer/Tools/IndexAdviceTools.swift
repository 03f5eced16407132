import PGDatabaseCalls
import PGMCPJSON

/// `suggest_indexes`, in the `dba` group: arguments in, `DatabaseCalls.suggestIndexes`, JSON out.
enum IndexAdviceTools {
    static let statementCost: JSONValue = [
        "type": "object",
        "properties": ["sql": ["type": "string"], "costBefore": ["type": "number"], "costAfter": ["type": "number"]],
    ]

    static let suggestion: JSONValue = [
        "type": "object",
        "properties": [
            "create": ["type": "string"], "table": ["type": "string"], "columns": JSONSchema.array(of: ["type": "string"]),
            "estimatedSizeBytes": ["type": "integer"], "statements": JSONSchema.array(of: statementCost),
        ],
    ]

    static let suggestIndexes = ToolDefinition(
        name: "suggest_indexes", title: "Suggest indexes",
        description:
            "Suggests indexes for the statements given ($1 placeholders allowed), or else for the heaviest of the workload, costed with hypothetical indexes (hypopg) within budget_seconds. Nothing is created: each suggestion has its CREATE INDEX, estimated size, and each statement's cost before and after.",
        inputSchema: JSONSchema.object([
            ("database", JSONSchema.database),
            ("statements", ["type": "array", "items": ["type": "string"], "maxItems": .int(Int64(DatabaseCalls.adviceStatementLimit))]),
            ("budget_seconds", JSONSchema.integer(minimum: DatabaseCalls.adviceBudgetRange.lowerBound, maximum: DatabaseCalls.adviceBudgetRange.upperBound)),
        ]),
        outputSchema: JSONSchema.output(
            [
                ("suggestions", JSONSchema.array(of: suggestion)), ("statementsExamined", ["type": "integer"]),
                ("candidates", ["type": "integer"]), ("evaluations", ["type": "integer"]), ("budgetExhausted", ["type": "boolean"]),
                ("skipped", JSONSchema.array(of: ["type": "object", "properties": ["sql": ["type": "string"], "reason": ["type": "string"]]])),
            ], required: ["suggestions"]),
        // Hypothetical indexes only, in the backend, all dropped before the call ends: nothing changes.
        annotations: .readsDatabase,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let statements = try statements(call.arguments)
            let budget = try call.arguments.integer("budget_seconds", in: DatabaseCalls.adviceBudgetRange) ?? DatabaseCalls.adviceBudgetSeconds
            let advice = try await call.run { calls throws(DatabaseCallError) in
                try await calls.suggestIndexes(session: call.session, database: database, statements: statements, budget: .seconds(budget))
            }
            return advice.json
        })

    /// `statements`: nil when absent (the workload's), else one to `adviceStatementLimit` texts.
    static func statements(_ arguments: ToolArguments) throws(ToolError) -> [String]? {
        switch arguments.values["statements"] {
        case nil, .null?:
            return nil
        case .array(let items)? where (1...DatabaseCalls.adviceStatementLimit).contains(items.count):
            var texts: [String] = []
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue, !text.allSatisfy(\.isWhitespace) else {
                    throw ToolError("argument 'statements' item \(index + 1) must be a non-empty string of SQL, got \(item.typeName)")
                }
                texts.append(text)
            }
            return texts
        case let other?:
            throw ToolError(
                "argument 'statements' must be an array of 1 to \(DatabaseCalls.adviceStatementLimit) SQL statements (leave it out to examine the workload in pg_stat_statements), got \(other.jsonText.prefix(100))"
            )
        }
    }
}
