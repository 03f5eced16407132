import Foundation
import TestSupport
import Testing

extension ProcessTests {
    /// `pgmcp check` logs in as every role an entry maps callers to and applies privilegeCheck to
    /// each, writable entry or not (a BYPASSRLS role would void the row-level security the mapping is
    /// for); `pgmcp databases` shows the mapping, never a password.
    @Test func checkLogsInAsEveryMappedRoleAndDatabasesShowsTheMapping() async throws {
        let password = "Role-Secret-\(UInt32.random(in: 0...UInt32.max))"
        try await TestDatabase.withRole(password: password, named: "pgmcp_check_ok_\(UInt32.random(in: 0...UInt32.max))") { good in
            try await TestDatabase.withRole(
                password: password, named: "pgmcp_check_rls_\(UInt32.random(in: 0...UInt32.max))", grants: ["ALTER ROLE %@ BYPASSRLS"]
            ) { bypass in
                let databases = """
                    [{"id": "notes", "host": "\(try TestDatabase.host)", "port": \(try TestDatabase.port), "database": "postgres", "user": "\(try TestDatabase.user)", "passwordEnv": "TEST_DB_PASSWORD",
                      "readOnly": false, "privilegeCheck": "enforce", "pool": {"max": 6},
                      "roles": [{"principal": "sub:alice", "user": "\(good)", "passwordEnv": "ROLE_PW"},
                                {"principal": "group:analysts", "user": "\(bypass)", "password": "\(password)", "maxConnections": 2}]}]
                    """
                let environment = try environment(extra: ["ROLE_PW": password], databases: databases)
                let check = try ChildProcess([pgmcpBinary, "check"], environment: environment)
                let checked = try await readAll(check)
                #expect(try await check.wait() == 1, "\(checked)")
                let lines = checked.split(separator: "\n").map(String.init)
                #expect(lines.contains { $0.hasPrefix("notes ") && !$0.hasPrefix("notes as") && $0.contains(" ok ") }, "\(checked)")
                #expect(lines.contains { $0.hasPrefix("notes as \(good) ") && $0.contains("postgresql://\(good):•••@") && $0.contains(" ok ") }, "\(checked)")
                #expect(
                    lines.contains {
                        $0.hasPrefix("notes as \(bypass) ") && $0.contains("refused by privilegeCheck \"enforce\": role '\(bypass)'")
                            && $0.contains("that callers of database 'notes' run as is allowed to bypass row-level security")
                    }, "\(checked)")
                #expect(checked.contains("1 of 3 databases unreachable or refused"))
                #expect(!checked.contains(password))

                let listing = try ChildProcess([pgmcpBinary, "databases"], environment: environment)
                let listed = try await readAll(listing)
                #expect(try await listing.wait() == 0)
                #expect(listed.contains("ROLES"))
                #expect(listed.contains("sub:alice → \(good) (max 4), group:analysts → \(bypass) (max 2)"), "\(listed)")
                #expect(!listed.contains(password))
            }
        }
    }
}
