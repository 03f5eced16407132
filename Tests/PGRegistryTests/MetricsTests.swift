import Metrics
import MetricsTestKit
import PGConfig
import PGRegistry
import TestSupport
import Testing

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

        let dimensions = [("database", "metered"), ("pool", "metered")]
        #expect(try metrics.expectCounter("pgmcp_database_calls_total", dimensions).totalValue >= 2)
        #expect(try metrics.expectCounter("pgmcp_database_call_errors_total", dimensions).totalValue >= 1)
        #expect(try metrics.expectGauge("pgmcp_pool_connections_max", dimensions).lastValue == 10)
        #expect(try metrics.expectGauge("pgmcp_pool_connections_open", dimensions).lastValue == 0)
        #expect(try metrics.expectTimer("pgmcp_pool_acquire_seconds", dimensions).values.count >= 2)
        #expect(try metrics.expectCounter("pgmcp_pool_connection_closes_total", [("database", "metered"), ("pool", "metered"), ("reason", "shutdown")]).totalValue >= 1)
        #expect(try metrics.expectCounter("pgmcp_sessions_created_total").totalValue >= 1)
        #expect(try metrics.expectCounter("pgmcp_sessions_ended_total", [("reason", "metrics-test")]).totalValue == 1)
    }

    /// Each session's copy of a clone entry has a pool of its own under the entry's name: each gets
    /// its own `pool` label (they overwrote each other's gauges before), and its series go with it.
    @Test func everyPoolHasSeriesOfItsOwnThatEndWithIt() async throws {
        let metrics = Self.metrics
        let template = try await TestDatabase.createScratchDatabase(prefix: "tplm")
        var entry = try TestDatabase.config(id: "copied", database: template)
        entry.isolation = .clone
        let (registry, _) = try testRegistry(databases: [entry])
        let sessions = [try registry.createSession(), try registry.createSession()]
        for session in sessions { try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") } }
        func pools() -> Set<String> {
            Set(
                metrics.recorders(label: "pgmcp_pool_connections_max").filter { $0.dimensions.contains { $0 == ("database", "copied") } }
                    .compactMap { $0.dimensions.first { $0.0 == "pool" }?.1 })
        }
        let copies = pools().subtracting(["copied"])
        #expect(copies.count == 2)
        #expect(copies.allSatisfy { $0.hasPrefix("copied#") })
        for session in sessions { await registry.endSession(session.handle) }
        #expect(pools().isDisjoint(with: copies))
        let closes = metrics.counters(label: "pgmcp_pool_connection_closes_total").compactMap { $0.dimensions.first { $0.0 == "pool" }?.1 }
        #expect(Set(closes).isDisjoint(with: copies), "\(closes)")
        await registry.shutdown()
        try await TestDatabase.dropDatabase(template)
    }

    /// A caller's role (`roles`) has a pool of its own, made on its first use, labelled by the entry
    /// and the role (never by the caller); the caller's statements run as that role.
    @Test func aRolesPoolIsMadeOnFirstUseAndLabelledByEntryAndRole() async throws {
        let metrics = Self.metrics
        try await TestDatabase.withRole(password: "metered-role-pw") { role in
            var entry = try TestDatabase.config(id: "metered_roles")
            entry.roles = [RoleMapping(principal: "sub:alice", user: role, password: Secret("metered-role-pw"), maxConnections: 3)]
            let (registry, _) = try testRegistry(databases: [entry])
            let rolePool = [("database", "metered_roles"), ("pool", "metered_roles/\(role)")]
            func made() -> Bool {
                metrics.recorders(label: "pgmcp_pool_connections_max").contains { recorder in
                    recorder.dimensions.contains { $0 == ("pool", "metered_roles/\(role)") }
                }
            }
            #expect(!made())
            let alice = try registry.createSession(ownedBy: SessionOwner(credential: "sub:alice", identities: ["sub:alice"]))
            #expect(!made())
            let who = try await registry.withConnection(session: alice) { c, _ in try await c.query("SELECT current_user::text").rows }
            #expect(who == [[.string(role)]])
            #expect(made())
            #expect(try metrics.expectGauge("pgmcp_pool_connections_max", rolePool).lastValue == 3)
            #expect(try metrics.expectCounter("pgmcp_database_calls_total", rolePool).totalValue >= 1)
            #expect(!metrics.recorders(label: "pgmcp_pool_connections_max").contains { $0.dimensions.contains { $0.1.contains("alice") } })
            // Another subject: no role, no entry.
            let mallory = try registry.createSession(ownedBy: SessionOwner(credential: "sub:mallory", identities: ["sub:mallory"]))
            #expect(registry.visibleDatabases(for: mallory).isEmpty)
            #expect(throws: RegistryError.self) { try registry.resolve("metered_roles", for: mallory) }
            await registry.shutdown()
        }
    }
}
