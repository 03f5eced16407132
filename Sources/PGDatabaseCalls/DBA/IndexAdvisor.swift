import PGClient
import PGMCPJSON

/// `suggest_indexes` on one connection: plans each statement as it is, reads the plans for
/// candidate indexes, runs the greedy search over them with hypopg, and plans the statements once
/// more under the indexes chosen for the costs and sizes it reports.
struct IndexAdvisor: Sendable {
    let shell: HypotheticalIndexes
    let deadline: ContinuousClock.Instant
    var now: @Sendable () -> ContinuousClock.Instant = { .now }

    func advise(_ statements: [AdvisedStatement]) async throws -> IndexAdvice {
        var skipped: [(sql: String, reason: String)] = []
        // Each statement alone first: one that does not plan (a table gone, a placeholder whose type
        // cannot be told) is left out with PostgreSQL's reason instead of failing the others.
        var planned: [(statement: AdvisedStatement, plan: JSONValue, cost: Double)] = []
        for statement in statements {
            do {
                let plan = try await shell.plan([statement], under: [], verbose: true).plans.first ?? .null
                guard let cost = PlannedStatements.cost(of: plan) else {
                    skipped.append((Self.shown(statement.sql), "its plan has no cost"))
                    continue
                }
                planned.append((statement, plan, cost))
            } catch let error as PGError where error.kind == .statement {
                skipped.append((Self.shown(statement.sql), "PostgreSQL could not plan it: \(error.description)"))
            }
        }
        let valid = planned.map(\.statement)
        let uses = planned.map { PlanColumnUses.uses(inPlan: $0.plan) }
        let tables = try await tableFacts(Array(Set(uses.flatMap { $0.map(\.table) })))
        let heaviestFirst = planned.indices.sorted { planned[$0].statement.weight > planned[$1].statement.weight }
        let candidates = IndexCandidates.make(heaviestFirst.map { uses[$0] }, tables: tables)

        let shell = shell
        let search = IndexSearch<IndexCandidate>(weights: valid.map(\.weight), deadline: deadline, now: now)
        let outcome = try await search.run(candidates, baseline: planned.map(\.cost)) { indexes in
            do {
                let costs = try await shell.plan(valid, under: indexes).plans.compactMap(PlannedStatements.cost)
                return costs.count == valid.count ? costs : nil
            } catch let error as PGError where error.kind == .statement {
                // hypopg refused the index, or a planning hit the statement timeout: this set is not
                // costed, and the search goes on without the candidate.
                return nil
            }
        }

        var suggestions: [IndexAdvice.Suggestion] = []
        if !outcome.chosen.isEmpty {
            let final = try await shell.plan(valid, under: outcome.chosen)
            for (candidate, index) in zip(outcome.chosen, final.indexes) {
                let affected = valid.indices.filter { PlannedStatements.uses(final.plans[$0], index: index.oid) }
                // Chosen in an early round, then made useless by a later one: not worth creating.
                guard !affected.isEmpty else { continue }
                suggestions.append(
                    IndexAdvice.Suggestion(
                        create: index.create, table: index.table, columns: candidate.columns, estimatedSizeBytes: index.sizeBytes,
                        statements: affected.map {
                            IndexAdvice.StatementCost(
                                sql: Self.shown(valid[$0].sql), costBefore: planned[$0].cost, costAfter: PlannedStatements.cost(of: final.plans[$0]) ?? planned[$0].cost)
                        }))
            }
        }
        return IndexAdvice(
            suggestions: suggestions, statementsExamined: valid.count, skipped: skipped, candidates: candidates.count, evaluations: outcome.evaluations,
            budgetExhausted: outcome.outOfTime)
    }

    /// A statement's text as the answer shows it: cut as `top_queries` cuts it.
    static func shown(_ sql: String) -> String {
        sql.count > DatabaseCalls.workloadTextLength ? String(sql.prefix(DatabaseCalls.workloadTextLength)) + "…" : sql
    }

    /// The catalog's facts about the tables the plans scan, looked up by schema and name as
    /// parameters. System catalogs and relations hypopg cannot index (views, foreign and
    /// partitioned tables) are left out, and with them their candidates.
    func tableFacts(_ tables: [RelationName]) async throws -> [RelationName: TableFacts] {
        guard !tables.isEmpty else { return [:] }
        let lookup = PGStatement(
            """
            SELECT r.position::pg_catalog.int8, c.oid::pg_catalog.int8,
                   (SELECT pg_catalog.json_object_agg(a.attname, a.attnum) FROM pg_catalog.pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                   (SELECT pg_catalog.json_agg(k.keys) FROM (
                      SELECT (SELECT pg_catalog.array_agg(u.attnum ORDER BY u.position)
                              FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS u(attnum, position)
                              WHERE u.position <= i.indnkeyatts) AS keys
                      FROM pg_catalog.pg_index i
                      JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                      JOIN pg_catalog.pg_am am ON am.oid = ic.relam
                      WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree') k)
            FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[]))
                 WITH ORDINALITY AS r(schema_name, table_name, position)
            JOIN pg_catalog.pg_namespace n ON n.nspname = r.schema_name
            JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = r.table_name
            WHERE c.relkind IN ('r', 'm') AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
            """,
            parameters: [PGArrayLiteral.text(tables.map(\.schema)), PGArrayLiteral.text(tables.map(\.name))])
        let rows = try await shell.connection.scopedReads([lookup], in: shell.scope, statementTimeoutMs: shell.statementTimeoutMs)[0].rows
        var facts: [RelationName: TableFacts] = [:]
        for row in rows where row.count == 4 {
            guard let position = row[0].intValue, position >= 1, position <= tables.count, let oid = row[1].intValue else { continue }
            var columns: [String: Int] = [:]
            for (name, number) in row[2].objectValue ?? JSONObject() { columns[name] = number.exactInt }
            // An expression's column number is 0: the index's plain leading columns end there.
            let indexes = (row[3].arrayValue ?? []).map { keys in Array(((keys.arrayValue ?? []).compactMap(\.exactInt)).prefix { $0 != 0 }) }
            facts[tables[Int(position) - 1]] = TableFacts(oid: oid, columns: columns, indexes: indexes)
        }
        return facts
    }
}
