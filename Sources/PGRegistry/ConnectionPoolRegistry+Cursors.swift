import PGClient

/// Query cursors held open across calls (`nextCursor`): a pin of its own, like a transaction. The
/// session's cursor table (a second `TransactionTable`) decides every step, one per database; this
/// runs the steps with the same lease, deadline and return as a transaction's. The SQL is the
/// caller's (`PGConnection.openCursor`, `fetchCursor`).
extension ConnectionPoolRegistry {
    /// Opens a cursor of `session` on `database` (default: the active one) and runs `open` on a
    /// connection of its own (it declares the cursor and reads the first page). When `open` says
    /// more rows remain, the connection stays pinned to the session (one of its connection slots)
    /// and the cursor's id is returned; otherwise it goes back at once. A cursor the session had on
    /// that database is closed first: one per database per session.
    public func openCursor<R: Sendable>(
        session: WorkSession, database: String?, pageSize: Int,
        _ open: @escaping @Sendable (PGConnection, DatabaseTarget, CursorPlace) async throws -> (R, more: Bool)
    ) async throws -> (R, cursor: String?) {
        let resolved = try self.target(database, for: session, access: .read)
        let name = resolved.name
        await closeCursor(of: session, on: resolved)
        let serial = try claimPin(.cursor, name, in: session)
        var kept = false
        defer { if !kept { unclaimPin(.cursor, name, serial: serial, in: session) } }
        let target = try await sessionTarget(resolved, for: session)
        let place = CursorPlace(id: SessionHandle.random(replica: configuration.server.replicaID).rawValue, pageSize: pageSize, handedOut: 0)
        let (value, pinned) = try await registered(session, target) { [target] () async throws -> (R, PinnedConnection?) in
            let lease = try await self.lease(target, for: session)
            let (value, more): (R, Bool)
            do {
                (value, more) = try await self.run(lease, access: .read) { connection, target in try await open(connection, target, place) }
            } catch {
                await self.release(lease)
                throw error
            }
            let now = session.clock()
            let pinned = PinnedConnection(lease: lease, readOnly: true, opened: now, openedAt: session.date(of: now), cursor: place)
            // Inside the registered call: a session ending now waits for this and then finds it.
            guard more, session.state.withLock({ $0.phase == .active && $0.cursors.opened(name, serial: serial, pinned, now: now) }) else {
                await self.release(lease)
                return (value, nil)
            }
            self.cursorRoutes.add(place.id, CursorRoutes.Route(session: session, database: name))
            return (value, pinned)
        }
        kept = pinned != nil
        return (value, pinned?.cursor?.id)
    }

    /// Runs `body` on the cursor `id` (its next page) when it is open and belongs to `owner`: to any
    /// other caller it does not exist. When `body` says no rows remain, or fails (a failed page
    /// aborts the cursor's transaction), the cursor closes and its connection goes back.
    public func withCursor<R: Sendable>(
        _ id: String, ownedBy owner: SessionOwner,
        _ body: @escaping @Sendable (PGConnection, DatabaseTarget, CursorPlace) async throws -> (R, more: Bool)
    ) async throws -> R {
        guard let route = cursorRoutes[id], route.session.isActive, route.session.belongs(to: owner) else { throw Self.unknownCursor }
        let session = route.session
        session.touch()
        let start: TransactionTable<PinnedConnection>.CallStart
        do {
            start = try session.state.withLock { state throws(RegistryError) in try state.cursors.startCall(on: route.database) { $0.cursor?.id == id } }
        } catch {
            throw Self.unknownCursor
        }
        let pinned: PinnedConnection
        switch start {
        case .pooled: throw Self.unknownCursor
        case .run(let granted), .wait(_, let granted): pinned = granted
        }
        guard let place = pinned.cursor else { throw Self.unknownCursor }
        return try await registered(session, pinned.target) {
            if case .wait(let waiter, _) = start {
                _ = try await session.waitTurn(waiter, .cursor, timeout: self.configuration.server.acquireTimeout) { waited in
                    RegistryError(.sessionLimit, "another call is reading this cursor; waited \(waited.readable) for it. Pages of one cursor are read one at a time")
                }
            }
            guard session.state.withLock({ $0.cursors.holds(pinned, on: route.database) }) else { throw Self.unknownCursor }
            do {
                let (value, more) = try await self.run(pinned.lease, access: .read) { connection, target in try await body(connection, target, place) }
                await self.finishCursorCall(pinned, of: session, closing: more ? nil : "it was read to its end")
                return value
            } catch {
                await self.finishCursorCall(pinned, of: session, closing: "a page failed")
                throw error
            }
        }
    }

    /// Closes the cursor `session` has on `target`'s database, if any (after a page being read on
    /// it): its transaction rolls back and its connection goes back.
    func closeCursor(of session: WorkSession, on target: DatabaseTarget) async {
        let id = session.state.withLock { $0.cursors.open(on: target.name)?.pinned.cursor?.id }
        guard let id else { return }
        cursorRoutes.remove([id])
        _ = try? await endPin(.cursor, of: session, on: target, rollingBack: true) { _, _ in }
    }

    /// Closes every cursor idle longer than `PGMCP_CURSOR_IDLE_TIMEOUT`: each holds a connection and
    /// a snapshot (which holds back VACUUM) for a client that may have gone. A session of a single
    /// call kept only for its cursor ends once it holds none.
    public func reapIdleCursors() async {
        let now = clock()
        let timeout = configuration.server.cursorIdleTimeout
        let reason = "it was idle for more than \(timeout.readable) (PGMCP_CURSOR_IDLE_TIMEOUT)"
        let sessions = sessions.withLock { Array($0.byHandle.values) }
        let idle = sessions.flatMap { session in
            session.update(.cursor) { state in ((), state.cursors.expireIdle(now: now, timeout: timeout, reason: reason)) }.1
        }
        let spent = sessions.filter { session in session.state.withLock { $0.keptForCursor && $0.cursors.holdsNone && $0.transactions.holdsNone } }
        await withTaskGroup(of: Void.self) { group in
            for giveBack in idle { group.addTask { await self.closeCursor(giveBack) } }
            for session in spent { group.addTask { await self.endSession(session.handle, reason: "its cursor closed") } }
        }
    }

    /// A call that finds every connection of its session taken, one of them by an idle cursor,
    /// closes that cursor first: a cursor is the cheapest thing to lose (its query runs again), and
    /// one a client left behind must not lock its session out of its own connections until it idles
    /// out (no tool closes a cursor).
    func yieldIdleCursor(of session: WorkSession) async {
        guard session.slots.inUse >= session.slots.limit else { return }
        let idle = session.state.withLock { state in
            let cursors = state.cursors
            return cursors.slots.keys.compactMap { cursors.open(on: $0) }.first { !$0.busy }?.pinned
        }
        guard let idle else { return }
        await closeCursor(of: session, on: idle.target)
    }

    /// The cursors open now, in every session (for tests and metrics).
    public var openCursorCount: Int { cursorRoutes.count }

    // MARK: - Internals

    static let unknownCursor = RegistryError(
        .unknownCursor,
        "unknown, expired or finished cursor: a cursor lasts until its last page, PGMCP_CURSOR_IDLE_TIMEOUT without a call, a newer cut query on the same database in its session, or its session's end. Run the query again (with sql) for a new one"
    )

    /// A page call is over: the cursor stays for the next (its idle time starts again) or, with
    /// `closing`, closes.
    private func finishCursorCall(_ pinned: PinnedConnection, of session: WorkSession, closing: String?) async {
        let now = session.clock()
        let giveBacks = session.update(.cursor) { state in ((), state.cursors.callFinished(pinned.target.name, pinned, now: now, lost: closing)) }.1
        for giveBack in giveBacks { await closeCursor(giveBack) }
    }

    /// Returns a cursor's connection (the reset rolls its transaction back) and forgets its route.
    func closeCursor(_ giveBack: WorkSession.GiveBack, before deadline: ContinuousClock.Instant? = nil) async {
        if let id = giveBack.pinned.cursor?.id { cursorRoutes.remove([id]) }
        logger.debug("closed a cursor", metadata: ["database": "\(giveBack.pinned.target.name)", "reason": "\(giveBack.reason)"])
        await release(giveBack.pinned.lease, before: deadline)
    }
}
