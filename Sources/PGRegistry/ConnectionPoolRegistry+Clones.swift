import IOReactor
import PGClient
import PGConfig

/// `"isolation": "clone"`: every work session that uses such an entry gets its own copy of the
/// entry's database (`CREATE DATABASE … TEMPLATE …`, made on first use), read-write, dropped when
/// the session ends. A fresh database per test. The role needs CREATEDB, and the template must
/// have no other connections while it is copied, so the entry's own pool is never used.
extension ConnectionPoolRegistry {
    /// Where `session` works on `target`: its own copy for a configured clone entry (made on first
    /// use), the target itself otherwise.
    func sessionTarget(_ target: DatabaseTarget, for session: WorkSession) async throws -> DatabaseTarget {
        guard target.kind == .configured && target.config.isolation == .clone else { return target }
        return try await cloneTarget(of: target, for: session)
    }

    /// The session's copy of `base`, created on first use (once, however many calls race for it).
    func cloneTarget(of base: DatabaseTarget, for session: WorkSession) async throws -> DatabaseTarget {
        let clone = try session.state.withLock { state throws(RegistryError) -> WorkSession.Clone in
            guard state.phase == .active else { throw RegistryError(.sessionEnded, "the session has ended") }
            if let existing = state.clones[base.name] { return existing }
            let making = WorkSession.Clone.making(Task { try await self.createClone(of: base) })
            state.clones[base.name] = making
            return making
        }
        let creation: Task<DatabaseTarget, any Error>
        switch clone {
        case .made(let target): return target
        case .making(let task): creation = task
        }
        do {
            let target = try await creation.value
            // Made: later calls skip the task, and housekeeping sees its pool.
            session.state.withLock { state in
                if state.phase == .active { state.clones[base.name] = .made(target) }
            }
            return target
        } catch {
            // A failed copy is not remembered: the next call tries again.
            session.state.withLock { _ = $0.clones.removeValue(forKey: base.name) }
            throw error
        }
    }

    /// The prefix of every copy's name made of `entry`.
    static func clonePrefix(of entry: DatabaseConfig) -> String { "pgmcp_clone_\(entry.id.replacingOccurrences(of: "-", with: "_"))_" }

    private func createClone(of base: DatabaseTarget) async throws -> DatabaseTarget {
        // With `roles`, the entry's own user makes and drops the copy (it needs CREATEDB, a caller's
        // role does not), and the caller's role is who uses it.
        let maker = base.config.role == nil ? base.config : pools[base.name]?.config ?? base.config
        let template = maker.connection.database ?? maker.connection.user ?? base.name
        let suffix = String(SessionHandle.random().rawValue.lowercased().filter { $0.isLetter || $0.isNumber }.prefix(10))
        let name = Self.clonePrefix(of: base.config) + suffix
        // As long as the entry's statement timeout allows (copying a large template takes time), or
        // until cancelled (the session ending) plus the grace period.
        let owner = await offPool { CloneOwner.current }
        do {
            try await withMaintenanceConnection(maker, limit: callLimit(base)) { connection in
                try await connection.command("CREATE DATABASE \(SQLQuoting.identifier(name)) TEMPLATE \(SQLQuoting.identifier(template))")
                // Who made it: a later start drops it if this process died without dropping it.
                try await connection.command("COMMENT ON DATABASE \(SQLQuoting.identifier(name)) IS \(SQLQuoting.literal(owner.comment))")
            }
        } catch {
            // Made but unmarked (the comment failed, or the answer to CREATE was lost to a deadline or
            // a cancel): no later start would recognise it, so it goes now, in a task of its own
            // that the cancellation of this one does not reach.
            Task { await self.dropCopy(name, of: maker) }
            throw error
        }
        var config = base.config
        config.connection["dbname"] = name
        config.readOnly = false
        config.isolation = .shared
        let pool = Self.makePool(
            for: config, server: configuration.server, applicationName: applicationName, logger: logger, sharedByName: false, in: poolGroup)
        logger.info("created a session copy", metadata: ["database": "\(base.name)", "copy": "\(name)"])
        return DatabaseTarget(config: config, kind: .configured, pool: pool, cloneOf: maker)
    }

    /// Closes the copy's pool and drops it.
    func dropClone(_ clone: DatabaseTarget) async {
        await clone.pool.shutdown()
        guard let template = clone.cloneOf, let name = clone.config.connection.database else { return }
        await dropCopy(name, of: template)
    }

    /// Drops the copy `name` of entry `template` if it exists, bounded like a call on the entry.
    func dropCopy(_ name: String, of template: DatabaseConfig) async {
        do {
            // Never unbounded: a session's end (and shutdown) waits for it.
            let limit = template.statementTimeoutMs > 0 ? .milliseconds(template.statementTimeoutMs) + grace : .seconds(60) + grace
            try await withMaintenanceConnection(template, limit: limit) { connection in
                try await connection.command("DROP DATABASE IF EXISTS \(SQLQuoting.identifier(name)) WITH (FORCE)")
            }
        } catch {
            logger.warning("could not drop a session copy", metadata: ["copy": "\(name)", "reason": "\(error)"])
        }
    }

    /// Drops the copies of this configuration's clone entries that a server which died left
    /// behind: named as this code names them, commented by a process of this host that no longer
    /// runs (`CloneOwner`). Copies of live servers, of other hosts, or without our comment stay.
    public func dropLeftoverClones() async {
        for entry in configuration.databases where entry.isolation == .clone {
            let prefix = Self.clonePrefix(of: entry)
            do {
                var leftovers: [String] = []
                try await withMaintenanceConnection(entry, limit: grace + .seconds(30)) { connection in
                    let rows = try await connection.query(
                        "SELECT datname::text, pg_catalog.shobj_description(oid, 'pg_database') FROM pg_catalog.pg_database WHERE pg_catalog.starts_with(datname, $1)",
                        parameters: [prefix]
                    ).rows
                    let candidates = rows.compactMap { row -> (String, CloneOwner)? in
                        guard let name = row[0].stringValue, let owner = row[1].stringValue.flatMap(CloneOwner.init(comment:)) else { return nil }
                        return (name, owner)
                    }
                    leftovers = await offPool { candidates.filter { $0.1.isGone() }.map(\.0) }
                    // Without FORCE: a copy someone is connected to (its maker misjudged) stays.
                    var dropped: [String] = []
                    for name in leftovers {
                        do {
                            try await connection.command("DROP DATABASE IF EXISTS \(SQLQuoting.identifier(name))")
                            dropped.append(name)
                        } catch let error as PGError where error.kind == .statement {
                            logger.warning("kept a session copy left behind: it is in use", metadata: ["copy": "\(name)", "reason": "\(error.message)"])
                        }
                    }
                    leftovers = dropped
                }
                for name in leftovers {
                    logger.info("dropped a session copy a stopped server left behind", metadata: ["database": "\(entry.id)", "copy": "\(name)"])
                }
            } catch {
                logger.warning("could not look for session copies left behind", metadata: ["database": "\(entry.id)", "reason": "\(error)"])
            }
        }
    }

    /// A connection to the server of `config`, on a database other than the template
    /// (`postgres`, else `template1`), for CREATE and DROP DATABASE.
    private func withMaintenanceConnection(
        _ config: DatabaseConfig, limit: Duration?, _ body: (PGConnection) async throws -> Void
    ) async throws {
        var lastError: (any Error)?
        for database in ["postgres", "template1"] {
            var parameters = config.connectionParameters
            parameters["dbname"] = database
            let connection: PGConnection
            do {
                connection = try await PGConnection.connect(
                    parameters, applicationName: "\(applicationName)/\(config.id)/clone", timeout: configuration.server.connectTimeout)
            } catch {
                lastError = error
                continue
            }
            do {
                // Bounded like a call: a frozen server must not hold a session's start or end.
                try await ConnectionWatchdog.shared.run(
                    connection, limit: limit, cancelGrace: grace,
                    expired: {
                        RegistryError(
                            .deadlineExceeded,
                            "the server of '\(config.id)' did not answer \(limit.map { "within \($0.readable)" } ?? "after the copy was cancelled") while copying or dropping a session copy; its connection was abandoned"
                        )
                    }
                ) { try await body(connection) }
                await connection.close()
                return
            } catch {
                await connection.close()
                throw error
            }
        }
        throw lastError ?? RegistryError(.databaseUnavailable, "no maintenance database to copy '\(config.id)' from")
    }
}
