/// What the catalog says of a table a plan scans: its oid, its columns by name, and the key
/// columns of the indexes it already has.
struct TableFacts: Sendable, Equatable {
    var oid: Int64
    /// `attname` → `attnum`, dropped columns left out.
    var columns: [String: Int]
    /// Each valid, non-partial btree index's key columns by `attnum`, cut at the first expression.
    var indexes: [[Int]]
}

/// A btree index that might help: a table and its key columns, by name (to show) and by number
/// (what the hypothetical index is built from, on the server, with the catalog's names).
struct IndexCandidate: Hashable, Sendable, CustomStringConvertible {
    var table: RelationName
    var oid: Int64
    var columns: [String]
    var attnums: [Int]

    var description: String { "\(table)(\(columns.joined(separator: ", ")))" }
}

/// Turns the columns statements use into candidate indexes. Pure, so it is tested without a server.
///
/// The shapes a btree serves: equality columns first (any order serves equality; the plan's
/// order is kept), then one range or sort column; or the sort keys in order. Up to three columns,
/// since each more costs writes and size for a gain a planner seldom takes. A candidate an existing
/// index already has as its leading columns is left out: it would add nothing but size.
enum IndexCandidates {
    static let maximumColumns = 3

    /// Candidates from each statement's uses, in the order given (the heaviest statement first, so
    /// that a search cut short by its budget has tried what matters most), without repeats.
    static func make(_ statements: [[(table: RelationName, uses: ColumnUses)]], tables: [RelationName: TableFacts]) -> [IndexCandidate] {
        var seen: Set<[Int64]> = []
        var candidates: [IndexCandidate] = []
        for statement in statements {
            for (table, uses) in statement {
                guard let facts = tables[table] else { continue }
                for columns in columnLists(uses) {
                    let attnums = columns.compactMap { facts.columns[$0] }
                    guard attnums.count == columns.count, !covered(attnums, by: facts.indexes) else { continue }
                    guard seen.insert([facts.oid] + attnums.map(Int64.init)).inserted else { continue }
                    candidates.append(IndexCandidate(table: table, oid: facts.oid, columns: columns, attnums: attnums))
                }
            }
        }
        return candidates
    }

    /// Whether an existing index starts with exactly these columns.
    static func covered(_ attnums: [Int], by indexes: [[Int]]) -> Bool {
        indexes.contains { $0.count >= attnums.count && Array($0.prefix(attnums.count)) == attnums }
    }

    /// The column lists worth trying for one table of one statement, simplest first.
    static func columnLists(_ uses: ColumnUses) -> [[String]] {
        var equal: [String] = []
        for column in uses.equality + uses.joins { ColumnUses.append(column, to: &equal) }
        equal = Array(equal.prefix(maximumColumns))
        var tails: [String] = []
        for column in uses.range + uses.sort.prefix(1) where !equal.contains(column) { ColumnUses.append(column, to: &tails) }

        var lists: [[String]] = []
        func add(_ list: [String]) {
            if !list.isEmpty, list.count <= maximumColumns, Set(list).count == list.count, !lists.contains(list) { lists.append(list) }
        }
        for column in equal + tails { add([column]) }
        let leads = subsets(of: equal, upTo: maximumColumns)
        for lead in leads where lead.count >= 2 { add(lead) }
        for lead in leads where lead.count < maximumColumns {
            for tail in tails { add(lead + [tail]) }
            add(lead + uses.sort.filter { !lead.contains($0) }.prefix(maximumColumns - lead.count))
        }
        if uses.sort.count >= 2 { add(Array(uses.sort.prefix(maximumColumns))) }
        return lists
    }

    /// The non-empty subsets of `items` of up to `limit` elements, each in `items`' order, smaller first.
    static func subsets(of items: [String], upTo limit: Int) -> [[String]] {
        var all: [[String]] = [[]]
        for item in items { all += all.filter { $0.count < limit }.map { $0 + [item] } }
        return all.filter { !$0.isEmpty }.sorted { $0.count < $1.count }
    }
}
