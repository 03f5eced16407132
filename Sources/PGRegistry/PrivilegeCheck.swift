import Logging
import PGClient
import PGConfig
import Synchronization

/// CONTRACT.md's `privilegeCheck`: a read-only entry whose role is a superuser or may bypass
/// row-level security holds more power than "read-only" suggests (a superuser can leave a READ ONLY
/// transaction's protection with functions that write). Logged once per database with `warn`;
/// every connection refused with `enforce`, and `pgmcp check` fails on it.
public enum PrivilegeCheck {
    struct Refused: LastingRefusal, CustomStringConvertible {
        let description: String
    }

    /// With `enforce`, why `database`'s role is refused, found on `connection`; `nil` when the role
    /// holds no more than reading needs, with `warn`, or for a writable (or clone) entry.
    public static func refusal(for database: DatabaseConfig, on connection: PGConnection) async throws -> String? {
        guard applies(to: database), database.privilegeCheck == .enforce, let excess = try await excess(on: connection) else { return nil }
        return refusal(database, excess)
    }

    static func hook(for database: DatabaseConfig, logger: Logger) -> (@Sendable (PGConnection) async throws -> Void)? {
        guard applies(to: database) else { return nil }
        let warned = Mutex(false)
        return { connection in
            guard let excess = try await excess(on: connection) else { return }
            if database.privilegeCheck == .enforce { throw Refused(description: refusal(database, excess)) }
            let first = warned.withLock { warned in
                defer { warned = true }
                return !warned
            }
            if first {
                logger.warning(
                    "role '\(excess.role)' \(whose(database)) is \(excess.power); use a least-privilege role (privilegeCheck is \"warn\")")
            }
        }
    }

    /// Read-only entries; a clone entry is read-write (each session writes to its own copy). And
    /// every caller's role (`roles`), writable or not: a superuser or BYPASSRLS role defeats the
    /// row-level security and grants the mapping is there for.
    static func applies(to database: DatabaseConfig) -> Bool { database.role != nil || (database.readOnly && database.isolation != .clone) }

    /// The connection's role and what it may do beyond reading, if anything.
    static func excess(on connection: PGConnection) async throws -> (role: String, power: String)? {
        let row = try await connection.query(
            "SELECT current_user::text, rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user"
        ).rows.first
        guard let row, row[1] == .bool(true) || row[2] == .bool(true) else { return nil }
        let power = row[1] == .bool(true) ? "a superuser" : "allowed to bypass row-level security (BYPASSRLS)"
        return (row[0].stringValue ?? "?", power)
    }

    /// "of read-only database 'prod'", or for a caller's role (`roles`), whose policies such a role
    /// would void, read-only or not: "that callers of database 'prod' run as".
    static func whose(_ database: DatabaseConfig) -> String {
        database.role != nil ? "that callers of database '\(database.id)' run as" : "of read-only database '\(database.id)'"
    }

    /// The sentence every refused call and `pgmcp check` show: the reason and both ways out.
    static func refusal(_ database: DatabaseConfig, _ excess: (role: String, power: String)) -> String {
        "refused by privilegeCheck \"enforce\": role '\(excess.role)' \(whose(database)) is \(excess.power), "
            + "which is more than reading needs. Connect as a role without SUPERUSER and BYPASSRLS, or set this database's privilegeCheck to \"warn\""
    }
}
