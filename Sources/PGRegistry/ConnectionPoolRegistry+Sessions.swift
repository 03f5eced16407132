import Logging
import PGConfig
import Synchronization

/// Work sessions: made (within `PGMCP_MAX_SESSIONS` and each owner's share, see `SessionTable`),
/// found by handle for their owner, ended once, reaped when idle.
extension ConnectionPoolRegistry {
    /// Creates a work session on `database` (default: the configured default). One that does not
    /// `expireWhenIdle` lives until it is ended (the stdio session ends with its stream).
    public func createSession(
        database: String? = nil, label: String? = nil, ownedBy owner: SessionOwner = .anyone, expiresWhenIdle: Bool = true
    ) throws(RegistryError) -> WorkSession {
        let name = database ?? owner.visibility.startingDatabase(in: configuration)
        let session = WorkSession(
            handle: .random(replica: configuration.server.replicaID), label: label, ownedBy: owner, database: name,
            databaseChosen: database != nil,
            expiresWhenIdle: expiresWhenIdle, connectionLimit: configuration.server.sessionMaxConnections, clock: clock)
        if database != nil {
            guard let pool = pools[name], owner.visibility.asSeen(pool) != nil else {
                throw unknownDatabase(name, visible: visibleDatabases(for: session).map(\.name))
            }
        }
        let count = try sessions.withLock { table throws(RegistryError) -> Int in
            try table.insert(session)
            return table.count
        }
        metrics.sessionCreated(count: count)
        return session
    }

    /// `createSession` for `open_session`: a `database` refused for good (see
    /// `refuseIfRefusedForGood`) is refused here too, rather than made the new session's start.
    public func openSession(database: String?, label: String?, ownedBy owner: SessionOwner) async throws(RegistryError) -> WorkSession {
        if let database, let target = pools[database].flatMap(owner.visibility.asSeen) {
            try await refuseIfRefusedForGood(target, "no session was opened on it. Open it on another database (list_databases)")
        }
        return try createSession(database: database, label: label, ownedBy: owner)
    }

    /// Runs `body` in a work session of its own that lives only as long as the call: for a request
    /// of a protocol that keeps no state between calls (MCP 2026-07-28 without a handle). It is not
    /// listed among the sessions (no handle reaches it, no session metrics) and is ended afterwards
    /// with the same cleanup as any session (a clone entry's copy is dropped), unless the call left
    /// a query cursor open in it (`keptForCursor`).
    ///
    /// - Parameter holdsPlace: whether the call holds a place against `PGMCP_MAX_SESSIONS` and its
    ///   owner's share while it runs. False only for a call that never uses the session for its
    ///   work (it names a handle, or only needs to know its caller): such calls let a client reach
    ///   its own handles, and end them, while the table is full.
    public func withCallSession<R: Sendable>(
        label: String?, ownedBy owner: SessionOwner, holdsPlace: Bool = true, _ body: (WorkSession) async throws -> R
    ) async throws -> R {
        // Made like any session (a handle a router can route, an idle timeout): one kept for its
        // cursor lives on as one.
        let session = WorkSession(
            handle: .random(replica: configuration.server.replicaID), label: label, ownedBy: owner,
            database: owner.visibility.startingDatabase(in: configuration), connectionLimit: configuration.server.sessionMaxConnections, clock: clock)
        // A flood of calls alone is bounded too: each holds a place while it runs (and shutdown ends it).
        if holdsPlace { try sessions.withLock { table throws(RegistryError) in try table.admitCall(session) } }
        defer { if holdsPlace { sessions.withLock { $0.finishCall(session) } } }
        do {
            let result = try await body(session)
            if keptForCursor(session) { return result }
            await session.end(registry: self, reason: "call ended")
            return result
        } catch {
            await session.end(registry: self, reason: "call ended")
            throw error
        }
    }

    /// Keeps a single call's session that holds a query cursor after its call, so that the cursor's
    /// next page (a later call passing `cursor` alone) finds it: the session joins the table (the
    /// call's place becomes its place) and ends once it holds no cursor (`reapIdleCursors`), or
    /// by the idle timeout. False when it holds none, or the table refuses it (shutdown).
    private func keptForCursor(_ session: WorkSession) -> Bool {
        let holds = session.state.withLock { state in
            state.keptForCursor = !state.cursors.holdsNone
            return state.keptForCursor
        }
        guard holds else { return false }
        let count = sessions.withLock { table -> Int? in
            table.finishCall(session)
            do { try table.insert(session) } catch { return nil }
            return table.count
        }
        guard let count else { return false }
        metrics.sessionCreated(count: count)
        return true
    }

    /// The live session behind `handle`, its last activity refreshed.
    public func session(_ handle: SessionHandle) throws(RegistryError) -> WorkSession {
        guard let session = sessions.withLock({ $0[handle] }), session.isActive else {
            throw RegistryError(.unknownSession, "unknown or ended session")
        }
        session.touch()
        return session
    }

    /// The live session behind `handle` if it belongs to `owner` (`SessionOwner`), its last
    /// activity refreshed. To any other caller it does not exist, and its idle timer is left alone.
    public func session(_ handle: SessionHandle, ownedBy owner: SessionOwner) throws(RegistryError) -> WorkSession {
        guard let session = sessions.withLock({ $0[handle] }), session.isActive, session.belongs(to: owner) else {
            throw RegistryError(.unknownSession, "unknown or expired session handle; open_session mints a new one")
        }
        session.touch()
        return session
    }

    public var sessionCount: Int { sessions.withLock { $0.count } }

    /// Ends a session: its waiting calls fail, its running statements are cancelled in PostgreSQL,
    /// its connections are rolled back, reset and returned, its dynamic pools close, and it is
    /// forgotten (its place given back). Runs once; concurrent and later calls wait for (or skip)
    /// that one run.
    public func endSession(_ handle: SessionHandle, reason: String = "closed") async {
        guard let session = sessions.withLock({ $0[handle] }) else { return }
        await session.end(registry: self, reason: reason)
        // Concurrent callers all get here; only the one that removes the session reports its end.
        let count = sessions.withLock { table -> Int? in
            guard table.remove(handle) != nil else { return nil }
            return table.count
        }
        guard let count else { return }
        metrics.sessionEnded(count: count, reason: reason)
        endedSinceTrim.withLock { $0 += 1 }
        for observer in endObservers.withLock({ $0 }) { observer(handle) }
    }

    /// Calls `observer` after every session end (DELETE, close_session, idle timeout, shutdown), so
    /// a transport can forget what it kept for the session.
    public func onSessionEnded(_ observer: @escaping @Sendable (SessionHandle) -> Void) {
        endObservers.withLock { $0.append(observer) }
    }

    /// Ends every session idle longer than `PGMCP_SESSION_IDLE_TIMEOUT` (at the injected clock's now).
    public func reapIdleSessions() async {
        let candidates = sessions.withLock { $0.byHandle.values.map(\.reaperCandidate) }
        let expired = SessionReaper.expired(candidates, now: clock(), idleTimeout: configuration.server.sessionIdleTimeout)
        // Concurrently: a session whose backend does not answer must not hold up the others (nor the
        // pool ticks of the loop that called this) for its grace period each.
        await withTaskGroup(of: Void.self) { group in
            for handle in expired {
                var metadata: Logger.Metadata = ["session": "\(handle.rawValue.prefix(8))…"]
                if let label = sessions.withLock({ $0[handle]?.label }) { metadata["label"] = "\(label)" }
                logger.info("ending idle session", metadata: metadata)
                group.addTask { await self.endSession(handle, reason: "idle timeout") }
            }
        }
    }
}
