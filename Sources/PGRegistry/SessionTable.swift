/// The registry's work sessions and what holds a place against the limits: the sessions in the
/// table (MCP transport sessions and `open_session` handles) and the calls running in a session of
/// their own (MCP 2026-07-28 without a handle). `PGMCP_MAX_SESSIONS` bounds them all together;
/// `PGMCP_MAX_SESSIONS_PER_PRINCIPAL` bounds those of one owner (an OAuth subject), so that one
/// subject cannot take every place. A session without an owner (no OAuth, the operator's static
/// token, stdio) counts only against the total. A plain value, kept under the registry's lock.
struct SessionTable {
    let limit: Int
    let share: Int
    private(set) var byHandle: [SessionHandle: WorkSession] = [:]
    /// Calls running in sessions of their own, which are not in `byHandle` (kept so that shutdown
    /// can end them: their statements are cancelled, not waited out).
    private(set) var calls: [SessionHandle: WorkSession] = [:]
    /// Set at shutdown, under the same lock as its snapshot of what to end: nothing new gets in after.
    var closed = false
    /// Places held by each owner: its sessions in the table and its running calls.
    private(set) var byOwner: [String: Int] = [:]

    init(limit: Int, share: Int) {
        self.limit = limit
        self.share = share
    }

    var count: Int { byHandle.count }

    subscript(handle: SessionHandle) -> WorkSession? { byHandle[handle] }

    /// Adds `session`, unless the total or its owner's share is full.
    mutating func insert(_ session: WorkSession) throws(RegistryError) {
        try checkRoom(
            for: session.owner, "too many sessions: \(byHandle.count) of PGMCP_MAX_SESSIONS=\(limit) are open; end idle ones or raise the limit")
        byHandle[session.handle] = session
        take(session.owner)
    }

    /// Forgets the session behind `handle`, giving its place back; nil when it was not here.
    mutating func remove(_ handle: SessionHandle) -> WorkSession? {
        guard let session = byHandle.removeValue(forKey: handle) else { return nil }
        give(session.owner)
        return session
    }

    /// Admits a call in `session`, a session of its own, unless the total or its owner's share is full.
    mutating func admitCall(_ session: WorkSession) throws(RegistryError) {
        try checkRoom(for: session.owner, "too many sessions: PGMCP_MAX_SESSIONS=\(limit) are open or running a call; try again shortly")
        calls[session.handle] = session
        take(session.owner)
    }

    /// Refuses one more place when the total is full (saying `full`) or `owner`'s share is.
    private func checkRoom(for owner: String?, _ full: @autoclosure () -> String) throws(RegistryError) {
        if closed { throw RegistryError(.shuttingDown, "the server is shutting down") }
        if byHandle.count + calls.count >= limit { throw RegistryError(.tooManySessions, full()) }
        try checkShare(of: owner)
    }

    /// A call admitted by `admitCall` ended.
    mutating func finishCall(_ session: WorkSession) {
        guard calls.removeValue(forKey: session.handle) != nil else { return }
        give(session.owner)
    }

    /// The places `owner` holds now.
    func held(by owner: String) -> Int { byOwner[owner] ?? 0 }

    private func checkShare(of owner: String?) throws(RegistryError) {
        guard let owner, held(by: owner) >= share else { return }
        throw RegistryError(
            .tooManySessions,
            "too many sessions for \(owner): it holds \(share) of PGMCP_MAX_SESSIONS_PER_PRINCIPAL=\(share) (MCP sessions, open_session handles and calls running without one). End one it no longer needs (close_session for a handle, DELETE /mcp for an MCP session), or wait for idle ones to end (PGMCP_SESSION_IDLE_TIMEOUT)"
        )
    }

    private mutating func take(_ owner: String?) {
        guard let owner else { return }
        byOwner[owner, default: 0] += 1
    }

    private mutating func give(_ owner: String?) {
        guard let owner, let held = byOwner[owner] else { return }
        byOwner[owner] = held > 1 ? held - 1 : nil
    }
}
