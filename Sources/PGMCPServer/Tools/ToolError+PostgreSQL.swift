import PGClient
import PGMCPJSON
import PGRegistry

extension ToolError {
    /// A PostgreSQL error as a person or an agent can act on it: what happened in this server's terms
    /// (which limit, which setting, which argument) and what to do next, with PostgreSQL's own
    /// SQLSTATE, message, detail, hint and position kept in the text and in `details`.
    static func explaining(_ error: PGError, on target: DatabaseTarget) -> ToolError {
        var explained = ToolError.from(error)
        let name = target.name
        switch error.sqlState {
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
        return explained
    }
}
