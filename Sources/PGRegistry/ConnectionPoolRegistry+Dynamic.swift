import PGConfig

/// Dynamic databases (`connect_database`): each private to its session, with a pool of its own.
extension ConnectionPoolRegistry {
    /// Adds a dynamic database, private to `session`, with a pool of its own. It does not become
    /// active: the caller selects it once it has proven it works, so that a connection that fails
    /// leaves the session's choice as it was.
    ///
    /// A name is taken in a session when a configured database its caller may see, or one of its
    /// dynamic connections, has it. A configured database hidden from the caller (`allowedPrincipals`)
    /// does not count: to that caller the name was never configured, and saying otherwise would
    /// tell it the name exists. Its dynamic connection of that name is what the name means in its
    /// session, which could not reach the hidden database by it anyway.
    ///
    /// - Parameter uniqueName: for a name the caller did not choose (the connection's database
    ///   name): when taken, the first free of `name-2`, `name-3`… is used instead of refusing it.
    public func addDynamicDatabase(_ config: DatabaseConfig, to session: WorkSession, uniqueName: Bool = false) throws(RegistryError) -> DatabaseTarget {
        var config = config
        let limit = configuration.server.sessionMaxDynamic
        try session.state.withLock { state throws(RegistryError) in
            guard state.phase == .active else { throw RegistryError(.sessionEnded, "the session has ended") }
            guard state.dynamic.count < limit else {
                throw RegistryError(
                    .invalidArgument,
                    "this session already has \(state.dynamic.count) of \(limit) dynamic connections (PGMCP_SESSION_MAX_DYNAMIC); disconnect_database one first")
            }
            let dynamic = state.dynamic
            let configured = { (name: String) in self.pools[name].flatMap(session.ownedBy.visibility.asSeen) != nil }
            if uniqueName {
                let chosen = Self.firstFree(config.id) { dynamic[$0] != nil || configured($0) }
                if config.title == config.id { config.title = chosen }
                config.id = chosen
            } else if configured(config.id) {
                throw RegistryError(.invalidArgument, "'\(config.id)' is the name of a configured database; pass another 'name'")
            } else if dynamic[config.id] != nil {
                throw RegistryError(.invalidArgument, "this session already has a connection named '\(config.id)'; pass another 'name' or disconnect_database it first")
            }
        }
        let pool = Self.makePool(
            for: config, server: configuration.server, applicationName: applicationName, logger: logger, sharedByName: false, in: poolGroup)
        let target = DatabaseTarget(config: config, kind: .dynamic, pool: pool)
        guard session.addDynamic(target, limit: limit) else {
            pool.beginShutdown()
            throw RegistryError(.invalidArgument, "another call of this session added a dynamic connection meanwhile; try again")
        }
        return target
    }

    /// `base`, or when `taken` says so, the first of `base-2`, `base-3`… that is not, cut to fit
    /// the 63 characters a name may have.
    static func firstFree(_ base: String, taken: (String) -> Bool) -> String {
        guard taken(base) else { return base }
        var number = 2
        while true {
            let suffix = "-\(number)"
            let candidate = String(base.prefix(63 - suffix.count)) + suffix
            if !taken(candidate) { return candidate }
            number += 1
        }
    }

    /// Closes one of the session's dynamic databases at once: its running statements are cancelled
    /// (as a session's end cancels them), its open transaction there is rolled back, and its pool
    /// closes; the session falls back to the default if it was active. Bounded like a session's end:
    /// a cancelled call gives its connection up within the grace period.
    public func removeDynamicDatabase(_ name: String, from session: WorkSession) async throws(RegistryError) {
        let fallback = session.ownedBy.visibility.startingDatabase(in: configuration)
        guard let (removed, transaction) = session.removeDynamic(name, fallback: fallback) else {
            throw RegistryError(.unknownDatabase, "this session has no dynamic connection named '\(name)'")
        }
        let cursor = session.removeCursor(name)
        // First nothing new starts: no lease (a call that resolved it before it was removed fails at
        // its lease), no call in its transaction (it left the session's table: one that has not
        // started fails). Then the calls running on it are cancelled and awaited, so that neither its
        // pool nor the reset of the transaction's connection runs under them.
        removed.pool.beginShutdown()
        await session.calls.cancelAndDrain(tag: removed.pool.serial)
        if let transaction { await rollBack((transaction, "disconnect_database")) }
        if let cursor { await closeCursor((cursor, "disconnect_database")) }
        await removed.pool.shutdown()
    }
}
