import IOReactor
import Logging
import Metrics
import PGClient
import PGConfig
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Maps work sessions to named PostgreSQL pools. One pool per configured database, shared by the
/// sessions on it; one private pool per dynamic connection, owned by its session. Sessions are keyed
/// by opaque handles; each has an active database, a connection allowance, an idle timeout, and a
/// cleanup that runs exactly once however it ends.
public final class ConnectionPoolRegistry: Sendable {
    public let configuration: Configuration
    let pools: [String: DatabaseTarget]
    /// Runs every pool's background work (`run()` runs it; `shutdown()` ends it).
    public let poolGroup = PoolGroup()
    /// The work sessions, and the places they and single calls hold against the session limits.
    let sessions: Mutex<SessionTable>
    let logger: Logger
    let applicationName: String
    let clock: @Sendable () -> ContinuousClock.Instant
    /// The registry's time, the one its stamps (a transaction's last use, a session's activity) are
    /// on: what those stamps must be compared with.
    public var now: ContinuousClock.Instant { clock() }
    let metrics = RegistryMetrics()
    /// How long a healthy server may take to end a cancelled statement or answer a reset, past a
    /// call's statement timeout too: `PGMCP_CONNECT_TIMEOUT` (see `ConnectionWatchdog`).
    var grace: Duration { configuration.server.connectTimeout }
    let endObservers = Mutex<[@Sendable (SessionHandle) -> Void]>([])
    /// Every open query cursor's session and database, by cursor id.
    let cursorRoutes = CursorRoutes()
    /// Sessions ended since memory was last handed back to the system.
    let endedSinceTrim = Mutex(0)

    /// - Parameters:
    ///   - applicationName: prefix of every backend's `application_name` (`pgmcp/<database>`).
    ///   - clock: the time sessions are stamped and reaped by; injectable for tests.
    public init(
        configuration: Configuration, logger: Logger = Logger(label: "pgmcp.registry"), applicationName: String = "pgmcp",
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.applicationName = applicationName
        self.clock = clock
        var pools: [String: DatabaseTarget] = [:]
        for var database in configuration.databases {
            // A clone entry is read-write: each session writes to its own copy.
            if database.isolation == .clone { database.readOnly = false }
            var entry = database
            // With roles, no caller's statement runs as the entry's own user: its pool serves the
            // health probes alone (one connection, closed when idle).
            if database.roles != nil {
                entry.pool = PoolSettings(min: 0, max: 1, idleTimeoutSeconds: database.pool.idleTimeoutSeconds, maxLifetimeSeconds: database.pool.maxLifetimeSeconds)
            }
            let pool = Self.makePool(for: entry, server: configuration.server, applicationName: applicationName, logger: logger, in: poolGroup)
            let (config, server, group) = (database, configuration.server, poolGroup)
            let rolePools = database.roles.map { roles in
                RolePools(roles: roles) { index in
                    Self.makePool(for: config.asRole(index), server: server, applicationName: applicationName, logger: logger, in: group)
                }
            }
            pools[database.id] = DatabaseTarget(config: database, kind: .configured, pool: pool, rolePools: rolePools)
        }
        self.pools = pools
        sessions = Mutex(SessionTable(limit: configuration.server.maxSessions, share: configuration.server.sessionsPerPrincipal))
    }

    static func makePool(
        for database: DatabaseConfig, server: ServerSettings, applicationName: String, logger: Logger, sharedByName: Bool = true,
        in group: PoolGroup
    ) -> ConnectionPool {
        var pool = PoolStateMachine.Configuration()
        pool.minimum = database.pool.min
        pool.maximum = database.pool.max
        pool.idleTimeout = .seconds(database.pool.idleTimeoutSeconds)
        pool.maxLifetime = database.pool.maxLifetimeSeconds == 0 ? nil : .seconds(database.pool.maxLifetimeSeconds)
        pool.healthCheckInterval = server.healthCheckInterval
        // A role's pool is named by the entry and the role (`prod/analyst`), never by a caller.
        let name = database.role.map { "\(database.id)/\($0)" } ?? database.id
        let made = ConnectionPool(
            name: name, parameters: database.connectionParameters, configuration: pool,
            applicationName: "\(applicationName)/\(name)", connectTimeout: server.connectTimeout, logger: logger,
            sharedByName: sharedByName, database: database.id,
            prepare: PrivilegeCheck.hook(for: database, logger: logger))
        group.add(made)
        return made
    }

    /// Checks that `database` answers (`SELECT 1` on a pooled connection), for readiness probes.
    /// Uses no session; waits at most `timeout`.
    public func probe(_ database: String, timeout: Duration) async throws {
        guard let target = pools[database] else { throw unknownDatabase(database, visible: configuredNames) }
        if target.config.isolation == .clone {
            // No pooled connection may stay on a template, or copying it fails: connect, check, close.
            let connection = try await PGConnection.connect(
                target.config.connectionParameters, applicationName: "\(applicationName)/\(database)/probe", timeout: timeout)
            defer { Task { await connection.close() } }
            try await connection.bounded(by: timeout) { try await connection.command("SELECT 1") }
            return
        }
        let lease: PooledConnection
        do { lease = try await target.pool.lease(timeout: timeout) } catch let error as PoolError { throw RegistryError(error) }
        do {
            try await lease.connection.bounded(by: timeout) { try await lease.connection.command("SELECT 1") }
            target.pool.release(lease, outcome: .reusable)
        } catch {
            target.pool.release(lease, outcome: .close(lease.connection.isBroken ? .broken : .dirty))
            throw error
        }
    }

    /// Every pool: the configured ones, then each session's own (dynamic databases, copies).
    public var allPools: [DatabaseTarget] {
        let configured = configuration.databases.compactMap { pools[$0.id] }
        return configured + configured.flatMap(rolePoolTargets) + sessions.withLock { $0.byHandle.values.flatMap(\.ownPools) }
    }

    /// Every pool's gauges set from its state now (`Pool.publishGauges`): before a scrape.
    public func publishPoolGauges() {
        for target in allPools { target.pool.publishGauges() }
    }

    // MARK: - Running

    /// Housekeeping until cancelled: pool ticks (idle timeouts, lifetimes, health checks) and the
    /// session reaper, once per `interval`; and every pool's background work (`poolGroup`), until
    /// `shutdown()` (cancelled, the pools shut down, and it returns once they have).
    public func run(interval: Duration = .seconds(1)) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.poolGroup.run() }
            // Session copies a killed server left behind: found and dropped once, in the background
            // (cancelled with the rest when housekeeping is).
            group.addTask { await self.dropLeftoverClones() }
            while !Task.isCancelled {
                guard (try? await Task.sleep(for: interval)) != nil else { break }
                for target in allPools { target.pool.tick() }
                await reapIdleSessions()
                await reapIdleTransactions()
                await reapIdleCursors()
                releaseFreedMemory()
            }
        }
    }

    /// After sessions end, hands the memory they freed back to the system: glibc keeps freed heap
    /// for reuse, so without this RSS stayed 30% above its pre-test level after 10,000 sessions ended
    /// (BENCHMARKS.md). Cheap, and only when something ended.
    func releaseFreedMemory() {
        let ended = endedSinceTrim.withLock { count in
            defer { count = 0 }
            return count
        }
        // It walks the heap: off the caller's executor.
        if ended > 0, let trim = Self.mallocTrim { startOffPool { _ = trim(0) } }
    }

    /// glibc's `malloc_trim` (declared in malloc.h, which Swift's Glibc module does not export);
    /// `nil` on other C libraries.
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
            return nil
        #endif
    }()

    /// Ends every session (cancelling running statements), those of single calls too, then closes
    /// every pool: no pool waits out a statement still running.
    public func shutdown() async {
        let (handles, calls) = sessions.withLock { table in
            table.closed = true
            return (Array(table.byHandle.keys), Array(table.calls.values))
        }
        await withTaskGroup(of: Void.self) { group in
            for handle in handles { group.addTask { await self.endSession(handle, reason: "shutdown") } }
            for session in calls { group.addTask { await session.end(registry: self, reason: "shutdown") } }
        }
        await withTaskGroup(of: Void.self) { group in
            for target in pools.values {
                group.addTask { await target.pool.shutdown() }
                for pool in target.rolePools?.opened ?? [] { group.addTask { await pool.shutdown() } }
            }
        }
        poolGroup.close()
    }
}
