/// A result column: its name and type.
public struct PGColumn: Sendable, Equatable {
    public var name: String
    public var typeOID: UInt32
    /// `format_type`-style name for built-in types (`integer`, `text[]`), else `nil`.
    public var typeName: String? { PGType.name(of: typeOID) }

    public init(name: String, typeOID: UInt32) {
        self.name = name
        self.typeOID = typeOID
    }
}

/// What one statement did, as PostgreSQL reported it.
public struct PGCommandResult: Sendable, Equatable {
    /// The command tag, e.g. `SELECT 3`, `INSERT 0 1`, `CREATE TABLE`.
    public var commandTag: String
    /// Rows inserted/updated/deleted/selected according to the tag; `nil` when the tag has no count.
    public var rowsAffected: Int?
    /// Columns of the result; empty for statements that return no rows.
    public var columns: [PGColumn]
    /// True when the row sink stopped early and the rest was cancelled and discarded.
    public var stoppedEarly: Bool

    /// The first word(s) of the tag, e.g. `INSERT`, `CREATE TABLE`.
    public var command: String {
        commandTag.split(separator: " ").prefix { !$0.allSatisfy(\.isNumber) }.joined(separator: " ")
    }
}
