import PGClient
import PGConfig
import PGRegistry

/// connect_database / disconnect_database: a database reached by a connection string a client
/// gave at run time, checked by `DynamicConnectionPolicy`, with a small pool private to the work
/// session. The string and its password never leave this call: errors and logs name the rule, the
/// host and the user at most.
extension DynamicConnectionPolicy {
    /// The pool of a dynamic connection: small, since one session uses it; idle connections close soon.
    static let pool = PoolSettings(min: 0, max: 2, idleTimeoutSeconds: 60, maxLifetimeSeconds: 1800)
}

extension DatabaseCalls {
    /// Checks `connectionString`, opens a pool private to `session` named `name` (default: its
    /// database name, made unique in the session with `-2`, `-3`…), read-only unless `readOnly` is
    /// false, connects once to prove it works, and makes it the session's active database.
    public func connectDatabase(
        session: WorkSession, connectionString: String, name: String?, readOnly: Bool?, resolve: HostResolver = .system
    ) async throws(DatabaseCallError) -> DatabaseTarget {
        var parameters: PGConnectionParameters
        do {
            parameters = try await DynamicConnectionPolicy(settings: settings).check(connectionString, resolve: resolve)
        } catch {
            throw DatabaseCallError("connect_database refused (\(error.rule)): \(error.message)")
        }
        let id = try Self.dynamicName(name, parameters: parameters)
        let password = parameters["password"]
        parameters["password"] = nil
        let config = DatabaseConfig(
            id: id, title: id, description: "connected by this session", connection: parameters, password: password.map(Secret.init),
            readOnly: readOnly ?? true, pool: DynamicConnectionPolicy.pool, privilegeCheck: .warn)
        let target: DatabaseTarget
        do { target = try registry.addDynamicDatabase(config, to: session, uniqueName: name == nil) } catch { throw DatabaseCallError.from(error) }
        let chosen = target.name
        do {
            try await registry.withConnection(session: session, database: chosen) { connection, _ in try await connection.command("SELECT 1") }
        } catch {
            try? await registry.removeDynamicDatabase(chosen, from: session)
            let reason = DatabaseCallError.from(error).message
            throw DatabaseCallError("could not connect to '\(chosen)' (\(config.maskedTarget)): \(reason). Nothing was kept; check the connection string and try again")
        }
        // Proven: now it becomes the session's active (and chosen) database.
        do { try await registry.selectDatabase(chosen, for: session) } catch { throw DatabaseCallError.from(error) }
        logger.info("dynamic connection opened", metadata: ["database": "\(chosen)", "target": "\(config.maskedTarget)", "readOnly": "\(config.readOnly)"])
        return target
    }

    /// Closes one of the session's dynamic connections (rolling back its open transaction, if any).
    public func disconnectDatabase(session: WorkSession, name: String) async throws(DatabaseCallError) {
        do { try await registry.removeDynamicDatabase(name, from: session) } catch { throw DatabaseCallError.from(error) }
        logger.info("dynamic connection closed", metadata: ["database": "\(name)"])
    }

    /// `name`, or the connection's database name, checked to be a plain name a person can type.
    static func dynamicName(_ name: String?, parameters: PGConnectionParameters) throws(DatabaseCallError) -> String {
        let chosen = name ?? parameters.database ?? parameters.user ?? "dynamic"
        let allowed = chosen.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
        guard (1...63).contains(chosen.count), allowed else {
            throw DatabaseCallError(
                "'name' must be 1 to 63 letters, digits, '-', '_' or '.'\(name == nil ? " (the default is the connection's database name; pass 'name')" : "")")
        }
        return chosen
    }
}
