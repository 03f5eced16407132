import PGClient

extension ConnectionPoolRegistry {
    /// Runs `body` with a connection to `database` (default: the session's active one).
    ///
    /// The call takes one of the session's connection slots (waiting up to `PGMCP_ACQUIRE_TIMEOUT`),
    /// leases from the database's pool within what remains of that time, and afterwards returns the
    /// connection clean: rolled back if a transaction is open, `DISCARD ALL` so nothing it set is seen
    /// by the next session, or closed if either fails. The calling task is registered with the
    /// session, so ending the session cancels it and its statement in PostgreSQL: call this from a
    /// task that may be cancelled (the MCP layer runs each tool call in one). With `access: .write`
    /// the database is checked to be writable and chosen (`target(_:for:access:)`) in the same
    /// resolution the lease uses.
    @discardableResult
    public func withConnection<R: Sendable>(
        session: WorkSession, database: String? = nil, access: Access = .read,
        _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        try await withConnection(session: session, resolved: try self.target(database, for: session, access: access), access: access, body)
    }

    /// `withConnection` for a target already resolved (and checked for `access`) once.
    func withConnection<R: Sendable>(
        session: WorkSession, resolved: DatabaseTarget, access: Access,
        _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        var target = resolved
        if target.kind == .configured && target.config.isolation == .clone {
            target = try await cloneTarget(of: target, for: session)
        }
        return try await registered(session, target) { [target] in
            try await self.perform(session: session, target: target, access: access, body)
        }
    }

    private func perform<R: Sendable>(
        session: WorkSession, target: DatabaseTarget, access: Access, _ body: @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        let clock = ContinuousClock()
        let started = clock.now
        let timeout = configuration.server.acquireTimeout
        try await acquireSlot(session)
        defer { session.slots.release() }
        let lease: PooledConnection
        do {
            lease = try await target.pool.lease(timeout: max(.zero, timeout - (clock.now - started)))
        } catch let error as PoolError {
            throw leaseFailure(error, target)
        }
        let deadline = callLimit(target)
        // Only a call without a deadline lets the idle timeout end its session (SessionReaper).
        if deadline == nil { session.state.withLock { $0.unboundedCalls += 1 } }
        defer { if deadline == nil { session.state.withLock { $0.unboundedCalls -= 1 } } }
        do {
            let result = try await ConnectionWatchdog.shared.run(
                lease.connection, limit: deadline, cancelGrace: grace, expired: { deadlineExceeded(target, access: access) }, { try await body(lease.connection, target) })
            await giveBack(lease)
            return result
        } catch {
            await giveBack(lease)
            throw error
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

    /// Returns a connection to its pool only clean; otherwise closes it. A connection the call already
    /// reset (a pipelined query ends with the reset) goes straight back; any other is reset in a task
    /// of its own, so that a cancelled call (its session ending) still resets the connection it used.
    ///
    /// - Parameter deadline: when the reset must be over (a session's end has one for all it
    ///   returns); by default the grace period from now. Past it the connection is abandoned, not reset.
    func giveBack(_ lease: PooledConnection, before deadline: ContinuousClock.Instant? = nil) async {
        let connection = lease.connection
        if connection.isBroken { return lease.pool.release(lease, outcome: .close(.broken)) }
        // A reset that failed on its own is not tried again in a second sync: the connection closes.
        if let failure = connection.resetFailure { return closeUnreset(lease, failure) }
        if connection.isReset { return lease.pool.release(lease, outcome: .reusable) }
        let limit = deadline.map { min(grace, $0 - .now) } ?? grace
        guard limit > .zero else {
            // PostgreSQL rolls back the transaction of a connection that ends.
            connection.abandon()
            return lease.pool.release(lease, outcome: .close(.broken))
        }
        await Task {
            do {
                // Bounded: a reset a healthy server answers at once must not wait on a frozen one.
                try await connection.bounded(by: limit) { try await connection.reset() }
                lease.pool.release(lease, outcome: .reusable)
            } catch {
                if connection.isBroken { return lease.pool.release(lease, outcome: .close(.broken)) }
                closeUnreset(lease, error)
            }
        }.value
    }

    /// Closes a connection whose session state could not be reset, and says why in the log (the
    /// error is PostgreSQL's about a statement of ours: no secret in it).
    private func closeUnreset(_ lease: PooledConnection, _ error: any Error) {
        logger.warning(
            "closing a connection whose reset failed",
            metadata: ["database": "\(lease.pool.name)", "pid": "\(lease.connection.backendPID)", "error": "\(error)"])
        lease.pool.release(lease, outcome: .close(.dirty))
    }

    /// Takes one of the session's connection slots (`PGMCP_SESSION_MAX_CONNECTIONS`).
    func acquireSlot(_ session: WorkSession) async throws {
        let limit = session.slots.limit
        try await session.slots.acquire(timeout: configuration.server.acquireTimeout) { waited in
            RegistryError(
                .sessionLimit,
                "this session already holds \(limit) of \(limit) connections (PGMCP_SESSION_MAX_CONNECTIONS, an open transaction holds one); waited \(waited.readable) for one to free up"
            )
        }
    }

    /// Runs `body` as one of the session's calls: counted in its statistics and the target pool's
    /// metrics, cancelled when the session ends (or, by its pool, when its database is closed).
    func registered<R: Sendable>(_ session: WorkSession, _ target: DatabaseTarget, _ body: @escaping @Sendable () async throws -> R) async throws -> R {
        let id = session.state.withLock { state in
            defer { state.nextCallID += 1 }
            state.lastActivity = clock()
            return state.nextCallID
        }
        do {
            guard let result = try await session.calls.run(id, tag: target.pool.serial, body) else {
                throw RegistryError(.sessionEnded, "the session has ended")
            }
            session.finishCall(failed: false, now: clock())
            target.pool.metrics.recordCall(failed: false)
            return result
        } catch {
            session.finishCall(failed: true, now: clock())
            target.pool.metrics.recordCall(failed: true)
            if !session.isActive, !(error is RegistryError) {
                throw RegistryError(.sessionEnded, "the session ended while the call ran; its statement was cancelled")
            }
            if target.kind == .dynamic, session.state.withLock({ $0.dynamic[target.name]?.pool !== target.pool }) {
                throw RegistryError(
                    .closedUnderCall, "'\(target.name)' was disconnected (disconnect_database) while the call ran, which cancelled it: \(error)")
            }
            throw error
        }
    }
}

extension WorkSession {
    func finishCall(failed: Bool, now: ContinuousClock.Instant) {
        state.withLock { state in
            state.queries += 1
            if failed { state.errors += 1 }
            state.lastActivity = now
        }
    }

    /// The session's end, once: waiting calls fail, running ones are cancelled and awaited (their
    /// connections go back reset), open transactions roll back, dynamic pools close, copies are
    /// dropped. Later callers wait for the first to finish.
    ///
    /// Bounded as a whole, whatever PostgreSQL does (a frozen backend answers nothing): the grace
    /// period (`PGMCP_CONNECT_TIMEOUT`) from now is one deadline for all of it, not one per step.
    /// A cancelled call gives its connection up by then (its watchdog), and what is returned after
    /// that is returned concurrently, each reset bounded by what is left of it; a connection not
    /// reset by then is abandoned (PostgreSQL rolls back the transaction of a connection that
    /// ends). Only dropping a copy keeps its own bound (a large copy may take a while to drop).
    func end(registry: ConnectionPoolRegistry, reason: String) async {
        enum Role { case first, waiter, done }
        let role = state.withLock { state -> Role in
            switch state.phase {
            case .active:
                state.phase = .ending
                return .first
            case .ending: return .waiter
            case .ended: return .done
            }
        }
        switch role {
        case .done: return
        case .waiter:
            await state.wait { state, continuation in
                if state.phase == .ended { return true }
                state.endWaiters.append(continuation)
                return false
            }
            return
        case .first:
            break
        }
        let deadline = ContinuousClock.now + registry.grace
        // A copy still being made is cancelled first: a call waiting for it waits on that task, which
        // would otherwise hold the drain below for as long as the copy may take.
        let making = state.withLock { $0.clones.values.compactMap { if case .making(let task) = $0 { task } else { nil } } }
        for task in making { task.cancel() }
        slots.close(with: RegistryError(.sessionEnded, "the session ended (\(reason))"))
        await calls.closeAndDrain()
        let (transactions, dynamic, clones) = state.withLock { state in
            defer {
                state.transactions = [:]
                state.dynamic = [:]
                state.clones = [:]
            }
            let transactions = state.transactions.values.compactMap { if case .open(let pinned) = $0 { pinned } else { nil } }
            return (transactions, Array(state.dynamic.values), Array(state.clones.values))
        }
        // Most sessions (every stateless call's) hold none of these: no group for them.
        if !(transactions.isEmpty && dynamic.isEmpty && clones.isEmpty) {
            await returnConcurrently(registry, reason: reason, deadline: deadline, transactions, dynamic, clones)
        }
        let waiters = state.withLock { state in
            state.phase = .ended
            defer { state.endWaiters = [] }
            return state.endWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The end's returns, each on its own so that none waits for another's PostgreSQL.
    private func returnConcurrently(
        _ registry: ConnectionPoolRegistry, reason: String, deadline: ContinuousClock.Instant, _ transactions: [PinnedConnection],
        _ dynamic: [DatabaseTarget], _ clones: [Clone]
    ) async {
        await withTaskGroup(of: Void.self) { group in
            // Its open transactions roll back (the reset's ROLLBACK) and release their locks.
            for pinned in transactions {
                group.addTask { await registry.release(pinned, of: self, reason: "the session ended (\(reason))", before: deadline) { _ in true } }
            }
            for target in dynamic { group.addTask { await target.pool.shutdown() } }
            for clone in clones {
                group.addTask {
                    switch clone {
                    case .made(let target): await registry.dropClone(target)
                    case .making(let task): if let target = try? await task.value { await registry.dropClone(target) }
                    }
                }
            }
        }
    }
}
