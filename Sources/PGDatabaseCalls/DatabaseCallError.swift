import PGClient
import PGMCPJSON
import PGRegistry

/// A database call's failure as a person or an agent can act on it: the sentence to show, and, for
/// a PostgreSQL error, its SQLSTATE, message, detail, hint and position as fields of their own.
public struct DatabaseCallError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var sqlState: String?
    /// PostgreSQL's own message, when the error came from PostgreSQL.
    public var serverMessage: String?
    public var detail: String?
    public var hint: String?
    public var position: Int?
    /// Says why the server cancelled the call (its session ended, its database was disconnected).
    public var explainsCancellation = false

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    /// The PostgreSQL fields as JSON (`sqlstate`, `message`, `detail`, `hint`, `position`), or nil.
    public var details: JSONObject? {
        guard let serverMessage else { return nil }
        var details = JSONObject()
        if let sqlState { details["sqlstate"] = .string(sqlState) }
        details["message"] = .string(serverMessage)
        if let detail { details["detail"] = .string(detail) }
        if let hint { details["hint"] = .string(hint) }
        if let position { details["position"] = .int(Int64(position)) }
        return details
    }

    /// Any failure as the caller sees it: a PostgreSQL error with its fields; a registry error's own
    /// sentence; a cancellation as such.
    public static func from(_ error: any Error) -> DatabaseCallError {
        switch error {
        case let error as DatabaseCallError:
            return error
        case let error as PGError:
            let prefix = error.kind == .connection ? "database connection failed: " : ""
            var failure = DatabaseCallError(prefix + error.description)
            failure.sqlState = error.sqlState
            failure.serverMessage = error.message
            failure.detail = error.detail
            failure.hint = error.hint
            failure.position = error.position
            return failure
        case let error as RegistryError:
            var failure = DatabaseCallError(error.message)
            failure.explainsCancellation = [.sessionEnded, .closedUnderCall].contains(error.kind)
            return failure
        case is CancellationError:
            return DatabaseCallError("the call was cancelled")
        default:
            return DatabaseCallError(String(describing: error))
        }
    }

    /// A PostgreSQL error in this server's terms (which limit, which setting, which argument) and
    /// what to do next; PostgreSQL's own words stay in the text and in the fields.
    static func explaining(_ error: PGError, on target: DatabaseTarget, inTransaction: Bool = false) -> DatabaseCallError {
        var explained = from(error)
        let name = target.name
        switch error.sqlState {
        case "25P02":
            explained.message = """
                \(error.description)
                A statement of this session's transaction on '\(name)' failed earlier, so PostgreSQL ignores everything until \
                the transaction ends: call rollback_transaction (nothing of it is committed), then begin again.
                """
        case PGError.queryCanceledState where error.kind != .cancelled && error.message.contains("statement timeout"):
            explained.message = """
                the statement ran longer than database '\(name)' allows (statementTimeoutMs = \(target.config.statementTimeoutMs) ms) \
                and was stopped. Make it cheaper (a narrower WHERE, a LIMIT, an index), or raise statementTimeoutMs for '\(name)' \
                in the configuration. (\(error.description))
                """
        case "08P01" where error.message.hasPrefix("bind message supplies"):
            let numbers = error.message.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
            let (given, needed) = numbers.count >= 2 ? (numbers[0], numbers[1]) : (nil, nil)
            let counts = given.flatMap { given in needed.map { "the statement has \($0) placeholder(s) ($1…) but 'params' holds \(given) value(s)" } }
            explained.message = """
                \(counts ?? "the number of values in 'params' does not match the statement's placeholders"): pass exactly one \
                value per placeholder $1, $2, …, in order. (\(error.description))
                """
        case "42601" where error.message.contains("multiple commands"):
            explained.message = """
                'sql' holds more than one statement; each call runs exactly one. Send each statement in a call of its own. \
                (\(error.description))
                """
        case "42P18":
            explained.message = """
                \(error.description)
                PostgreSQL cannot tell a parameter's type from the statement alone: add a cast in the SQL, e.g. $1::int or $1::text.
                """
        case "25006":
            explained.message = """
                \(error.description)
                This call runs in a READ ONLY transaction ('query', or any call on read-only database '\(name)'). To write, use \
                'execute' on a writable database.
                """
        default:
            break
        }
        if inTransaction, error.kind == .statement, error.sqlState != "25P02" {
            explained.message += "\nThis call ran inside the session's open transaction on '\(name)', which is now aborted: call rollback_transaction."
        }
        return explained
    }
}
