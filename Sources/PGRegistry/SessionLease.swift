import PGClient

/// A connection a work session holds: one of its connection slots (`PGMCP_SESSION_MAX_CONNECTIONS`)
/// and a connection of the target's pool. Every path that uses a connection (a call, a
/// transaction's `BEGIN`, its calls, its end) takes, runs on and gives back a lease the same way:
/// `lease(_:for:)`, `run(_:access:graceOnly:_:)`, `release(_:before:)`.
public struct SessionLease: Sendable {
    let pooled: PooledConnection
    public let target: DatabaseTarget
    let session: WorkSession

    public var connection: PGConnection { pooled.connection }
}

extension ConnectionPoolRegistry {
    /// Takes one of the session's slots, then a connection of `target`'s pool, both within
    /// `PGMCP_ACQUIRE_TIMEOUT`. A lease that fails gives the slot back.
    func lease(_ target: DatabaseTarget, for session: WorkSession) async throws -> SessionLease {
        // A real wait, measured on the real clock (the injected one stamps activity).
        let started = ContinuousClock.now
        let timeout = configuration.server.acquireTimeout
        await yieldIdleCursor(of: session)
        try await acquireSlot(session)
        do {
            let pooled = try await target.pool.lease(timeout: max(.zero, timeout - (ContinuousClock.now - started)))
            return SessionLease(pooled: pooled, target: target, session: session)
        } catch {
            session.slots.release()
            if let error = error as? PoolError { throw leaseFailure(error, target) }
            throw error
        }
    }

    /// Runs `body` on the lease's connection under a deadline of ours: the call's (the database's
    /// statement timeout plus the grace period), or with `graceOnly` the grace period alone (a
    /// rollback: a healthy server answers one at once). Past it the connection is abandoned and the
    /// call fails with `deadlineExceeded`; PostgreSQL may be frozen, not just down.
    func run<R: Sendable>(
        _ lease: SessionLease, access: Access, graceOnly: Bool = false, _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        let target = lease.target
        let limit = graceOnly ? grace : callLimit(target)
        // Only a call without a deadline lets the idle timeout end its session (SessionReaper).
        if limit == nil { lease.session.state.withLock { $0.unboundedCalls += 1 } }
        defer { if limit == nil { lease.session.state.withLock { $0.unboundedCalls -= 1 } } }
        return try await ConnectionWatchdog.shared.run(
            lease.connection, limit: limit, cancelGrace: grace, expired: { self.deadlineExceeded(target, access: access) },
            { try await body(lease.connection, target) })
    }

    /// The connection back to its pool, clean (see `giveBack`), and the slot back to the session.
    func release(_ lease: SessionLease, before deadline: ContinuousClock.Instant? = nil) async {
        await giveBack(lease.pooled, before: deadline)
        lease.session.slots.release()
    }

    /// Takes one of the session's connection slots (`PGMCP_SESSION_MAX_CONNECTIONS`).
    private func acquireSlot(_ session: WorkSession) async throws {
        let limit = session.slots.limit
        try await session.slots.acquire(timeout: configuration.server.acquireTimeout) { waited in
            RegistryError(
                .sessionLimit,
                "this session already holds \(limit) of \(limit) connections (PGMCP_SESSION_MAX_CONNECTIONS, an open transaction holds one); waited \(waited.readable) for one to free up"
            )
        }
    }

    /// How long a call may hold its connection before we stop waiting for PostgreSQL: the
    /// database's statement timeout plus the grace period (`PGMCP_CONNECT_TIMEOUT`); no limit of
    /// ours when the database sets none (cancelling the call still bounds it).
    func callLimit(_ target: DatabaseTarget) -> Duration? {
        target.config.statementTimeoutMs > 0 ? .milliseconds(target.config.statementTimeoutMs) + grace : nil
    }

    func deadlineExceeded(_ target: DatabaseTarget, access: Access) -> RegistryError {
        let limit = callLimit(target).map { "within \($0.readable) (statementTimeoutMs \(target.config.statementTimeoutMs) ms + PGMCP_CONNECT_TIMEOUT)" }
        // A write may have committed before the server stopped answering (a commit waiting on a
        // synchronous replica is beyond statement_timeout): a blind retry could write twice.
        let next =
            access == .write
            ? "Whether the write committed is unknown: check the data before retrying"
            : "Check it, then retry"
        return RegistryError(
            .deadlineExceeded,
            "database '\(target.name)' did not answer \(limit ?? "within PGMCP_CONNECT_TIMEOUT of the call being cancelled"); its connection was abandoned (closed, not reused). PostgreSQL may be frozen, overloaded or unreachable. \(next)"
        )
    }
}
