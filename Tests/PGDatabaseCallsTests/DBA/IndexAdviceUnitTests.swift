import PGMCPJSON
import Synchronization
import Testing

@testable import PGDatabaseCalls

/// The parts of `suggest_indexes` that need no server: reading plans for the columns they use,
/// making candidates, and the greedy search over an injected cost function and clock.
@Suite("Index advice, without a server") struct IndexAdviceUnitTests {
    typealias Use = PlanExpression.Use

    func uses(_ text: String) -> [String] {
        PlanExpression.references(in: text).map { "\($0.alias).\($0.column):\($0.use)" }
    }

    @Test func conditionsSayWhichColumnIsComparedHow() {
        #expect(uses("((o.customer_id = $1) AND (o.total > 100::numeric))") == ["o.customer_id:equality", "o.total:range"])
        #expect(uses("(o.customer_id = c.id)") == ["o.customer_id:equality", "c.id:equality"])
        #expect(uses("((o.code)::text = 'x'::text)") == ["o.code:equality"])
        #expect(uses("(t.a = ANY ('{1,2,3}'::integer[]))") == ["t.a:equality"])
        #expect(uses("((t.d >= '2024-01-01'::date) AND (t.d <= '2024-02-01'::date))") == ["t.d:range", "t.d:range"])
        #expect(uses("(lower(t.c) = 'x'::text)") == ["t.c:other"])
        #expect(uses("((t.a IS NULL) OR (t.b <> 3))") == ["t.a:other", "t.b:other"])
        #expect(uses("((t.a + 1) = 3)") == ["t.a:other"])
        #expect(uses("(3 = (t.a)::bigint)") == ["t.a:equality"])
    }

    @Test func textInsideLiteralsAndQuotedNamesIsNeverAReference() {
        // A literal holding what looks like a reference, quotes, `$$` and a statement.
        #expect(uses("(t.c = 'x.y = 1''; DROP TABLE t; -- $$'::text)") == ["t.c:equality"])
        #expect(uses("(t.c = E'a\\\\'' b.c'::text)") == ["t.c:equality"])
        // A quoted alias and column, with a doubled quote, a semicolon and `$$` in them.
        #expect(uses(#"("we""ird;$$"."co'l; drop table t;--" = 3)"#) == [#"we"ird;$$.co'l; drop table t;--:equality"#])
        // A schema-qualified function and a qualified type are no columns.
        #expect(uses("(public.f(t.a) = (t.b)::public.mood)") == ["t.a:other", "t.b:equality"])
    }

    static let joinPlan: JSONValue = [
        [
            "Plan": [
                "Node Type": "Sort", "Total Cost": 900, "Sort Key": ["o.created_at DESC", "o.id"],
                "Plans": [
                    [
                        "Node Type": "Hash Join", "Hash Cond": "(o.customer_id = c.id)",
                        "Plans": [
                            [
                                "Node Type": "Seq Scan", "Relation Name": "orders", "Schema": "shop", "Alias": "o",
                                "Filter": "((o.status = 'open'::text) AND (o.total > 10::numeric))",
                            ],
                            [
                                "Node Type": "Hash",
                                "Plans": [["Node Type": "Seq Scan", "Relation Name": "customers", "Schema": "shop", "Alias": "c", "Filter": "(c.region = $1)"]],
                            ],
                        ],
                    ]
                ],
            ]
        ]
    ]

    @Test func aPlanNamesEachTableWithTheColumnsItFiltersJoinsAndSortsOn() {
        let found = PlanColumnUses.uses(inPlan: Self.joinPlan)
        #expect(found.map(\.table) == [RelationName(schema: "shop", name: "orders"), RelationName(schema: "shop", name: "customers")])
        #expect(found[0].uses == ColumnUses(equality: ["status"], range: ["total"], joins: ["customer_id"], sort: ["created_at", "id"]))
        #expect(found[1].uses == ColumnUses(equality: ["region"], range: [], joins: ["id"], sort: []))
    }

    @Test func sortKeysCountOnlyWhilePlainColumnsOfOneTable() {
        let aliases = ["a": RelationName(schema: "s", name: "x"), "b": RelationName(schema: "s", name: "y")]
        #expect(PlanColumnUses.sortColumns(["a.k", "a.l DESC NULLS LAST", "b.m"], aliases: aliases)?.1 == ["k", "l"])
        #expect(PlanColumnUses.sortColumns(["lower(a.k)", "a.l"], aliases: aliases) == nil)
    }

    @Test func candidatesPutEqualityFirstAndLeaveOutWhatAnIndexHas() {
        let lists = IndexCandidates.columnLists(ColumnUses(equality: ["status"], range: ["total"], joins: ["customer_id"], sort: ["created_at"]))
        #expect(lists.prefix(4) == [["status"], ["customer_id"], ["total"], ["created_at"]])
        #expect(lists.contains(["status", "customer_id"]))
        #expect(lists.contains(["status", "total"]))
        #expect(lists.contains(["status", "customer_id", "created_at"]))
        #expect(lists.allSatisfy { $0.count <= 3 && Set($0).count == $0.count })

        let table = RelationName(schema: "shop", name: "orders")
        let facts = TableFacts(oid: 42, columns: ["id": 1, "status": 2, "total": 3], indexes: [[2, 3], [1]])
        let made = IndexCandidates.make([[(table, ColumnUses(equality: ["status", "ghost"], range: ["total"]))]], tables: [table: facts])
        // (status) and (status, total) are the leading columns of the existing (status, total); a
        // column the catalog does not know is dropped with its candidates.
        #expect(made.map(\.columns) == [["total"]])
        #expect(made.first?.attnums == [3])
        #expect(made.first?.oid == 42)
    }

    /// A search over a table of costs: each candidate lowers statement costs by a fixed amount.
    func search(
        _ savings: [String: [Double]], baseline: [Double], weights: [Double], deadline: Duration = .seconds(60), tick: Duration = .zero
    ) async throws -> IndexSearch<String>.Outcome {
        let clock = TickingClock(tick: tick)
        let search = IndexSearch<String>(weights: weights, deadline: clock.start + deadline, now: { clock.read() })
        return try await search.run(savings.keys.sorted(), baseline: baseline) { set in
            if set.contains("refused") { return nil }
            return baseline.indices.map { index in max(1, baseline[index] - set.reduce(0) { $0 + (savings[$1]?[index] ?? 0) }) }
        }
    }

    @Test func theSearchKeepsTheBestCandidateEachRoundUntilTheGainIsSmall() async throws {
        let outcome = try await search(
            ["big": [900, 0], "medium": [0, 300], "tiny": [5, 5], "refused": [1000, 1000]], baseline: [1000, 400], weights: [1, 1])
        // Round 1: big (1400 → 500), round 2: medium (500 → 200), round 3: tiny gains 5%: stop.
        #expect(outcome.chosen == ["big", "medium"])
        #expect(outcome.before == [1000, 400])
        #expect(outcome.after == [100, 100])
        #expect(!outcome.outOfTime)
    }

    @Test func weightsDecideWhichStatementMatters() async throws {
        // The second statement is run a thousand times as often: its index comes first.
        let outcome = try await search(["a": [500, 0], "b": [0, 50]], baseline: [1000, 100], weights: [1, 1000])
        #expect(outcome.chosen.first == "b")
    }

    @Test func theSearchStopsWhenItsTimeIsSpent() async throws {
        // Every reading of the clock advances it a second; the budget is three.
        let outcome = try await search(
            ["a": [100, 0], "b": [0, 100], "c": [50, 0], "d": [0, 50], "e": [10, 10]], baseline: [1000, 1000], weights: [1, 1],
            deadline: .seconds(3), tick: .seconds(1))
        #expect(outcome.outOfTime)
        #expect(outcome.evaluations <= 4)
    }

    @Test func nothingUsefulMeansNoSuggestion() async throws {
        let outcome = try await search(["a": [1, 1]], baseline: [1000, 1000], weights: [1, 1])
        #expect(outcome.chosen.isEmpty)
        #expect(outcome.evaluations == 2)
    }
}

/// A clock that moves `tick` forward each time it is read.
final class TickingClock: Sendable {
    let start = ContinuousClock.now
    let tick: Duration
    private let now: Mutex<ContinuousClock.Instant>

    init(tick: Duration) {
        self.tick = tick
        now = Mutex(start)
    }

    func read() -> ContinuousClock.Instant {
        now.withLock {
            $0 += tick
            return $0
        }
    }
}
