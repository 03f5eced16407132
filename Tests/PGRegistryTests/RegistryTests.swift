import Foundation
import PGClient
import PGConfig
import PGRegistry
import TestSupport
import Testing

@Suite("Registry and work sessions") struct RegistryTests {
    @Test func sessionsHaveOpaqueUniqueHandlesAndStartOnTheDefault() throws {
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "a"), TestDatabase.config(id: "b")])
        let one = try registry.createSession()
        let two = try registry.createSession(database: "b", label: "test 2")
        #expect(one.handle != two.handle)
        #expect(one.handle.rawValue.count == 43)
        #expect(one.activeDatabase == "a")
        #expect(two.activeDatabase == "b")
        #expect(try registry.session(one.handle) === one)
        #expect(throws: RegistryError.self) { try registry.session(SessionHandle(rawValue: "forged")) }
    }

    @Test func unknownDatabaseListsTheNamesTheSessionCanUse() async throws {
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "dev"), TestDatabase.config(id: "prod")])
        let session = try registry.createSession()
        let error = try await #require(throws: RegistryError.self) { try await registry.selectDatabase("staging", for: session) }
        #expect(error.message == "unknown database 'staging'; this session can use: 'dev', 'prod'")
        #expect(throws: RegistryError.self) { try registry.createSession(database: "staging") }
    }

    @Test func dynamicDatabasesAreVisibleOnlyToTheirSession() async throws {
        let (registry, _) = try testRegistry()
        let owner = try registry.createSession()
        let other = try registry.createSession()
        _ = try registry.addDynamicDatabase(try TestDatabase.config(id: "mine"), to: owner)
        #expect(owner.activeDatabase == "main")
        try await registry.selectDatabase("mine", for: owner)
        #expect(registry.visibleDatabases(for: owner).map(\.name) == ["main", "mine"])
        #expect(registry.visibleDatabases(for: other).map(\.name) == ["main"])
        let error = try #require(throws: RegistryError.self) { try registry.resolve("mine", for: other) }
        #expect(error.message == "unknown database 'mine'; this session can use: 'main'")
        let value = try await registry.withConnection(session: owner, database: "mine") { connection, _ in
            try await connection.query("SELECT 42").rows[0][0]
        }
        #expect(value == 42)
        try await registry.removeDynamicDatabase("mine", from: owner)
        #expect(owner.activeDatabase == "main")
        await registry.shutdown()
    }

    @Test func aDefaultDynamicNameIsMadeUniqueWithinSixtyThreeCharacters() async throws {
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "main")]) { $0.sessionMaxDynamic = 5 }
        let session = try registry.createSession()
        let long = String(repeating: "a", count: 63)
        #expect(try registry.addDynamicDatabase(TestDatabase.config(id: "main"), to: session, uniqueName: true).name == "main-2")
        #expect(try registry.addDynamicDatabase(TestDatabase.config(id: "main"), to: session, uniqueName: true).name == "main-3")
        #expect(try registry.addDynamicDatabase(TestDatabase.config(id: long), to: session, uniqueName: true).name == long)
        #expect(try registry.addDynamicDatabase(TestDatabase.config(id: long), to: session, uniqueName: true).name == String(long.prefix(61)) + "-2")
        await registry.shutdown()
    }

    @Test func twoSessionsWithDifferentActiveDatabases() async throws {
        let scratch = try await TestDatabase.createScratchDatabase()
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "one"), TestDatabase.config(id: "two", database: scratch)])
        let first = try registry.createSession()
        let second = try registry.createSession()
        try await registry.selectDatabase("two", for: second)
        let names = try await (
            registry.withConnection(session: first) { c, _ in try await c.query("SELECT current_database()").rows[0][0] },
            registry.withConnection(session: second) { c, _ in try await c.query("SELECT current_database()").rows[0][0] },
            registry.withConnection(session: first, database: "two") { c, _ in try await c.query("SELECT current_database()").rows[0][0] }
        )
        #expect(names.0 == "postgres")
        #expect(names.1 == .string(scratch))
        #expect(names.2 == .string(scratch))
        await registry.shutdown()
        try await TestDatabase.dropDatabase(scratch)
    }

    @Test func perSessionLimitMakesExtraCallsWaitThenFailNamingTheLimit() async throws {
        let (registry, _) = try testRegistry { settings in
            settings.sessionMaxConnections = 1
            settings.acquireTimeout = .milliseconds(400)
        }
        let session = try registry.createSession()
        let other = try registry.createSession()
        // Warm the pool with two connections (generously timed: connects are slow under a loaded
        // test run), so that only the session limit is timed below.
        let pool = registry.allPools[0].pool
        let warm = [try await pool.lease(timeout: .seconds(20)), try await pool.lease(timeout: .seconds(20))]
        for lease in warm { pool.release(lease, outcome: .reusable) }
        let holder = Task { try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(1)") } }
        try await Task.sleep(for: .milliseconds(100))
        let error = try await #require(throws: RegistryError.self) {
            try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        }
        #expect(error.kind == .sessionLimit)
        #expect(error.message == "this session already holds 1 of 1 connections (PGMCP_SESSION_MAX_CONNECTIONS, an open transaction holds one); waited 400 ms for one to free up")
        // Another session is not affected by this one's limit.
        try await registry.withConnection(session: other) { c, _ in try await c.command("SELECT 1") }
        _ = try await holder.value
        await registry.shutdown()
    }

    @Test func maxSessionsRefusesOneMoreAndDisturbsNothing() async throws {
        let (registry, _) = try testRegistry { $0.maxSessions = 2 }
        let a = try registry.createSession()
        _ = try registry.createSession()
        let error = try #require(throws: RegistryError.self) { try registry.createSession() }
        #expect(error.kind == .tooManySessions)
        #expect(error.message == "too many sessions: 2 of PGMCP_MAX_SESSIONS=2 are open; end idle ones or raise the limit")
        try await registry.withConnection(session: a) { c, _ in try await c.command("SELECT 1") }
        await registry.endSession(a.handle)
        _ = try registry.createSession()
        await registry.shutdown()
    }

    @Test func idleSessionsAreReapedByTheInjectedClock() async throws {
        let clock = ManualClock()
        let (registry, _) = try testRegistry(clock: clock) { $0.sessionIdleTimeout = .seconds(60) }
        let idle = try registry.createSession()
        let busy = try registry.createSession()
        clock.advance(by: .seconds(30))
        _ = try registry.session(busy.handle)  // activity
        clock.advance(by: .seconds(31))
        await registry.reapIdleSessions()
        #expect(!idle.isActive)
        #expect(busy.isActive)
        #expect(throws: RegistryError.self) { try registry.session(idle.handle) }
        clock.advance(by: .seconds(60))
        await registry.reapIdleSessions()
        #expect(!busy.isActive)
        #expect(registry.sessionCount == 0)
    }

    @Test func endingASessionCancelsItsRunningStatementWithinTwoSeconds() async throws {
        let (registry, prefix) = try testRegistry()
        let session = try registry.createSession()
        let call = Task {
            try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(30) /* end-me */") }
        }
        #expect(
            try await eventually {
                try await TestDatabase.rows("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%end-me%' AND application_name LIKE $1 || '%'", [prefix])
                    == [[1]]
            })
        let started = ContinuousClock.now
        await registry.endSession(session.handle)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(
            try await TestDatabase.rows("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%end-me%' AND application_name LIKE $1 || '%'", [prefix]) == [
                [0]
            ])
        let error = try await #require(throws: RegistryError.self) { try await call.value }
        #expect(error.kind == .sessionEnded)
        // Its connection went back to the pool reset, not leaked.
        #expect(registry.allPools[0].pool.snapshot().inUse == 0)
        await registry.shutdown()
    }

    @Test func endingIsOnceAndSafeConcurrently() async throws {
        let (registry, _) = try testRegistry()
        let session = try registry.createSession()
        try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 { group.addTask { await registry.endSession(session.handle) } }
        }
        #expect(!session.isActive)
        #expect(registry.sessionCount == 0)
        let error = try await #require(throws: RegistryError.self) {
            try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        }
        #expect(error.kind == .sessionEnded)
        await registry.shutdown()
    }

    @Test func noStateLeaksBetweenSessionsSharingAPoolOfOne() async throws {
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "main", readOnly: false, pool: PoolSettings(max: 1))])
        let first = try registry.createSession()
        let second = try registry.createSession()
        let pids = try await registry.withConnection(session: first) { c, _ -> Int32 in
            try await c.command("SET search_path TO leaked_schema")
            try await c.command("CREATE TEMP TABLE leaked_temp (x int)")
            try await c.command("PREPARE leaked_plan AS SELECT 1")
            try await c.command("SELECT pg_advisory_lock(4242)")
            try await c.command("BEGIN")
            _ = try? await c.command("SELECT 1/0")  // leaves a failed transaction
            return c.backendPID
        }
        let seen = try await registry.withConnection(session: second) { c, _ in
            (
                c.backendPID,
                try await c.query("SHOW search_path").rows[0][0],
                try await c.query("SELECT count(*) FROM pg_class WHERE relname = 'leaked_temp' AND relpersistence = 't'").rows[0][0],
                try await c.query("SELECT count(*) FROM pg_prepared_statements").rows[0][0],
                try await c.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()").rows[0][0],
                c.transactionStatus
            )
        }
        #expect(seen.0 == pids)  // the same backend…
        #expect(seen.1 == "\"$user\", public")  // …with nothing left of the first session
        #expect(seen.2 == 0)
        #expect(seen.3 == 0)
        #expect(seen.4 == 0)
        #expect(seen.5 == .idle)
        await registry.shutdown()
    }

    @Test func twoHundredSessionsCreatedAndEndedLeaveNoBackendsAndFlatMemory() async throws {
        let (registry, prefix) = try testRegistry()
        func cycle() async throws {
            let session = try registry.createSession()
            try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
            await registry.endSession(session.handle)
        }
        for _ in 0..<50 { try await cycle() }  // warm up allocators and the pool
        let before = residentBytes()
        for _ in 0..<200 { try await cycle() }
        let growth = residentBytes() - before
        #expect(registry.sessionCount == 0)
        #expect(growth < 4 * 1024 * 1024, "RSS grew \(growth / 1024) KiB over 200 sessions")
        #expect(try await TestDatabase.backendCount(applicationNamePrefix: prefix) <= 1)  // the pool's one idle connection
        await registry.shutdown()
        #expect(try await eventually { try await TestDatabase.backendCount(applicationNamePrefix: prefix) == 0 })
    }

    @Test func shutdownEndsSessionsAndClosesPools() async throws {
        let (registry, prefix) = try testRegistry()
        let session = try registry.createSession()
        let running = Task { try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(30)") } }
        try await Task.sleep(for: .milliseconds(200))
        await registry.shutdown()
        #expect(registry.sessionCount == 0)
        await #expect(throws: RegistryError.self) { try await running.value }
        #expect(try await eventually { try await TestDatabase.backendCount(applicationNamePrefix: prefix) == 0 })
    }

    @Test func sessionStatisticsCountCallsAndErrors() async throws {
        let (registry, _) = try testRegistry()
        let session = try registry.createSession()
        try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        _ = try? await registry.withConnection(session: session) { c, _ in try await c.command("SELECT nope") }
        session.recordRowsReturned(5)
        let info = session.info
        #expect(info.queries == 2)
        #expect(info.errors == 1)
        #expect(info.rowsReturned == 5)
        #expect(info.connectionLimit == 2)
        #expect(info.connectionsHeld == 0)
        await registry.shutdown()
    }

    @Test func privilegeCheckEnforceRefusesASuperuserRole() async throws {
        // The test cluster's role is a superuser.
        let (registry, _) = try testRegistry(databases: [TestDatabase.config(id: "strict", privilegeCheck: .enforce)])
        let session = try registry.createSession()
        let error = try await #require(throws: RegistryError.self) {
            try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT 1") }
        }
        #expect(error.kind == .databaseUnavailable)
        #expect(error.message.contains("refused by privilegeCheck \"enforce\": role 'postgres' of read-only database 'strict' is a superuser"))
        #expect(error.message.contains("Connect as a role without SUPERUSER and BYPASSRLS, or set this database's privilegeCheck to \"warn\""))
        await registry.shutdown()
    }

    @Test func reaperRulesWithAManualClock() {
        let t0 = ContinuousClock.now
        let sessions = [
            SessionReaper.Candidate(handle: SessionHandle(rawValue: "old"), lastActivity: t0),
            SessionReaper.Candidate(handle: SessionHandle(rawValue: "stdio"), lastActivity: t0, expiresWhenIdle: false),
            SessionReaper.Candidate(handle: SessionHandle(rawValue: "fresh"), lastActivity: t0 + .seconds(50)),
            // A call with a deadline keeps its session; one without (statementTimeoutMs 0) does not.
            SessionReaper.Candidate(handle: SessionHandle(rawValue: "busy"), lastActivity: t0, callsInFlight: 1),
            SessionReaper.Candidate(handle: SessionHandle(rawValue: "stuck"), lastActivity: t0, callsInFlight: 2, unboundedCallsInFlight: 1),
        ]
        #expect(SessionReaper.expired(sessions, now: t0 + .seconds(59), idleTimeout: .seconds(60)).isEmpty)
        #expect(SessionReaper.expired(sessions, now: t0 + .seconds(60), idleTimeout: .seconds(60)).map(\.rawValue) == ["old", "stuck"])
        #expect(SessionReaper.expired(sessions, now: t0 + .seconds(110), idleTimeout: .seconds(60)).map(\.rawValue) == ["old", "fresh", "stuck"])
        #expect(SessionReaper.expired(sessions, now: t0 + .seconds(100_000), idleTimeout: .seconds(60)).map(\.rawValue) == ["old", "fresh", "stuck"])
    }

    @Test func aCallInFlightDoesNotKeepItsSessionFromTheIdleTimeout() async throws {
        // A client that died mid-call, on a database without a statement timeout: the call must not
        // hold the session (and its connection) forever. The reaper ends it and cancels the statement.
        let clock = ManualClock()
        var database = try TestDatabase.config(id: "main")
        database.statementTimeoutMs = 0
        let (registry, prefix) = try testRegistry(databases: [database], clock: clock) { $0.sessionIdleTimeout = .seconds(60) }
        let session = try registry.createSession()
        let call = Task { try await registry.withConnection(session: session) { c, _ in try await c.command("SELECT pg_sleep(60) /* forever */") } }
        let running = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%forever */' AND application_name LIKE $1 || '%'"
        #expect(try await eventually { try await TestDatabase.rows(running, [prefix]) == [[1]] })
        clock.advance(by: .seconds(61))
        await registry.reapIdleSessions()
        #expect(!session.isActive)
        #expect(try await TestDatabase.rows(running, [prefix]) == [[0]])
        await #expect(throws: (any Error).self) { try await call.value }
        await registry.shutdown()
    }
}
