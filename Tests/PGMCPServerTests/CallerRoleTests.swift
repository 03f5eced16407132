import MCPTestSupport
import PGConfig
import PGMCPJSON
import PGRegistry
import TestSupport
import Testing

/// A database entry's `roles` (issue 21): each caller runs as a PostgreSQL role of its own, so that
/// row-level security, grants and `current_user` are the caller's, and nothing a caller sends moves
/// it to another caller's role. Real PostgreSQL, real HTTP, tokens from the test's own issuer.
@Suite("Callers as their own roles", .serialized) struct CallerRoleTests {
    static let password = "role pw 'quoted'"

    /// Two login roles (NOINHERIT, members of nothing), a scratch database with a `notes` table under
    /// row-level security (each role sees and writes only rows it owns: 2 of alice's, 3 of bob's), and
    /// `body` with both role names and the database's name. Everything is dropped afterwards, also
    /// when `body` fails: the database first, then the roles.
    static func withNotes(_ body: (_ alice: String, _ bob: String, _ database: String) async throws -> Void) async throws {
        let tag = UInt32.random(in: 0...UInt32.max)
        try await TestDatabase.withRole(password: password, named: "pgmcp_alice_\(tag)", grants: ["ALTER ROLE %@ NOINHERIT"]) { alice in
            try await TestDatabase.withRole(password: password, named: "pgmcp_bob_\(tag)", grants: ["ALTER ROLE %@ NOINHERIT"]) { bob in
                let database = try await TestDatabase.createScratchDatabase(prefix: "roles")
                do {
                    try await TestDatabase.withConnection(database: database) { connection in
                        for statement in [
                            "CREATE TABLE notes (id serial PRIMARY KEY, owner name NOT NULL DEFAULT current_user, body text)",
                            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY",
                            "CREATE POLICY own_notes ON notes USING (owner = current_user) WITH CHECK (owner = current_user)",
                            "GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO \(alice), \(bob)",
                            "GRANT USAGE ON SEQUENCE notes_id_seq TO \(alice), \(bob)",
                            "GRANT CREATE ON SCHEMA public TO \(alice), \(bob)",
                            "INSERT INTO notes (owner, body) VALUES ('\(alice)', 'a1'), ('\(alice)', 'a2'), ('\(bob)', 'b1'), ('\(bob)', 'b2'), ('\(bob)', 'b3')",
                        ] {
                            try await connection.command(statement)
                        }
                    }
                    try await body(alice, bob, database)
                    try await TestDatabase.dropDatabase(database)
                } catch {
                    try? await TestDatabase.dropDatabase(database)
                    throw error
                }
            }
        }
    }

    /// The `notes` entry (writable), with alice's and bob's subjects mapped to their roles.
    static func entry(_ database: String, alice: String, bob: String, idleTimeoutSeconds: Int = 300) throws -> DatabaseConfig {
        var entry = try TestDatabase.config(id: "notes", database: database, readOnly: false, pool: PoolSettings(max: 4, idleTimeoutSeconds: idleTimeoutSeconds))
        entry.roles = [
            RoleMapping(principal: "sub:alice", user: alice, password: Secret(password), maxConnections: 2),
            RoleMapping(principal: "sub:bob", user: bob, password: Secret(password), maxConnections: 2),
        ]
        return entry
    }

    /// A server with OAuth on the `notes` entry, and a token per subject.
    static func withServer(
        _ entry: DatabaseConfig,
        _ body: (_ url: String, _ token: (String) async throws -> [String: String?], _ registry: ConnectionPoolRegistry) async throws -> Void
    ) async throws {
        try await OAuthTests.withIssuer { issuer in
            try await TestServer.with(databases: [entry]) { settings in
                settings.oauthIssuer = issuer.name
                settings.oauthAudience = OAuthTests.audience
                settings.oauthRequiredScopes = ["pgmcp"]
            } _: { server in
                try await body(
                    server.url.absoluteString,
                    { subject in
                        let token = try await issuer.token(issuer.claims(audience: OAuthTests.audience, subject: subject, scope: "pgmcp", groups: []))
                        return ["Authorization": "Bearer \(token)"]
                    }, server.registry)
            }
        }
    }

    static func rows(_ reply: RawHTTP.Reply) -> [[JSONValue]]? {
        reply.json?["result"]?["structuredContent"]?["rows"]?.arrayValue?.compactMap(\.arrayValue)
    }

    static func text(_ reply: RawHTTP.Reply) -> String {
        reply.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? reply.body
    }

    static func isError(_ reply: RawHTTP.Reply) -> Bool { reply.json?["result"]?["isError"] == true || reply.json?["error"] != nil }

    @Test func eachCallerReadsAndWritesOnlyItsOwnRowsAsItsOwnRole() async throws {
        try await Self.withNotes { alice, bob, database in
            try await Self.withServer(try Self.entry(database, alice: alice, bob: bob)) { url, token, _ in
                let asAlice = try await token("alice")
                let asBob = try await token("bob")
                let asCarol = try await token("carol")
                let mine: JSONValue = ["sql": "SELECT current_user::text, count(*) FROM notes", "database": "notes"]
                #expect(Self.rows(try await MCP2026.call(url, "query", mine, headers: asAlice)) == [[.string(alice), 2]])
                #expect(Self.rows(try await MCP2026.call(url, "query", mine, headers: asBob)) == [[.string(bob), 3]])

                // Writes: only one's own rows are touched; a row for someone else is refused by the policy.
                let update: JSONValue = ["sql": "UPDATE notes SET body = body || '!'", "database": "notes"]
                let updated = try await MCP2026.call(url, "execute", update, headers: asAlice)
                #expect(updated.json?["result"]?["structuredContent"]?["rowsAffected"] == 2, "\(updated.body)")
                let inserted = try await MCP2026.call(url, "execute", ["sql": "INSERT INTO notes (body) VALUES ('a3')", "database": "notes"], headers: asAlice)
                #expect(inserted.json?["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(inserted.body)")
                let forged = try await MCP2026.call(
                    url, "execute", ["sql": .string("INSERT INTO notes (owner, body) VALUES ('\(bob)', 'forged')"), "database": "notes"], headers: asAlice)
                #expect(Self.isError(forged) && Self.text(forged).contains("row-level security"), "\(forged.body)")
                let deleted = try await MCP2026.call(url, "execute", ["sql": "DELETE FROM notes", "database": "notes"], headers: asBob)
                #expect(deleted.json?["result"]?["structuredContent"]?["rowsAffected"] == 3, "\(deleted.body)")
                let left = try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT owner::text, body FROM notes ORDER BY id").rows }
                #expect(left == [[.string(alice), "a1!"], [.string(alice), "a2!"], [.string(alice), "a3"]])

                // No mapping: the entry is not listed, and naming it is an unknown database.
                let listed = try await MCP2026.call(url, "list_databases", [:], headers: asCarol)
                #expect(listed.json?["result"]?["structuredContent"]?["databases"] == [], "\(listed.body)")
                let refused = try await MCP2026.call(url, "query", mine, headers: asCarol)
                #expect(Self.isError(refused) && Self.text(refused).contains("unknown database 'notes'"), "\(refused.body)")
                // Alice sees it, with her role as its user.
                let hers = try await MCP2026.call(url, "list_databases", [:], headers: asAlice)
                let listedForAlice = hers.json?["result"]?["structuredContent"]?["databases"]?.arrayValue ?? []
                #expect(listedForAlice.map { $0["name"] } == ["notes"] && listedForAlice.first?["user"] == .string(alice), "\(hers.body)")
                #expect(!hers.body.contains(Self.password))
            }
        }
    }

    /// What `execute` lets through PostgreSQL judges: as a login role of its own, with no membership
    /// in any other role, a caller has nowhere to go.
    @Test func noStatementReachesAnotherCallersRows() async throws {
        try await Self.withNotes { alice, bob, database in
            try await Self.withServer(try Self.entry(database, alice: alice, bob: bob)) { url, token, _ in
                let asAlice = try await token("alice")
                let opened = try await MCP2026.call(url, "open_session", ["database": "notes"], headers: asAlice)
                let session = try #require(opened.json?["result"]?["structuredContent"]?["session"], "\(opened.body)")
                func call(_ tool: String, _ arguments: JSONValue = [:]) async throws -> RawHTTP.Reply {
                    guard case .object(var object) = arguments else { throw CancellationError() }
                    object.append("session", session)
                    return try await MCP2026.call(url, tool, .object(object), headers: asAlice)
                }
                let look = "SELECT current_user::text, session_user::text, count(*), count(*) FILTER (WHERE owner::text <> current_user) FROM notes"
                var failed: [String] = []
                for attempt in [
                    "RESET ROLE", "SET ROLE \(bob)", "SET SESSION AUTHORIZATION \(bob)", "SELECT set_config('role', '\(bob)', false)",
                    "SET ROLE NONE", "RESET SESSION AUTHORIZATION",
                ] {
                    // In one transaction, so that whatever the attempt changed is what the next read sees.
                    let began = try await call("begin_transaction", ["read_only": false])
                    #expect(!Self.isError(began), "\(began.body)")
                    let tried = try await call("execute", ["sql": .string(attempt)])
                    if Self.isError(tried) {
                        failed.append(attempt)
                        #expect(Self.text(tried).contains("permission denied"), "\(attempt): \(tried.body)")
                    } else {
                        let seen = try await call("query", ["sql": .string(look)])
                        #expect(Self.rows(seen) == [[.string(alice), .string(alice), 2, 0]], "\(attempt): \(seen.body)")
                    }
                    _ = try await call("rollback_transaction")
                    // And outside a transaction, on whatever connection comes next.
                    _ = try await call("execute", ["sql": .string(attempt)])
                    let after = try await call("query", ["sql": .string(look)])
                    #expect(Self.rows(after) == [[.string(alice), .string(alice), 2, 0]], "after \(attempt): \(after.body)")
                }
                #expect(failed == ["SET ROLE \(bob)", "SET SESSION AUTHORIZATION \(bob)", "SELECT set_config('role', '\(bob)', false)"])

                // A SECURITY DEFINER function she owns runs as her: it counts her rows only.
                let function = "count_notes_\(UInt32.random(in: 0...UInt32.max))"
                let created = try await call(
                    "execute", ["sql": .string("CREATE FUNCTION \(function)() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM notes'")])
                #expect(!Self.isError(created), "\(created.body)")
                let counted = try await call("query", ["sql": .string("SELECT \(function)()")])
                #expect(Self.rows(counted) == [[2]], "\(counted.body)")
                _ = try await call("execute", ["sql": .string("DROP FUNCTION \(function)()")])
            }
        }
    }

    /// Handles stay their minter's; a role's pool is named by the entry and the role, holds a
    /// pinned transaction's connection, and closes its connections when idle.
    @Test func handlesStayTheirMintersAndIdleRolePoolsClose() async throws {
        try await Self.withNotes { alice, bob, database in
            try await Self.withServer(try Self.entry(database, alice: alice, bob: bob, idleTimeoutSeconds: 1)) { url, token, registry in
                // The housekeeping `pgmcp serve` runs (pool ticks: idle timeouts), which test servers leave out.
                let housekeeping = Task { await registry.run(interval: .milliseconds(200)) }
                defer { housekeeping.cancel() }
                let asAlice = try await token("alice")
                let asBob = try await token("bob")
                let opened = try await MCP2026.call(url, "open_session", ["database": "notes"], headers: asAlice)
                let session = try #require(opened.json?["result"]?["structuredContent"]?["session"], "\(opened.body)")
                let began = try await MCP2026.call(url, "begin_transaction", ["session": session, "read_only": true], headers: asAlice)
                #expect(!Self.isError(began), "\(began.body)")
                let stolen = try await MCP2026.call(url, "query", ["session": session, "sql": "SELECT count(*) FROM notes"], headers: asBob)
                #expect(Self.isError(stolen) && Self.text(stolen).contains("unknown or expired session handle"), "\(stolen.body)")

                // The pinned transaction is a connection of alice's role; bob's pool has none.
                func backends(_ role: String) async throws -> JSONValue? {
                    try await TestDatabase.rows("SELECT count(*) FROM pg_stat_activity WHERE usename = $1", [role]).first?.first
                }
                #expect(try await backends(alice) == 1)
                #expect(try await backends(bob) == 0)
                let inside = try await MCP2026.call(url, "query", ["session": session, "sql": "SELECT current_user::text"], headers: asAlice)
                #expect(Self.rows(inside) == [[.string(alice)]], "\(inside.body)")
                let status = try await MCP2026.call(url, "server_status", [:], headers: asAlice)
                let pools = status.json?["result"]?["structuredContent"]?["pools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                #expect(pools.contains("notes/\(alice)"), "\(status.body)")
                #expect(!pools.contains { $0.contains("sub:") || $0.contains("alice") && !$0.contains(alice) })
                _ = try await MCP2026.call(url, "commit_transaction", ["session": session], headers: asAlice)

                // Idle: its connections close and leave pg_stat_activity.
                #expect(try await eventually(within: .seconds(15)) { try await backends(alice) == 0 })
                // A cursor is hers alone too.
                let paged = try await MCP2026.call(
                    url, "query", ["session": session, "sql": "SELECT id FROM notes ORDER BY id", "max_rows": 1], headers: asAlice)
                let cursor = try #require(paged.json?["result"]?["structuredContent"]?["nextCursor"], "\(paged.body)")
                let taken = try await MCP2026.call(url, "query", ["cursor": cursor, "database": "notes"], headers: asBob)
                #expect(Self.isError(taken), "\(taken.body)")
                let next = try await MCP2026.call(url, "query", ["session": session, "cursor": cursor], headers: asAlice)
                #expect(Self.rows(next)?.count == 1, "\(next.body)")
            }
        }
    }

    /// Without OAuth, the static bearer token is the principal `token`.
    @Test func theStaticTokenRunsAsItsMappedRole() async throws {
        try await Self.withNotes { alice, bob, database in
            var entry = try Self.entry(database, alice: alice, bob: bob)
            entry.roles = [RoleMapping(principal: "token", user: bob, password: Secret(Self.password), maxConnections: 4)]
            var hidden = try Self.entry(database, alice: alice, bob: bob)
            hidden.id = "hidden"
            try await TestServer.with(databases: [entry, hidden]) { settings in
                settings.authToken = Secret("static-token-for-roles")
            } _: { server in
                let url = server.url.absoluteString
                let headers: [String: String?] = ["Authorization": "Bearer static-token-for-roles"]
                let reply = try await MCP2026.call(url, "query", ["sql": "SELECT current_user::text, count(*) FROM notes"], headers: headers)
                #expect(Self.rows(reply) == [[.string(bob), 3]], "\(reply.body)")
                let listed = try await MCP2026.call(url, "list_databases", [:], headers: headers)
                let names = listed.json?["result"]?["structuredContent"]?["databases"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
                #expect(names == ["notes"], "\(listed.body)")
            }
        }
    }

    /// With `"isolation": "clone"`, each caller's session works in a copy of its own, made by the
    /// entry's user, and runs there as the caller's role: the policies hold in the copy too.
    @Test func aCallersCopyIsUsedAsTheCallersRole() async throws {
        try await Self.withNotes { alice, bob, database in
            var entry = try Self.entry(database, alice: alice, bob: bob)
            entry.isolation = .clone
            try await Self.withServer(entry) { url, token, _ in
                let asAlice = try await token("alice")
                let asBob = try await token("bob")
                let look: JSONValue = ["sql": "SELECT current_user::text, current_database()::text LIKE 'pgmcp_clone_notes_%', count(*) FROM notes"]
                let opened = try await MCP2026.call(url, "open_session", ["database": "notes"], headers: asAlice)
                let session = try #require(opened.json?["result"]?["structuredContent"]?["session"], "\(opened.body)")
                let inserted = try await MCP2026.call(
                    url, "execute", ["session": session, "sql": "INSERT INTO notes (body) VALUES ('in the copy')", "database": "notes"], headers: asAlice)
                #expect(inserted.json?["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(inserted.body)")
                let forged = try await MCP2026.call(
                    url, "execute", ["session": session, "sql": .string("UPDATE notes SET body = 'x' WHERE owner = '\(bob)'"), "database": "notes"],
                    headers: asAlice)
                #expect(forged.json?["result"]?["structuredContent"]?["rowsAffected"] == 0, "\(forged.body)")
                guard case .object(var inSession) = look else { return }
                inSession.append("session", session)
                let hers = try await MCP2026.call(url, "query", .object(inSession), headers: asAlice)
                #expect(Self.rows(hers) == [[.string(alice), true, 3]], "\(hers.body)")
                let his = try await MCP2026.call(url, "query", look, headers: asBob)
                #expect(Self.rows(his) == [[.string(bob), true, 3]], "\(his.body)")
                // The entry's own database is untouched.
                let original = try await TestDatabase.withConnection(database: database) { try await $0.query("SELECT count(*) FROM notes").rows }
                #expect(original == [[5]])
                _ = try await MCP2026.call(url, "close_session", ["session": session], headers: asAlice)
            }
        }
    }
}
