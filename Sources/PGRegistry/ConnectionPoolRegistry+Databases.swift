import PGConfig

/// The databases a session can use, as its caller sees them (`DatabaseVisibility`), and the one a
/// call runs on.
extension ConnectionPoolRegistry {
    /// Names the session can use: the configured databases its caller may see
    /// (`allowedPrincipals`), then its own dynamic connections.
    public func visibleDatabases(for session: WorkSession) -> [DatabaseTarget] {
        configuration.databases.compactMap { pools[$0.id].flatMap(session.ownedBy.visibility.asSeen) }
            + session.dynamicDatabases.sorted { $0.name < $1.name }
    }

    /// The database `name` (default: the session's active one) as this session sees it. One its
    /// caller may not see is unknown to it; one its caller may not write is read-only to it.
    public func resolve(_ name: String?, for session: WorkSession) throws(RegistryError) -> DatabaseTarget {
        let name = name ?? session.activeDatabase
        if let dynamic = session.state.withLock({ $0.dynamic[name] }) { return dynamic }
        if let configured = pools[name], let seen = session.ownedBy.visibility.asSeen(configured) { return seen }
        throw unknownDatabase(name, visible: visibleDatabases(for: session).map(\.name))
    }

    /// What a call will do on its database: reads run anywhere; writes only where allowed.
    public enum Access: Sendable {
        case read, write
        /// Runs read-write where the database allows it, then rolls back (`explain` with analyze):
        /// held to the same choice as a write, since sequences and other side effects outlive the
        /// rollback; read-only databases run it read-only instead of refusing it.
        case writeRolledBack
    }

    /// The database a call runs on, resolved once: the check, the lease and the result all use
    /// this one resolution, so a concurrent `select_database` cannot slip a write past the check.
    ///
    /// A write needs a writable database that the caller named (`name`) or chose in this session
    /// (`select_database`, `open_session`'s database, a dynamic connection). The default database
    /// does not count as chosen when there is more than one: clients that open a new MCP session per
    /// call lose every selection, and their writes must not land on the default by accident.
    public func target(_ name: String?, for session: WorkSession, access: Access) throws(RegistryError) -> DatabaseTarget {
        let (active, chosen) = session.state.withLock { ($0.activeDatabase, $0.databaseChosen) }
        let target = try resolve(name ?? active, for: session)
        guard access == .write || (access == .writeRolledBack && !target.config.readOnly) else { return target }
        if name == nil, !chosen, case let visible = visibleDatabases(for: session), visible.count > 1 {
            let writable = visible.filter { !$0.config.readOnly }.map { "'\($0.name)'" }
            throw RegistryError(
                .databaseNotChosen,
                "no database was named or selected in this session, so the write was not sent to the default '\(target.name)'. Pass 'database' (writable here: \(writable.isEmpty ? "none" : writable.joined(separator: ", "))), or call select_database first; a selection lasts for this MCP session only"
            )
        }
        if access == .write, target.config.readOnly {
            throw RegistryError(
                .readOnly,
                "database '\(target.name)' is read-only: writes are refused. Use 'query' to read, or configure the database with \"readOnly\": false to allow writes")
        }
        return target
    }

    /// Makes `name` the session's active database, unless it is refused for good (see
    /// `refuseIfRefusedForGood`): one that is down or unhealthy may come back, and is selected.
    @discardableResult
    public func selectDatabase(_ name: String, for session: WorkSession) async throws(RegistryError) -> DatabaseTarget {
        let target = try resolve(name, for: session)
        try await refuseIfRefusedForGood(
            target, "it cannot be selected: the session stays on '\(session.activeDatabase)'. Select another database (list_databases)")
        session.select(name)
        return target
    }

    var configuredNames: [String] { configuration.databases.map(\.id) }

    func unknownDatabase(_ name: String, visible: [String]) -> RegistryError {
        RegistryError(.unknownDatabase, "unknown database '\(name)'; this session can use: \(visible.map { "'\($0)'" }.joined(separator: ", "))")
    }

}
