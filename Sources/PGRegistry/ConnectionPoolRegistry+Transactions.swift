import PGClient
import Synchronization

/// Transactions held open across calls: a connection pinned to a work session
/// (`PinnedConnection`). The session's `TransactionTable` decides every step; this runs the steps
/// (the lease, the SQL under a deadline, the return). The SQL that opens and ends a transaction is
/// the caller's.
extension ConnectionPoolRegistry {
    /// Claims `session`'s `kind` slot on database `name` (one of each per database per session):
    /// the serial that `opened` or `beginFailed` must name. Refused once the session has ended.
    func claimPin(_ kind: PinKind, _ name: String, in session: WorkSession) throws(RegistryError) -> Int {
        try session.state.withLock { state throws(RegistryError) in
            guard state.phase == .active else { throw RegistryError(.sessionEnded, "the session has ended") }
            return try state[keyPath: kind.pins].begin(name)
        }
    }

    /// Gives back a slot `claimPin` took when nothing was pinned in it.
    func unclaimPin(_ kind: PinKind, _ name: String, serial: Int, in session: WorkSession) {
        session.state.withLock { $0[keyPath: kind.pins].beginFailed(name, serial: serial) }
    }

    /// Pins a connection of `database` (default: the active one) to `session` and runs `open` on
    /// it (`BEGIN …`) under the call deadline. `readOnly: false` needs the database to be writable
    /// and chosen, as a write does. One per database per session.
    public func pin(
        session: WorkSession, database: String?, readOnly: Bool,
        open: @escaping @Sendable (PGConnection, DatabaseTarget) async throws -> Void
    ) async throws -> PinnedConnection {
        let resolved = try self.target(database, for: session, access: readOnly ? .read : .write)
        let name = resolved.name
        let serial = try claimPin(.transaction, name, in: session)
        var kept = false
        defer { if !kept { unclaimPin(.transaction, name, serial: serial, in: session) } }
        let target = try await sessionTarget(resolved, for: session)
        let pinned = try await registered(session, target) { [target] in
            let lease = try await self.lease(target, for: session)
            do {
                try await self.run(lease, access: .read) { connection, target in try await open(connection, target) }
            } catch {
                await self.release(lease)
                throw error
            }
            let now = session.clock()
            let pinned = PinnedConnection(lease: lease, readOnly: readOnly, opened: now, openedAt: session.date(of: now))
            // Inside the registered call: a session ending now waits for this and then finds it.
            guard session.state.withLock({ $0.phase == .active && $0.transactions.opened(name, serial: serial, pinned, now: now) }) else {
                await self.release(lease)
                throw RegistryError(.transactionEnded, "'\(name)' was closed while its transaction was being opened; nothing was kept")
            }
            return pinned
        }
        kept = true
        return pinned
    }

    /// The transaction `session` holds open on `name`, if any, with its age and idle time.
    public func transaction(of session: WorkSession, on name: String) -> OpenTransaction? {
        let now = session.clock()
        return session.state.withLock { $0.transactions.open(on: name) }.map {
            OpenTransaction(pinned: $0.pinned, age: now - $0.pinned.opened, idle: $0.busy ? .zero : max(.zero, now - $0.lastUsed))
        }
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
        let start = try session.state.withLock { state throws(RegistryError) in
            // The same database, not only the same name (a dynamic connection closed and made again).
            try state.transactions.startCall(on: target.name) { $0.serves(target) }
        }
        let pinned: PinnedConnection
        switch start {
        case .pooled: return try await withConnection(session: session, resolved: target, access: access) { try await body($0, $1, nil) }
        case .run(let granted): pinned = granted
        case .wait(_, let waitedFor): pinned = waitedFor
        }
        return try await registered(session, pinned.target) {
            if case .wait(let id, _) = start {
                _ = try await session.waitTurn(id, timeout: self.configuration.server.acquireTimeout) { waited in
                    RegistryError(
                        .sessionLimit,
                        "another call of this session is using its transaction on '\(target.name)'; waited \(waited.readable) for it. Calls in one transaction run one at a time"
                    )
                }
            }
            // Registered now: a disconnect or the session's end from here on waits for this call.
            // One that came first took the transaction away, and the call must not run on it.
            guard session.state.withLock({ $0.transactions.holds(pinned, on: target.name) }) else {
                throw RegistryError(
                    .transactionEnded,
                    "the transaction on '\(target.name)' ended before this call could run. Nothing of it was committed; begin_transaction starts a new one")
            }
            do {
                let result = try await self.run(pinned.lease, access: access) { connection, target in try await body(connection, target, pinned) }
                await self.finish(pinned, of: session, lost: nil)
                return result
            } catch {
                let lost = pinned.connection.isBroken || pinned.connection.isAbandoned
                await self.finish(pinned, of: session, lost: lost ? "its connection was lost, and PostgreSQL rolls back a transaction whose connection ends" : nil)
                throw error
            }
        }
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
        return try await endPin(.transaction, of: session, on: target, rollingBack: rollingBack, finish)
    }

    /// `endTransaction` for a pin of `kind` on `target` (a cursor's close uses it too).
    func endPin<R: Sendable>(
        _ kind: PinKind, of session: WorkSession, on target: DatabaseTarget, rollingBack: Bool,
        _ finish: @escaping @Sendable (PGConnection, PinnedConnection) async throws -> R
    ) async throws -> R {
        let start = try session.state.withLock { state throws(RegistryError) in
            try state[keyPath: kind.pins].startEnd(on: target.name) { $0.serves(target) }
        }
        let pinned: PinnedConnection
        switch start {
        case .run(let granted), .wait(_, let granted): pinned = granted
        case .pooled: throw RegistryError(.noTransaction, "no transaction is open on '\(target.name)' in this session; begin_transaction starts one")
        }
        // The end took the transaction out of the table (or will, at its turn): if the session ends
        // before this call runs, nobody else would give its connection back.
        let ran = CallStarted()
        do {
            return try await ending(session, pinned, start, kind, ran: ran, rollingBack: rollingBack, finish)
        } catch {
            if !ran.value.withLock({ $0 }) {
                let taken: PinnedConnection? = if case .wait(let id, _) = start { session.abandonTurn(id, kind) } else { pinned }
                if let taken { await rollBack((taken, "the session ended before its end could run")) }
            }
            throw error
        }
    }

    /// `endTransaction`'s call: waits for its turn when it must, runs `finish`, gives the
    /// connection back. `ran` says whether the session let it run at all.
    private func ending<R: Sendable>(
        _ session: WorkSession, _ pinned: PinnedConnection, _ start: TransactionTable<PinnedConnection>.CallStart, _ kind: PinKind, ran: CallStarted,
        rollingBack: Bool, _ finish: @escaping @Sendable (PGConnection, PinnedConnection) async throws -> R
    ) async throws -> R {
        let target = pinned.target
        return try await registered(session, pinned.target) {
            ran.value.withLock { $0 = true }
            if case .wait(let id, _) = start {
                _ = try await session.waitTurn(id, kind, timeout: self.configuration.server.acquireTimeout) { waited in
                    RegistryError(.sessionLimit, "another call of this session kept the transaction on '\(target.name)' busy for \(waited.readable)")
                }
            }
            do {
                let result = try await self.run(pinned.lease, access: rollingBack ? .read : .write, graceOnly: rollingBack) { connection, _ in
                    try await finish(connection, pinned)
                }
                await self.release(pinned.lease)
                return result
            } catch {
                await self.release(pinned.lease)
                throw error
            }
        }
    }

    /// Rolls back every transaction idle longer than `PGMCP_TRANSACTION_IDLE_TIMEOUT`, so that a
    /// client that went away does not hold row locks for as long as its session lives.
    public func reapIdleTransactions() async {
        let now = clock()
        let timeout = configuration.server.transactionIdleTimeout
        let reason = "it was idle for more than \(timeout.readable) (PGMCP_TRANSACTION_IDLE_TIMEOUT)"
        let idle = sessions.withLock { Array($0.byHandle.values) }.flatMap { session in
            session.update { state in ((), state.transactions.expireIdle(now: now, timeout: timeout, reason: reason)) }.1
        }
        // Concurrently: one whose backend does not answer must not hold up the others for its grace period.
        await withTaskGroup(of: Void.self) { group in
            for giveBack in idle { group.addTask { await self.rollBack(giveBack) } }
        }
    }

    // MARK: - Internals

    /// A call in the transaction is over: the table decides the next turn, or (`lost`) the end.
    private func finish(_ pinned: PinnedConnection, of session: WorkSession, lost: String?) async {
        let now = session.clock()
        let giveBacks = session.update { state in ((), state.transactions.callFinished(pinned.target.name, pinned, now: now, lost: lost)) }.1
        for giveBack in giveBacks { await self.rollBack(giveBack) }
    }

    /// Returns a transaction the caller did not end (the reset rolls back), and says why.
    func rollBack(_ giveBack: WorkSession.GiveBack, before deadline: ContinuousClock.Instant? = nil) async {
        logger.info("rolled back a transaction", metadata: ["database": "\(giveBack.pinned.target.name)", "reason": "\(giveBack.reason)"])
        await release(giveBack.pinned.lease, before: deadline)
    }
}

/// Whether a registered call's body started (a session that is ending refuses to run it).
private final class CallStarted: Sendable {
    let value = Mutex(false)
}
