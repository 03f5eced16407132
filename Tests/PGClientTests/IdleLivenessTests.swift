import IOReactor
import TestSupport
import Testing

@testable import PGClient

/// An idle connection's liveness check (`isAlive`, on every lease from a pool): its socket is
/// watched from the end of its last statement, so a quiet one is known alive without a system call,
/// and one whose backend was terminated meanwhile is known broken.
@Suite("Idle liveness") struct IdleLivenessTests {
    func idleStatus(of connection: PGConnection) -> IOReactor.IdleStatus {
        IOReactor.shared.idleStatus(connection.socket, owner: ObjectIdentifier(connection))
    }

    @Test func aConnectionIsWatchedFromTheEndOfEachStatement() async throws {
        let connection = try await TestDatabase.connect()
        #expect(await connection.isAlive())
        _ = try await connection.query("SELECT 1")
        #expect(idleStatus(of: connection) == .quiet)
        #expect(await connection.isAlive())
        // A failed statement leaves it watched too.
        _ = try? await connection.query("SELECT 1/0")
        #expect(idleStatus(of: connection) == .quiet)
        await connection.close()
    }

    @Test func aBackendTerminatedWhileIdleIsFoundBeforeTheNextStatement() async throws {
        let victim = try await TestDatabase.connect()
        _ = try await victim.query("SELECT 1")
        try await TestDatabase.withConnection { admin in
            try await admin.command("SELECT pg_terminate_backend($1)", parameters: [String(victim.backendPID)])
        }
        #expect(await eventually { idleStatus(of: victim) == .stirred })
        #expect(await victim.isAlive() == false)
        #expect(victim.isBroken)
        await victim.close()
    }
}
