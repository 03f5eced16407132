/// The one error type of PGClient: a PostgreSQL error with its diagnostic fields, or a failure of
/// the connection itself. Messages never hold a password (see `PGConnectionParameters.redact`).
public struct PGError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Connecting failed, or the connection broke mid-way (network, authentication, server gone).
        case connection
        /// Connecting took longer than the connect timeout.
        case timeout
        /// PostgreSQL refused or failed the statement; the connection is still usable.
        case statement
        /// The statement was cancelled (by `cancel()` or task cancellation).
        case cancelled
        /// A connection string or parameter that libpq cannot parse.
        case invalidParameters
        /// The connection was used in a way it does not allow (closed, or already busy).
        case misuse
    }

    public var kind: Kind
    /// Five-character SQLSTATE code, e.g. `42601` for a syntax error; `nil` for client-side failures.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    /// 1-based character position in the statement where the error was detected.
    public var position: Int?
    /// `ERROR`, `FATAL`, `PANIC` (non-localized), when PostgreSQL sent it.
    public var severity: String?

    public init(
        kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        position: Int? = nil, severity: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.position = position
        self.severity = severity
    }

    /// One line per field a person would act on: `ERROR 42601: syntax error at or near "SELEC" (position 1)`.
    public var description: String {
        var text = ""
        if let severity { text += severity + " " }
        if let sqlState { text += sqlState + ": " }
        text += message
        if let position { text += " (position \(position))" }
        if let detail { text += "\nDETAIL: " + detail }
        if let hint { text += "\nHINT: " + hint }
        return text
    }

    /// `query_canceled`: raised by PQcancel or statement_timeout.
    public static let queryCanceledState = "57014"
    /// `active_sql_transaction`: a statement that cannot run inside a transaction block (`VACUUM`).
    public static let activeTransactionState = "25001"

    /// A statement stopped by `cancel()` or task cancellation before it reached the server.
    static let cancelledBeforeSent = PGError(
        kind: .cancelled, message: "the statement was cancelled before it was sent", sqlState: queryCanceledState)
}
