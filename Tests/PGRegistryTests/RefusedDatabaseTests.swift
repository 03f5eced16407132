import Foundation
import PGCluster
import PGConfig
import PGRegistry
import TestSupport
import Testing

/// A database refused for good (`privilegeCheck: "enforce"` against a role with more power than
/// reading needs; the test cluster's role is a superuser) cannot be made a session's database; one
/// that is only down can (it may come back).
@Suite("Databases refused for good") struct RefusedDatabaseTests {
    func registry() throws -> ConnectionPoolRegistry {
        var down = try TestDatabase.config(id: "down", privilegeCheck: .enforce)
        down.connection["port"] = String(freeLocalPort())
        return try testRegistry(databases: [TestDatabase.config(id: "main"), TestDatabase.config(id: "strict", privilegeCheck: .enforce), down]).0
    }

    @Test func selectingADatabaseRefusedByThePrivilegeCheckIsRefusedAndChangesNothing() async throws {
        let registry = try registry()
        let session = try registry.createSession()
        let error = try await #require(throws: RegistryError.self) { try await registry.selectDatabase("strict", for: session) }
        #expect(error.kind == .databaseRefused)
        #expect(error.message.contains("refused by privilegeCheck \"enforce\": role '\(try TestDatabase.user)'"), "\(error.message)")
        #expect(error.message.contains("the session stays on 'main'. Select another database (list_databases)"), "\(error.message)")
        #expect(session.activeDatabase == "main")
        #expect(try await registry.withConnection(session: session) { _, target in target.name } == "main")
        // Asked again (the refusal now known): the same answer, without a second connect.
        await #expect(throws: RegistryError.self) { try await registry.selectDatabase("strict", for: session) }
        // open_session's database too.
        let opening = try await #require(throws: RegistryError.self) {
            try await registry.openSession(database: "strict", label: nil, ownedBy: .anyone)
        }
        #expect(opening.kind == .databaseRefused)
        #expect(registry.sessionCount == 1)
        // A call naming it says what the caller can do, not when the next (refused) attempt is.
        let call = try await #require(throws: RegistryError.self) {
            try await registry.withConnection(session: session, database: "strict") { connection, _ in try await connection.command("SELECT 1") }
        }
        #expect(call.message.contains("select_database another (list_databases)"), "\(call.message)")
        #expect(!call.message.contains("next attempt"), "\(call.message)")
        await registry.shutdown()
    }

    @Test func aDatabaseThatIsDownIsStillSelectable() async throws {
        let registry = try registry()
        let session = try registry.createSession()
        try await registry.selectDatabase("down", for: session)
        #expect(session.activeDatabase == "down")
        let opened = try await registry.openSession(database: "down", label: nil, ownedBy: .anyone)
        #expect(opened.activeDatabase == "down")
        await registry.shutdown()
    }

    @Test func theStateMachineKeepsALastingRefusalUntilAConnectSucceeds() {
        var pool = PoolStateMachine(configuration: PoolStateMachine.Configuration())
        let t0 = ContinuousClock.now
        _ = pool.leaseRequested(1, now: t0)
        _ = pool.connectionFailed(0, reason: "refused by privilegeCheck", lasting: true, now: t0)
        #expect(pool.snapshot().refusal == "refused by privilegeCheck")
        // An outage afterwards says nothing about whether the refusal still holds: it stays.
        _ = pool.leaseRequested(2, now: t0 + .seconds(60))
        _ = pool.connectionFailed(1, reason: "connection refused", now: t0 + .seconds(60))
        #expect(pool.snapshot().refusal == "refused by privilegeCheck")
        _ = pool.leaseRequested(3, now: t0 + .seconds(120))
        _ = pool.connectionEstablished(2, now: t0 + .seconds(120))
        #expect(pool.snapshot().refusal == nil)
    }
}
