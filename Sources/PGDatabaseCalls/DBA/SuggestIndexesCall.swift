import PGClient
import PGRegistry

extension DatabaseCalls {
    /// The default time budget of `suggest_indexes`, and the range a caller may ask for: at least a
    /// second (less plans nothing), at most a minute (a tool call that holds a connection longer
    /// is better run as several).
    public static let adviceBudgetSeconds = 10
    public static let adviceBudgetRange = 1...60
    /// How many statements one call plans: each round of the search plans all of them once per
    /// candidate, so more statements mean fewer rounds within the budget.
    public static let adviceStatementLimit = 20
    /// How many of the workload's heaviest statements are examined when none are given.
    static let adviceWorkloadStatements = 10

    /// Indexes that would make `statements` (or, when nil, the heaviest statements of the workload
    /// in pg_stat_statements) cheaper, found with hypopg's hypothetical indexes: nothing is
    /// created. Everything runs on one connection in READ ONLY transactions under the database's
    /// statement timeout (in savepoints of the session's own transaction there, when it has one),
    /// and the connection leaves the call with no hypothetical index on it, or is not reused.
    public func suggestIndexes(
        session: WorkSession, database: String?, statements given: [String]?, budget: Duration
    ) async throws(DatabaseCallError) -> IndexAdvice {
        let deadline = ContinuousClock.now + budget
        let place = try await extensionPlace("hypopg", session, database)
        guard let hypopg = place.schema else { throw DatabaseCallError(Self.hypopgAdvice(place.database, major: place.serverMajor)) }
        let statements = try await advisedStatements(session, database, given)
        guard !statements.isEmpty else {
            return IndexAdvice(suggestions: [], statementsExamined: 0, skipped: [], candidates: 0, evaluations: 0, budgetExhausted: false)
        }
        return try await withDatabase(session, database) { connection, target, transaction in
            let shell = HypotheticalIndexes(
                connection: connection, scope: transaction == nil ? .transaction(readOnly: true) : .savepoint(readOnly: true),
                statementTimeoutMs: target.config.statementTimeoutMs, hypopg: hypopg)
            do {
                let advice = try await IndexAdvisor(shell: shell, deadline: deadline).advise(statements)
                await shell.clear()
                return advice
            } catch {
                await shell.clear()
                throw error
            }
        }
    }

    /// The statements to plan, each checked (`StatementRules.checkPlannable`) and weighted. A
    /// statement the caller gave that may not be planned fails the call (the caller asked for it);
    /// one of the workload is only left out (`CREATE`, `ANALYZE`, pgmcp's own statements… are in
    /// pg_stat_statements too).
    func advisedStatements(
        _ session: WorkSession, _ database: String?, _ given: [String]?
    ) async throws(DatabaseCallError) -> [AdvisedStatement] {
        if let given {
            var statements: [AdvisedStatement] = []
            for (position, sql) in given.enumerated() {
                do {
                    let parse = try await StatementRules.checkPlannable(sql)
                    statements.append(AdvisedStatement(sql: sql, parameterCount: parse.parameterCount, weight: 1))
                } catch {
                    var failure = error
                    failure.message = "statements item \(position + 1): \(error.message)"
                    throw failure
                }
            }
            return statements
        }
        let rows = try await workload(session, database, ranking: .totalTime, limit: 50, textLength: nil)
        var statements: [AdvisedStatement] = []
        for row in rows where statements.count < Self.adviceWorkloadStatements {
            guard let sql = row.first?.stringValue else { continue }
            // Left out without a word: statements no index serves (utility statements, pgmcp's own
            // EXPLAINs), and ones a caller could not have asked for either (pgmcp's own hypopg calls).
            guard let parse = try? await StatementRules.checkPlannable(sql) else { continue }
            // Calls × mean time: what the statement costs the server. A statement too fast to
            // measure still counts a little, so that a workload of only those is still examined.
            let weight = max(row.count > 2 ? row[2].numberValue ?? 0 : 0, 0.01)
            statements.append(AdvisedStatement(sql: sql, parameterCount: parse.parameterCount, weight: weight))
        }
        return statements
    }

    /// What to do when hypopg is missing, for the answer's message.
    static func hypopgAdvice(_ database: String, major: Int64?) -> String {
        let package = major.map { "postgresql-\($0)-hypopg" } ?? "postgresql-<major version>-hypopg"
        return """
            hypopg is not installed in '\(database)': suggest_indexes costs candidate indexes with hypopg's hypothetical \
            indexes (nothing is created). Install the extension's package on the database server (Debian/Ubuntu: apt-get \
            install \(package); elsewhere, the hypopg package for your PostgreSQL or a build from \
            https://github.com/HypoPG/hypopg), then run CREATE EXTENSION hypopg in this database (as a role allowed to \
            create extensions).
            """
    }
}
