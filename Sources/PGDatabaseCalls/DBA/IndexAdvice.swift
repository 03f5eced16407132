import PGMCPJSON

/// What `suggest_indexes` answers: the indexes worth creating, most useful first, and what it
/// examined to find them. Nothing in it was created.
public struct IndexAdvice: Sendable {
    public struct Suggestion: Sendable {
        /// The `CREATE INDEX` statement to run (not run here), names quoted where SQL needs it.
        public var create: String
        /// `schema.name`, each part quoted where SQL needs it.
        public var table: String
        public var columns: [String]
        /// hypopg's estimate of the index's size.
        public var estimatedSizeBytes: Int64
        /// The statements whose plan uses the index once all suggestions exist.
        public var statements: [StatementCost]
    }

    /// A statement's estimated plan cost (PostgreSQL's cost units) without any suggested index, and
    /// with all of them.
    public struct StatementCost: Sendable {
        public var sql: String
        public var costBefore: Double
        public var costAfter: Double
    }

    public var suggestions: [Suggestion]
    /// How many statements were planned.
    public var statementsExamined: Int
    /// Statements left out, and why (a placeholder whose type PostgreSQL cannot tell, a table that
    /// is gone, a statement kind no index serves).
    public var skipped: [(sql: String, reason: String)]
    /// How many candidate indexes the search had to choose from, and how many sets it costed.
    public var candidates: Int
    public var evaluations: Int
    /// The time budget ran out before the search was done: more time might find more.
    public var budgetExhausted: Bool

    public var json: JSONObject {
        let suggestions = suggestions.map { suggestion -> JSONValue in
            [
                "create": .string(suggestion.create), "table": .string(suggestion.table), "columns": .array(suggestion.columns.map(JSONValue.string)),
                "estimatedSizeBytes": .int(suggestion.estimatedSizeBytes),
                "statements": .array(
                    suggestion.statements.map {
                        ["sql": .string($0.sql), "costBefore": .double(Self.rounded($0.costBefore)), "costAfter": .double(Self.rounded($0.costAfter))]
                    }),
            ]
        }
        var object = JSONObject([
            ("suggestions", .array(suggestions)), ("statementsExamined", .int(Int64(statementsExamined))),
            ("candidates", .int(Int64(candidates))), ("evaluations", .int(Int64(evaluations))), ("budgetExhausted", .bool(budgetExhausted)),
        ])
        if !skipped.isEmpty {
            object["skipped"] = .array(skipped.map { ["sql": .string($0.sql), "reason": .string($0.reason)] })
        }
        return object
    }

    static func rounded(_ cost: Double) -> Double { (cost * 100).rounded() / 100 }
}
