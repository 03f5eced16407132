import PGConfig
import PGDatabaseCalls
import PGMCPJSON
import TestSupport
import Testing

/// The summary of a plan: pure on recorded plans, then on PostgreSQL's own.
@Suite("Explain summary") struct ExplainSummaryTests {
    /// A hash join of a large table read whole (its filter removes most rows) with a small one; the
    /// scan of the large one is where the time goes, and the join's estimate is 50 times off.
    static let analysed = """
        [{"Plan": {"Node Type": "Hash Join", "Plan Rows": 10, "Actual Rows": 500, "Actual Loops": 1,
          "Actual Total Time": 120.0, "Total Cost": 2500.5,
          "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o", "Plan Rows": 400, "Actual Rows": 500,
             "Actual Loops": 1, "Actual Total Time": 100.0, "Rows Removed by Filter": 99500, "Filter": "(status = 'open'::text)"},
            {"Node Type": "Hash", "Plan Rows": 50, "Actual Rows": 50, "Actual Loops": 1, "Actual Total Time": 2.0,
             "Plans": [{"Node Type": "Seq Scan", "Relation Name": "regions", "Alias": "regions", "Plan Rows": 50,
                        "Actual Rows": 50, "Actual Loops": 1, "Actual Total Time": 1.5}]}
          ]},
          "Planning Time": 0.2, "Execution Time": 121.0}]
        """

    @Test func findsTheSlowestNodeTheWorstEstimateAndLargeScans() throws {
        let plan = try JSONParser.parse(Self.analysed)
        #expect(ExplainSummary.scannedRelations(plan) == ["orders", "regions"])
        let summary = ExplainSummary.summarize(plan, tableRows: ["orders": 100_000, "regions": 50])
        #expect(summary["totalCost"] == .double(2500.5))
        #expect(summary["executionMs"] == .double(121))
        #expect(summary["slowestNode"] == ["node": "Seq Scan on orders o", "selfMs": .double(100), "shareOfExecution": .double(0.83)])
        #expect(summary["worstEstimate"] == ["node": "Hash Join", "estimatedRows": 10, "actualRows": 500, "factor": .double(50)])
        // regions is small: its scan is the right plan and not reported.
        #expect(
            summary["sequentialScans"] == [
                [
                    "table": "orders", "node": "Seq Scan on orders o", "tableRows": 100_000, "rowsScanned": 100_000,
                    "filter": "(status = 'open'::text)",
                ]
            ])
    }

    /// Without ANALYZE there are no times and no actual rows: only the scans, by the tables' sizes.
    @Test func aPlanWithoutAnalyzeHasOnlyItsScans() throws {
        let plan = try JSONParser.parse(
            #"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "events", "Alias": "events", "Plan Rows": 5, "Total Cost": 1900.0}}]"#)
        let summary = ExplainSummary.summarize(plan, tableRows: ["events": 50_000])
        #expect(summary["slowestNode"] == .null)
        #expect(summary["worstEstimate"] == .null)
        #expect(summary["executionMs"] == .null)
        #expect(summary["sequentialScans"]?.arrayValue?.first?["tableRows"] == 50_000)
        #expect(ExplainSummary.summarize(plan, tableRows: ["events": 9_999])["sequentialScans"] == [])
    }

    /// Estimates within a factor of 2 are no finding: `worstEstimate` is null.
    @Test func closeEstimatesAreNoFinding() throws {
        let plan = try JSONParser.parse(
            #"[{"Plan": {"Node Type": "Result", "Plan Rows": 10, "Actual Rows": 19, "Actual Loops": 1, "Actual Total Time": 0.1}}]"#)
        #expect(ExplainSummary.summarize(plan, tableRows: [:])["worstEstimate"] == .null)
    }

    /// Through `explain` on a real table: the sizes come from the catalog.
    @Test func explainReturnsTheSummaryOfPostgresPlan() async throws {
        let setup = [
            "CREATE TABLE readings (id int, sensor int, value float8)",
            "INSERT INTO readings SELECT g, g % 100, random() FROM generate_series(1, 50000) g", "ANALYZE readings",
        ]
        try await withScratchCalls(prefix: "summary", setup: setup) { calls, session, _ in
            let sql = "SELECT * FROM readings WHERE sensor = 7 AND value > 0.5"
            let plain = try await calls.explain(session: session, database: nil, sql: sql, parameters: [], analyze: false)
            let scan = try #require(plain.summary["sequentialScans"]?.arrayValue?.first)
            #expect(scan["table"] == "readings")
            #expect(scan["tableRows"] == 50_000)
            #expect(plain.summary["slowestNode"] == .null)
            let analysed = try await calls.explain(session: session, database: nil, sql: sql, parameters: [], analyze: true)
            #expect(analysed.summary["slowestNode"]?["node"]?.stringValue?.contains("readings") == true, "\(analysed.summary)")
            #expect(analysed.summary["sequentialScans"]?.arrayValue?.first?["rowsScanned"] == 50_000)
            // Every estimate within a factor of 2 (or none at all) is no finding.
            let worst = analysed.summary["worstEstimate"]
            #expect(worst == .null || (worst?["factor"]?.numberValue ?? 0) >= 2, "\(analysed.summary)")
        }
    }
}
