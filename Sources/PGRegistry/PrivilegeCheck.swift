import Logging
import PGClient
import PGConfig
import Synchronization

/// CONTRACT.md's `privilegeCheck`: a read-only entry whose role is a superuser or may bypass
/// row-level security holds more power than "read-only" suggests (a superuser can leave a READ ONLY
/// transaction's protection with functions that write). Logged once per database with `warn`;
/// every connection refused with `enforce`.
enum PrivilegeCheck {
    struct Refused: Error, CustomStringConvertible {
        let description: String
    }

    static func hook(for database: DatabaseConfig, logger: Logger) -> (@Sendable (PGConnection) async throws -> Void)? {
        guard database.readOnly else { return nil }
        let warned = Mutex(false)
        return { connection in
            let row = try await connection.query(
                "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"
            ).rows.first
            guard let row, row[1] == .bool(true) || row[2] == .bool(true) else { return }
            let role = row[0].stringValue ?? "?"
            let power = row[1] == .bool(true) ? "a superuser" : "allowed to bypass row-level security (BYPASSRLS)"
            let message = "role '\(role)' of read-only database '\(database.id)' is \(power); use a least-privilege role"
            if database.privilegeCheck == .enforce {
                throw Refused(description: message + " (privilegeCheck is \"enforce\")")
            }
            let first = warned.withLock { warned in
                defer { warned = true }
                return !warned
            }
            if first { logger.warning("\(message) (privilegeCheck is \"warn\")") }
        }
    }
}
