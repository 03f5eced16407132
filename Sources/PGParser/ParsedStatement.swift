/// What PostgreSQL's parser says a statement text is: the facts a caller needs to decide whether a
/// call may run it, found once per text (see `PGParser.parse`).
public struct ParsedStatement: Sendable, Equatable {
    /// How many statements the text holds (`SELECT 1; SELECT 2` is two; only comments is none).
    public var count: Int
    /// The parse-tree node of the first statement: `SelectStmt`, `InsertStmt`, `ExplainStmt`,
    /// `VariableShowStmt`, `LockStmt`, `DoStmt`…
    public var kind: String?
    /// What the first statement writes first, anywhere in it: `InsertStmt`, `UpdateStmt`,
    /// `DeleteStmt`, `MergeStmt` (a data-modifying `WITH` included) or `intoClause` (`SELECT … INTO`).
    public var firstWrite: String?
    /// For `EXPLAIN`: whether it runs the statement (`ANALYZE`), and the explained statement's node.
    public var explain: Explain?
    /// Every function called by name, each as written (`["pg_catalog", "pg_sleep"]`), in order.
    public var functions: [[String]]
    /// The last field of every column reference: `x.f` also calls a function `f(x)` when there is
    /// no column `f` (PostgreSQL's attribute notation), so such a name may be a call.
    public var attributeNames: [String]
    /// The highest placeholder number (`$3` → 3) anywhere in the first statement; 0 for none. What
    /// `EXECUTE` of the statement prepared must supply values for (`suggest_indexes` plans
    /// pg_stat_statements' normalised texts, whose constants are `$n`).
    public var parameterCount = 0

    public struct Explain: Sendable, Equatable {
        public var analyze: Bool
        public var explained: String?
    }

    public init(
        count: Int, kind: String?, firstWrite: String? = nil, explain: Explain? = nil, functions: [[String]] = [], attributeNames: [String] = []
    ) {
        self.count = count
        self.kind = kind
        self.firstWrite = firstWrite
        self.explain = explain
        self.functions = functions
        self.attributeNames = attributeNames
    }

    /// Whether the first statement writes anywhere in it.
    public var writes: Bool { firstWrite != nil }

    /// The write as PostgreSQL's read-only refusal names it: `DELETE`, `SELECT INTO`…
    public var writeCommand: String? {
        firstWrite.map { $0 == "intoClause" ? "SELECT INTO" : String($0.dropLast("Stmt".count)).uppercased() }
    }

    /// Whether the text is exactly one statement and it only reads (`firstOnlyReads`).
    public var onlyReads: Bool { count == 1 && firstOnlyReads }

    /// Whether the first statement only reads: a `SELECT` (`WITH`, `VALUES`, `TABLE`) that writes
    /// nowhere, `SHOW`, or `EXPLAIN` that does not run what it explains, or runs such a `SELECT`.
    /// What the functions it calls do is another question (see `functions`).
    public var firstOnlyReads: Bool {
        switch kind {
        case "SelectStmt", "VariableShowStmt": return !writes
        case "ExplainStmt": return explain.map { !$0.analyze || ($0.explained == "SelectStmt" && !writes) } ?? false
        default: return false
        }
    }
}

/// Why a statement text could not be parsed or checked.
public enum ParseFailure: Error, Sendable, Equatable {
    /// PostgreSQL's parser refused it: its message and 1-based character position.
    case syntax(message: String, position: Int?)
    /// Larger than the parser is run on (see `PGParser.Limits`): what was counted, and the limit.
    case tooLarge(what: String, count: Int, limit: Int)
    /// Not checked this time (no parser thread): the reason.
    case unavailable(String)
}
