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
        let target = try await sessionTarget(resolved, for: session)
        return try await registered(session, target) { [target] in
            try await self.perform(session: session, target: target, access: access, body)
        }
    }

    private func perform<R: Sendable>(
        session: WorkSession, target: DatabaseTarget, access: Access, _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        let lease = try await lease(target, for: session)
        do {
            let result = try await run(lease, access: access, body)
            await release(lease)
            return result
        } catch {
            await release(lease)
            throw error
        }
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

    /// Runs `body` as one of the session's calls: counted in its statistics and the target pool's
    /// metrics, cancelled when the session ends (or, by its pool, when its database is closed).
    func registered<R: Sendable>(_ session: WorkSession, _ target: DatabaseTarget, _ body: @escaping @Sendable () async throws -> R) async throws -> R {
        session.touch()
        do {
            guard let result = try await session.calls.run(tag: target.pool.serial, body) else {
                throw RegistryError(.sessionEnded, "the session has ended")
            }
            session.finishCall(failed: false)
            target.pool.metrics.recordCall(failed: false)
            return result
        } catch {
            session.finishCall(failed: true)
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
