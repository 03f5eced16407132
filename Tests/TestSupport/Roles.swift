import Foundation
import PGClient

extension TestDatabase {
    /// Runs `body` with a new login role whose password is `password` (any text: it is quoted as a
    /// literal), then drops the role whatever `body` did. The role is made and dropped with
    /// `execute` (default: a connection to the test cluster), after `grants` (each with `%@` for the
    /// role's name) are applied.
    public static func withRole<T>(
        password: String, named name: String? = nil, grants: [String] = [],
        execute: @escaping (String) async throws -> Void = TestDatabase.command,
        _ body: (String) async throws -> T
    ) async throws -> T {
        let role = name ?? "hostile_\(UInt32.random(in: 0...UInt32.max))"
        let literal = password.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''")
        try await execute("CREATE ROLE \(role) LOGIN PASSWORD '\(literal)'")
        do {
            for grant in grants { try await execute(grant.replacingOccurrences(of: "%@", with: role)) }
            let result = try await body(role)
            await drop(role, granted: !grants.isEmpty, execute)
            return result
        } catch {
            await drop(role, granted: !grants.isEmpty, execute)
            throw error
        }
    }

    /// Runs `sql` on a connection of its own to the test cluster.
    public static func command(_ sql: String) async throws {
        try await withConnection { connection in _ = try await connection.command(sql) }
    }

    private static func drop(_ role: String, granted: Bool, _ execute: (String) async throws -> Void) async {
        if granted { try? await execute("DROP OWNED BY \(role)") }
        try? await execute("DROP ROLE IF EXISTS \(role)")
    }
}
