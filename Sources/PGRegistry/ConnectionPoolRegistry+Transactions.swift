import PGClient

/// Transactions held open across calls: a connection pinned to a work session
/// (`PinnedConnection`). The registry owns its lifetime (the session's connection limit, the
/// idle timeout, the session's end, a lost connection); the SQL that opens and ends it is the
/// caller's.
extension ConnectionPoolRegistry {
    /// Pins a connection of `database` (default: the active one) to `session` and runs `open` on
    /// it (`BEGIN …`) under the call deadline. `readOnly: false` needs the database to be writable
    /// and chosen, as a write does. One per database per session.
    public func pin(
        session: WorkSession, database: String?, readOnly: Bool,
        open: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> Void
    ) async throws -> PinnedConnection {
        var target = try self.target(database, for: session, access: readOnly ? .read : .write)
        let name = target.name
        try session.state.withLock { state throws(RegistryError) in
            guard state.phase == .active else { throw RegistryError(.sessionEnded, "the session has ended") }
            if state.transactions[name] != nil {
                throw RegistryError(
                    .transactionOpen,
                    "a transaction is already open on '\(name)' in this session; end it with commit_transaction or rollback_transaction first")
            }
            state.transactions[name] = .opening
            state.endedTransactions[name] = nil
        }
        var stored = false
        defer {
            if !stored {
                session.state.withLock { state in
                    if case .opening? = state.transactions[name] { state.transactions[name] = nil }
                }
            }
        }
        if target.kind == .configured && target.config.isolation == .clone {
            target = try await cloneTarget(of: target, for: session)
        }
        let pinned = try await registered(session, target) { [target] in
            try await self.acquireSlot(session)
            let lease: PooledConnection
            do {
                lease = try await target.pool.lease(timeout: self.configuration.server.acquireTimeout)
            } catch let error as PoolError {
                session.slots.release()
                throw self.leaseFailure(error, target)
            } catch {
                session.slots.release()
                throw error
            }
            let pinned = PinnedConnection(target: target, readOnly: readOnly, lease: lease, now: self.clock())
            do {
                try await ConnectionWatchdog.shared.run(
                    lease.connection, limit: self.callLimit(target), cancelGrace: self.grace,
                    expired: { self.deadlineExceeded(target, access: .read) }, { try await open(lease.connection, target) })
            } catch {
                await self.giveBack(lease)
                session.slots.release()
                throw error
            }
            // Inside the registered call: a session ending now waits for this and then finds it.
            let stored = session.state.withLock { state -> Bool in
                // Still ours to fill: not taken away meanwhile (disconnect_database, the session ending).
                guard state.phase == .active, case .opening? = state.transactions[name] else { return false }
                state.transactions[name] = .open(pinned)
                return true
            }
            guard stored else {
                pinned.state.withLock { $0.released = true }
                await self.returnPinned(pinned, to: session)
                throw RegistryError(.transactionEnded, "'\(name)' was closed while its transaction was being opened; nothing was kept")
            }
            return pinned
        }
        stored = true
        return pinned
    }

    /// The transaction `session` holds open on `name`, if any.
    public func transaction(of session: WorkSession, on name: String) -> PinnedConnection? {
        session.state.withLock { if case .open(let pinned)? = $0.transactions[name] { pinned } else { nil } }
    }

    /// Runs `body` with a connection to `database` (default: the active one): the session's pinned
    /// one when it holds a transaction there (`transaction` is then non-nil), else a pooled one as
    /// `withConnection` does. Resolved once, like `withConnection`. A transaction that ended without
    /// the caller asking fails this call once, with the reason, rather than letting it run outside.
    public func withSessionConnection<R: Sendable>(
        session: WorkSession, database: String? = nil, access: Access = .read,
        _ body: @escaping @Sendable (PGConnection, DatabaseTarget, PinnedConnection?) async throws -> R
    ) async throws -> R {
        let target = try self.target(database, for: session, access: access)
        let pinned = try session.state.withLock { state throws(RegistryError) -> PinnedConnection? in
            if let reason = state.endedTransactions.removeValue(forKey: target.name) {
                throw RegistryError(
                    .transactionEnded, "the transaction on '\(target.name)' was rolled back: \(reason). Nothing of it was committed; begin_transaction starts a new one")
            }
            // The same database, not only the same name (a dynamic connection closed and made again).
            if case .open(let pinned)? = state.transactions[target.name], pinned.serves(target) { return pinned }
            return nil
        }
        guard let pinned else {
            return try await withConnection(session: session, resolved: target, access: access) { try await body($0, $1, nil) }
        }
        return try await runPinned(session, pinned, access: access) { try await body($0, $1, pinned) }
    }

    /// Ends the transaction `session` holds on `database`: waits for a call running on it, runs
    /// `finish` (`COMMIT` or `ROLLBACK`) under a deadline, and returns the connection to its pool
    /// reset (or closed when it broke). Whatever `finish` throws is rethrown after that.
    ///
    /// The deadline of a `COMMIT` is a call's (deferred triggers run in it, under the statement
    /// timeout); a rollback (`rollingBack`) has only the grace period: a healthy server answers one
    /// at once, and a frozen one must not hold the caller for a statement timeout.
    public func endTransaction<R: Sendable>(
        session: WorkSession, database: String?, rollingBack: Bool = false,
        _ finish: @escaping @Sendable (PGConnection, PinnedConnection) async throws -> R
    ) async throws -> R {
        let target = try self.target(database, for: session, access: .read)
        let pinned = try session.state.withLock { state throws(RegistryError) -> PinnedConnection in
            if let reason = state.endedTransactions.removeValue(forKey: target.name) {
                throw RegistryError(.transactionEnded, "the transaction on '\(target.name)' was already rolled back: \(reason). Nothing of it was committed")
            }
            guard case .open(let pinned)? = state.transactions[target.name], pinned.serves(target) else {
                throw RegistryError(.noTransaction, "no transaction is open on '\(target.name)' in this session; begin_transaction starts one")
            }
            return pinned
        }
        return try await registered(session, pinned.target) {
            try await pinned.gate.acquire(timeout: self.configuration.server.acquireTimeout) { waited in
                RegistryError(.sessionLimit, "another call of this session kept the transaction on '\(target.name)' busy for \(waited.readable)")
            }
            let claimed = pinned.state.withLock { state -> Bool in
                if state.released { return false }
                state.released = true
                return true
            }
            guard claimed else {
                pinned.gate.release()
                throw RegistryError(.transactionEnded, "the transaction on '\(target.name)' has already ended")
            }
            session.state.withLock { _ = $0.transactions.removeValue(forKey: target.name) }
            do {
                let result = try await ConnectionWatchdog.shared.run(
                    pinned.connection, limit: rollingBack ? self.grace : self.callLimit(pinned.target), cancelGrace: self.grace,
                    expired: { self.deadlineExceeded(pinned.target, access: rollingBack ? .read : .write) }, { try await finish(pinned.connection, pinned) })
                await self.returnPinned(pinned, to: session)
                return result
            } catch {
                await self.returnPinned(pinned, to: session)
                throw error
            }
        }
    }

    /// Rolls back every transaction idle longer than `PGMCP_TRANSACTION_IDLE_TIMEOUT`, so that a
    /// client that went away does not hold row locks for as long as its session lives.
    public func reapIdleTransactions() async {
        let now = clock()
        let timeout = configuration.server.transactionIdleTimeout
        let idle = sessions.withLock { table in
            table.byHandle.values.flatMap { session in
                session.state.withLock { state in
                    state.transactions.values.compactMap { slot -> (WorkSession, PinnedConnection)? in
                        guard case .open(let pinned) = slot, pinned.isIdle(now: now, timeout: timeout) else { return nil }
                        return (session, pinned)
                    }
                }
            }
        }
        // Concurrently: one whose backend does not answer must not hold up the others for its grace period.
        await withTaskGroup(of: Void.self) { group in
            for (session, pinned) in idle {
                group.addTask {
                    await self.release(pinned, of: session, reason: "it was idle for more than \(timeout.readable) (PGMCP_TRANSACTION_IDLE_TIMEOUT)") {
                        $0.callsRunning == 0 && now - $0.lastUsed >= timeout
                    }
                }
            }
        }
    }

    // MARK: - Internals

    /// Runs `body` on the pinned connection: one call at a time, under the call deadline, the call
    /// registered with the session (ending it cancels the statement).
    private func runPinned<R: Sendable>(
        _ session: WorkSession, _ pinned: PinnedConnection, access: Access, _ body: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> R
    ) async throws -> R {
        let target = pinned.target
        return try await registered(session, target) {
            try await pinned.gate.acquire(timeout: self.configuration.server.acquireTimeout) { waited in
                RegistryError(
                    .sessionLimit,
                    "another call of this session is using its transaction on '\(target.name)'; waited \(waited.readable) for it. Calls in one transaction run one at a time")
            }
            defer { pinned.gate.release() }
            let started = pinned.state.withLock { state -> Bool in
                guard !state.released else { return false }
                state.callsRunning += 1
                return true
            }
            guard started else {
                // The reason was recorded with the claim; the session's copy is told here, not twice.
                let reason = pinned.state.withLock { $0.endReason }
                session.state.withLock { _ = $0.endedTransactions.removeValue(forKey: target.name) }
                throw RegistryError(
                    .transactionEnded,
                    "the transaction on '\(target.name)' ended before this call could run\(reason.map { ": \($0)" } ?? ""). Nothing of it was committed; begin_transaction starts a new one"
                )
            }
            defer {
                pinned.state.withLock { state in
                    state.callsRunning -= 1
                    state.lastUsed = self.clock()
                }
            }
            let deadline = self.callLimit(target)
            if deadline == nil { session.state.withLock { $0.unboundedCalls += 1 } }
            defer { if deadline == nil { session.state.withLock { $0.unboundedCalls -= 1 } } }
            do {
                return try await ConnectionWatchdog.shared.run(
                    pinned.connection, limit: deadline, cancelGrace: self.grace, expired: { self.deadlineExceeded(target, access: access) },
                    { try await body(pinned.connection, target) })
            } catch {
                if pinned.connection.isBroken || pinned.connection.isAbandoned {
                    await self.release(pinned, of: session, reason: "its connection was lost, and PostgreSQL rolls back a transaction whose connection ends") { _ in true }
                }
                throw error
            }
        }
    }

    /// Ends a pinned transaction the caller did not end: claims it (unless `still` says it is busy
    /// again), leaves the reason for the next call, and returns its connection (the reset rolls back).
    func release(
        _ pinned: PinnedConnection, of session: WorkSession, reason: String, before deadline: ContinuousClock.Instant? = nil,
        still: (PinnedConnection.State) -> Bool
    ) async {
        guard claim(pinned, reason: reason, still: still) else { return }
        let name = pinned.target.name
        session.state.withLock { state in
            if case .open(let current)? = state.transactions[name], current === pinned {
                state.transactions[name] = nil
                state.endedTransactions[name] = reason
            }
        }
        logger.info("rolled back a transaction", metadata: ["database": "\(name)", "reason": "\(reason)"])
        await returnPinned(pinned, to: session, before: deadline)
    }

    /// Claims a pinned transaction for ending it (unless already claimed, or `still` says it is busy
    /// again): a call that has not started in it yet then fails, told `reason`.
    func claim(_ pinned: PinnedConnection, reason: String, still: (PinnedConnection.State) -> Bool = { _ in true }) -> Bool {
        pinned.state.withLock { state -> Bool in
            guard !state.released, still(state) else { return false }
            state.released = true
            state.endReason = reason
            return true
        }
    }

    /// The pinned connection back to its pool (reset unless its end already reset it; see
    /// `giveBack` for `deadline`), its slot back to the session.
    func returnPinned(_ pinned: PinnedConnection, to session: WorkSession, before deadline: ContinuousClock.Instant? = nil) async {
        pinned.gate.close(with: RegistryError(.transactionEnded, "the transaction on '\(pinned.target.name)' has ended"))
        await giveBack(pinned.lease, before: deadline)
        session.slots.release()
    }
}
