import PGMCPJSON

/// Other sessions' statement text, as the DBA tools show it, without the passwords it may hold.
///
/// pg_stat_statements replaces constants with `$1` in ordinary statements, but on PostgreSQL 15 it
/// keeps utility statements as they were sent (`ALTER ROLE app PASSWORD 'hunter2'`), and
/// pg_stat_activity shows any statement whole. Secrets never appear in pgmcp's output, so a password
/// literal, a `password=` keyword of a connection string and the password of a URI are replaced with
/// `…` before the text leaves the server.
enum StatementTextRedaction {
    /// `PASSWORD 'x'`, `PASSWORD = 'x'` (any case, `''` inside the literal), `E'…'` and `$$…$$` too.
    nonisolated(unsafe) private static let passwordLiteral = #/(?i)(password\s*=?\s*)(?:[eE]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|\$([A-Za-z_]*)\$.*?\$\2\$)/#
    /// `password=secret` inside a connection string (up to a space or a quote).
    nonisolated(unsafe) private static let conninfoPassword = #/(?i)(password\s*=\s*)[^\s'"]+/#
    /// `scheme://user:secret@host`.
    nonisolated(unsafe) private static let uriPassword = #/(://[^\s:/@'"]*:)[^\s@/'"]+@/#

    static func redact(_ text: String) -> String {
        guard text.lowercased().contains("password") || text.contains("://") else { return text }
        var text = text.replacing(passwordLiteral) { "\($0.output.1)'…'" }
        text = text.replacing(conninfoPassword) { "\($0.output.1)…" }
        return text.replacing(uriPassword) { "\($0.output.1)…@" }
    }

    /// A statement-text column of a row: redacted when it is a string.
    static func redact(_ value: JSONValue) -> JSONValue {
        guard case .string(let text) = value else { return value }
        return .string(redact(text))
    }
}
