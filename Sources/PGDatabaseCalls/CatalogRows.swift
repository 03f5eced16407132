import PGClient
import PGMCPJSON

extension PGConnection {
    /// A catalog read of pgmcp's own on the connection a call holds (type names, function
    /// volatility): its rows, or nil when it failed. Inside the session's open transaction
    /// (`inTransaction`) it runs in a read-only savepoint, undone when it fails, so that pgmcp's own
    /// read never aborts the caller's transaction.
    func catalogRows(_ lookup: PGStatement, inTransaction: Bool) async -> [[JSONValue]]? {
        guard inTransaction else { return try? await query(lookup.sql, parameters: lookup.parameters).rows }
        let rows = try? await scopedReads([lookup], in: .savepoint(readOnly: true), statementTimeoutMs: nil).first?.rows
        if rows == nil, transactionStatus == .inFailedTransaction { try? await undoScopedSavepoint() }
        return rows
    }
}
