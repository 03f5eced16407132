import PGMCPJSON

/// A table as a plan names it: its schema and name, as the catalog spells them (unquoted).
struct RelationName: Hashable, Sendable, CustomStringConvertible {
    var schema: String
    var name: String

    var description: String { "\(schema).\(name)" }
}

/// The columns of one table that one statement filters, joins and sorts on, each list in the
/// order the plan shows them, without repeats: what index candidates are made of.
struct ColumnUses: Equatable, Sendable {
    /// Compared for equality in a filter or an index condition: the leading columns of a btree.
    var equality: [String] = []
    /// Compared as a range: a btree's column after the equality ones.
    var range: [String] = []
    /// Compared for equality with another table's column (hash, merge and nested-loop joins): an
    /// index there lets a nested loop look rows up instead of scanning.
    var joins: [String] = []
    /// The sort (or grouping) keys, in order, when they are plain columns of this table: an index
    /// in that order returns the rows sorted.
    var sort: [String] = []

    static func append(_ column: String, to list: inout [String]) {
        if !list.contains(column) { list.append(column) }
    }
}

/// Reads a statement's plan (`EXPLAIN (VERBOSE, FORMAT JSON)`) for the tables it scans and the
/// columns it uses on each. A pure function of the plan's JSON, so it is tested without a server.
///
/// Why the plan and not the statement's text: the plan has already resolved views, aliases, `*`,
/// CTEs and subqueries to real tables and columns, and it says which conditions reach each scan
/// (after PostgreSQL's own rewriting: `a = b AND b = 3` filters `a` too). VERBOSE qualifies each
/// column by its alias and gives each scan its schema, which together name every table exactly.
enum PlanColumnUses {
    /// Conditions that belong to the scan they are printed on, or to a join above scans.
    private static let conditionKeys = ["Filter", "Index Cond", "Recheck Cond"]
    private static let joinKeys = ["Hash Cond", "Merge Cond", "Join Filter"]
    private static let sortKeys = ["Sort Key", "Group Key", "Presorted Key"]
    private static let sortWords: Set<String> = ["asc", "desc", "nulls", "first", "last"]

    /// Every table the plan scans, in the order first met, with the columns used on it.
    static func uses(inPlan explained: JSONValue) -> [(table: RelationName, uses: ColumnUses)] {
        let roots = (explained.arrayValue ?? [explained]).compactMap { $0["Plan"] }
        var aliases: [String: RelationName] = [:]
        var order: [RelationName] = []
        for root in roots { collectAliases(root, into: &aliases, order: &order) }
        var uses: [RelationName: ColumnUses] = [:]
        for root in roots { collectUses(root, aliases: aliases, into: &uses) }
        return order.map { ($0, uses[$0] ?? ColumnUses()) }
    }

    private static func children(_ node: JSONValue) -> [JSONValue] { node["Plans"]?.arrayValue ?? [] }

    private static func collectAliases(_ node: JSONValue, into aliases: inout [String: RelationName], order: inout [RelationName]) {
        if let name = node["Relation Name"]?.stringValue, let schema = node["Schema"]?.stringValue {
            let table = RelationName(schema: schema, name: name)
            // EXPLAIN makes every alias of a statement unique (`t`, `t_1`), so one alias is one table.
            aliases[node["Alias"]?.stringValue ?? name] = table
            if !order.contains(table) { order.append(table) }
        }
        for child in children(node) { collectAliases(child, into: &aliases, order: &order) }
    }

    private static func collectUses(_ node: JSONValue, aliases: [String: RelationName], into uses: inout [RelationName: ColumnUses]) {
        for key in conditionKeys + joinKeys {
            guard let text = node[key]?.stringValue else { continue }
            let isJoin = joinKeys.contains(key)
            for reference in PlanExpression.references(in: text) {
                guard let table = aliases[reference.alias] else { continue }
                switch reference.use {
                case .equality where isJoin: ColumnUses.append(reference.column, to: &uses[table, default: ColumnUses()].joins)
                case .equality: ColumnUses.append(reference.column, to: &uses[table, default: ColumnUses()].equality)
                case .range: ColumnUses.append(reference.column, to: &uses[table, default: ColumnUses()].range)
                case .other: break
                }
            }
        }
        for key in sortKeys {
            guard let keys = node[key]?.arrayValue?.compactMap(\.stringValue), let (table, columns) = sortColumns(keys, aliases: aliases) else { continue }
            if uses[table, default: ColumnUses()].sort.isEmpty { uses[table, default: ColumnUses()].sort = columns }
        }
        for child in children(node) { collectUses(child, aliases: aliases, into: &uses) }
    }

    /// The longest run of leading sort keys that are plain columns of one table (`t.a`, `t.b DESC`).
    static func sortColumns(_ keys: [String], aliases: [String: RelationName]) -> (RelationName, [String])? {
        var table: RelationName?
        var columns: [String] = []
        for key in keys {
            let tokens = PlanExpression.tokenize(key)
            guard tokens.count >= 3, case .name(let alias) = tokens[0], tokens[1] == .symbol("."), case .name(let column) = tokens[2],
                tokens.dropFirst(3).allSatisfy({ if case .name(let word) = $0 { sortWords.contains(word) } else { false } }),
                let keyTable = aliases[alias], table == nil || table == keyTable
            else { break }
            table = keyTable
            ColumnUses.append(column, to: &columns)
        }
        return table.map { ($0, columns) }
    }
}
