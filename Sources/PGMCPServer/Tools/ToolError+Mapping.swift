import PGDatabaseCalls
import PGMCPJSON

extension ToolError {
    /// Maps any failure to what the client sees: a database call's sentence with PostgreSQL's
    /// fields (SQLSTATE, message, detail, hint, position) in `details`.
    static func from(_ error: any Error) -> ToolError {
        if let error = error as? ToolError { return error }
        let failure = DatabaseCallError.from(error)
        var mapped = ToolError(failure.message, details: failure.details)
        mapped.explainsCancellation = failure.explainsCancellation
        return mapped
    }
}

extension ToolCall {
    /// Runs a database call, its failure reported as the tool's.
    func run<R>(_ body: (DatabaseCalls) async throws(DatabaseCallError) -> R) async throws(ToolError) -> R {
        do { return try await body(server.calls) } catch { throw ToolError.from(error) }
    }
}

/// Milliseconds with two decimals, for `elapsedMs`.
func milliseconds(_ duration: Duration) -> JSONValue { .double(PGDatabaseCalls.milliseconds(duration)) }
