import Foundation
import PGClient
import PGConfig
import PGMCPJSON

/// The throwaway PostgreSQL that `scripts/test` (or `scripts/dev-postgres`) started, as the
/// `PGMCP_TEST_*` variables describe it. Tests that need it fail with a clear message without it.
public enum TestDatabase {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "PGMCP_TEST_* is not set: run the tests through scripts/test, or eval \"$(scripts/dev-postgres start)\""
        }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing() }
        return value
    }

    public static var host: String { get throws { try variable("PGMCP_TEST_HOST") } }
    public static var port: Int { get throws { Int(try variable("PGMCP_TEST_PORT"))! } }
    public static var user: String { get throws { try variable("PGMCP_TEST_USER") } }
    public static var password: String { get throws { try variable("PGMCP_TEST_PASSWORD") } }
    public static var database: String { get throws { try variable("PGMCP_TEST_DATABASE") } }

    /// A libpq URI for the test cluster, for `database` (default: the maintenance database).
    public static func url(database: String? = nil, password: String? = nil) throws -> String {
        let pw = try password ?? self.password
        return "postgresql://\(try user):\(pw)@\(try host):\(try port)/\(try database ?? self.database)"
    }

    public static func parameters(database: String? = nil, password: String? = nil) throws -> PGConnectionParameters {
        try PGConnectionParameters(conninfo: url(database: database, password: password))
    }

    public static func connect(database: String? = nil, applicationName: String = "pgmcp-tests") async throws -> PGConnection {
        try await PGConnection.connect(parameters(database: database), applicationName: applicationName)
    }

    /// Runs `body` with a fresh connection and closes it afterwards, whatever happens.
    @discardableResult
    public static func withConnection<R>(
        database: String? = nil, applicationName: String = "pgmcp-tests", _ body: (PGConnection) async throws -> R
    ) async throws -> R {
        try await PGConnection.with(parameters(database: database), applicationName: applicationName, body)
    }

    /// Runs `body` with a connection to a database of its own (named `<prefix>_<random>`, passed
    /// too), and drops the database afterwards, whatever happens.
    @discardableResult
    public static func withScratchDatabase<R>(prefix: String = "t", _ body: (PGConnection, String) async throws -> R) async throws -> R {
        let name = try await createScratchDatabase(prefix: prefix)
        do {
            let result = try await withConnection(database: name) { try await body($0, name) }
            try await dropDatabase(name)
            return result
        } catch {
            try? await dropDatabase(name)
            throw error
        }
    }

    /// Creates a database with a unique name for one test and returns its name.
    public static func createScratchDatabase(prefix: String = "t") async throws -> String {
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        try await withConnection { try await $0.command("CREATE DATABASE \(name)") }
        return name
    }

    public static func dropDatabase(_ name: String) async throws {
        try await withConnection { try await $0.command("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// Number of backends whose `application_name` is `name`.
    public static func backendCount(applicationName name: String) async throws -> Int {
        try await withConnection { connection in
            let result = try await connection.query(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", parameters: [name])
            return Int(result.rows[0][0].intValue ?? -1)
        }
    }
}

extension TestDatabase {
    /// A database entry pointing at the test cluster, for registry and server tests.
    public static func config(
        id: String, database: String? = nil, readOnly: Bool = true, pool: PoolSettings = PoolSettings(),
        privilegeCheck: DatabaseConfig.PrivilegeCheck = .warn
    ) throws -> DatabaseConfig {
        var connection = try parameters(database: database)
        let password = connection["password"]
        connection["password"] = nil
        return DatabaseConfig(
            id: id, connection: connection, password: password.map(Secret.init), readOnly: readOnly, pool: pool,
            privilegeCheck: privilegeCheck)
    }

    /// Runs `sql` on a fresh maintenance connection and returns the rows.
    public static func rows(_ sql: String, _ parameters: [String?] = []) async throws -> [[JSONValue]] {
        try await withConnection { try await $0.query(sql, parameters: parameters).rows }
    }

    /// Backends whose application_name starts with `prefix`.
    public static func backendCount(applicationNamePrefix prefix: String) async throws -> Int {
        let rows = try await rows("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE $1 || '%'", [prefix])
        return Int(rows[0][0].intValue ?? -1)
    }

    /// A short unique name for one test's pools (`application_name` prefix).
    public static func uniqueName(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }
}

extension TestDatabase {
    /// Whether `sql` (a statement that takes a row lock) gets its lock on `database` within
    /// `lockTimeoutMs`: false while another connection holds it.
    public static func canLock(database: String, _ sql: String, lockTimeoutMs: Int) async throws -> Bool {
        try await withConnection(database: database) { try await $0.canLock(sql, lockTimeoutMs: lockTimeoutMs) }
    }
}

extension PGConnection {
    /// Connects with `parameters`, runs `body`, and closes the connection afterwards, whatever happens.
    public static func with<R>(
        _ parameters: PGConnectionParameters, applicationName: String, _ body: (PGConnection) async throws -> R
    ) async throws -> R {
        let connection = try await connect(parameters, applicationName: applicationName)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Whether `sql` (a statement that takes a row lock) gets its lock within `lockTimeoutMs`: false
    /// while another connection holds it.
    public func canLock(_ sql: String, lockTimeoutMs: Int) async throws -> Bool {
        try await command("SET lock_timeout = \(lockTimeoutMs)")
        do {
            try await command(sql)
            return true
        } catch let error as PGError where error.sqlState == "55P03" {
            return false
        }
    }
}
