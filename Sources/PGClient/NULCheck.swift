/// libpq takes C strings, which end at the first NUL: a statement, parameter or connection value
/// holding one would reach PostgreSQL cut short — `DELETE FROM t\0 WHERE id = 1` would delete every
/// row. PostgreSQL text cannot hold NUL anyway, so anything holding one is refused before it is sent.
enum NULCheck {
    /// The 1-based character position of the first NUL in `text`, or `nil` when there is none.
    static func position(in text: String) -> Int? {
        guard holdsNUL(text) else { return nil }
        return (text.firstIndex(of: "\0").map { text.distance(from: text.startIndex, to: $0) } ?? 0) + 1
    }

    /// Whether `text` holds a NUL: a scan of its bytes in place (every statement of every pipeline
    /// passes here, the reset's too, and stepping through `utf8` one index at a time cost more).
    static func holdsNUL(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { $0.contains(0) } ?? text.utf8.contains(0)
    }

    /// Refuses a statement whose SQL or parameters hold a NUL, naming which and where.
    static func check(sql: String, parameters: [String?]) throws(PGError) {
        if let position = position(in: sql) {
            throw PGError(
                kind: .statement,
                message: "the SQL text holds a NUL character (\\u0000) at position \(position); PostgreSQL text cannot contain NUL, and the statement was not sent. Remove it",
                sqlState: invalidCharacterState)
        }
        for (index, parameter) in parameters.enumerated() {
            if let parameter, let position = position(in: parameter) {
                throw PGError(
                    kind: .statement,
                    message:
                        "parameter $\(index + 1) holds a NUL character (\\u0000) at position \(position); PostgreSQL text cannot contain NUL, and the statement was not sent. Remove it, or pass binary data as hex text (e.g. '\\\\x00ff' for bytea)",
                    sqlState: invalidCharacterState)
            }
        }
    }

    /// Refuses connection parameters holding a NUL, naming the keyword but never the value (it may
    /// be a password).
    static func check(keywords: [String], values: [String]) throws(PGError) {
        for (keyword, value) in zip(keywords, values) where position(in: value) != nil || position(in: keyword) != nil {
            throw PGError(
                kind: .invalidParameters,
                message: "the connection parameter '\(keyword.replacingNUL)' holds a NUL character (\\u0000), which libpq would cut it at; remove it")
        }
    }

    /// PostgreSQL's SQLSTATE for a character it cannot store (`character_not_in_repertoire`).
    static let invalidCharacterState = "22021"
}

extension String {
    /// For quoting text that may hold a NUL in a message.
    fileprivate var replacingNUL: String { replacing("\0", with: "\\u0000") }
}
