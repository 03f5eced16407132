import Metrics
import MetricsTestKit
import PGRegistry
import Testing
import TestSupport

/// Pool and session metrics reach whatever swift-metrics backend the process bootstraps.
@Suite("Metrics", .serialized) struct MetricsTests {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    @Test func poolAndSessionMetricsAreRecorded() async throws {
        let metrics = Self.metrics
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "metered")])
        let session = try registry.createSession()
        try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        _ = try? await registry.withConnection(session: session) { c, _ in try await c.command("SELECT broken syntax") }
        // Ended three times at once: counted once.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { await registry.endSession(session.handle, reason: "metrics-test") } }
        }
        await registry.shutdown()

        let dimensions = [("database", "metered")]
        #expect(try metrics.expectCounter("pgmcp_database_calls_total", dimensions).totalValue >= 2)
        #expect(try metrics.expectCounter("pgmcp_database_call_errors_total", dimensions).totalValue >= 1)
        #expect(try metrics.expectGauge("pgmcp_pool_connections_max", dimensions).lastValue == 10)
        #expect(try metrics.expectGauge("pgmcp_pool_connections_open", dimensions).lastValue == 0)
        #expect(try metrics.expectTimer("pgmcp_pool_acquire_seconds", dimensions).values.count >= 2)
        #expect(try metrics.expectCounter("pgmcp_pool_connection_closes_total", [("database", "metered"), ("reason", "shutdown")]).totalValue >= 1)
        #expect(try metrics.expectCounter("pgmcp_sessions_created_total").totalValue >= 1)
        #expect(try metrics.expectCounter("pgmcp_sessions_ended_total", [("reason", "metrics-test")]).totalValue == 1)
    }
}
