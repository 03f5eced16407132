import PGConfig
import Testing

/// A database entry's `roles`: each caller's own PostgreSQL role, first match wins, within the
/// entry's connection budget.
@Suite("Caller roles configuration") struct RoleConfigTests {
    func entry(_ roles: String, pool: String = "", extra: String = "") -> [String: String] {
        ["DB_CONFIGS": #"[{"id": "prod", "host": "h", "user": "app"\#(pool)\#(extra), "roles": \#(roles)}]"#, "ANALYST_PW": "from-env"]
    }

    @Test func rolesAreDecodedInOrderWithTheirPasswordsAndShares() throws {
        let configuration = try load(
            entry(
                #"[{"principal": "sub:alice", "user": "alice_role", "password": "pw-a"}, {"principal": "group:analysts", "user": "analyst", "passwordEnv": "ANALYST_PW", "maxConnections": 4}, {"principal": "*", "user": "viewer"}]"#,
                pool: #", "pool": {"max": 10}"#))
        let prod = try #require(configuration.databases.first)
        let roles = try #require(prod.roles)
        #expect(roles.map(\.principal) == ["sub:alice", "group:analysts", "*"])
        #expect(roles.map(\.user) == ["alice_role", "analyst", "viewer"])
        #expect(roles.map { $0.password?.reveal() } == ["pw-a", "from-env", nil])
        // 4 set, the 6 left shared by the two others.
        #expect(roles.map(\.maxConnections) == [3, 4, 3])
        // First match wins; no match: nil.
        #expect(prod.roleIndex(for: ["sub:alice", "group:analysts"]) == 0)
        #expect(prod.roleIndex(for: ["sub:bob", "group:analysts"]) == 1)
        #expect(prod.roleIndex(for: ["sub:bob"]) == 2)
        let asAnalyst = prod.asRole(1)
        #expect(asAnalyst.connection["user"] == "analyst")
        #expect(asAnalyst.password?.reveal() == "from-env")
        #expect(asAnalyst.pool.max == 4 && asAnalyst.pool.min == 0)
        #expect(asAnalyst.role == "analyst")
        // Never a password in what prints.
        #expect(!String(describing: prod).contains("pw-a") && !String(describing: prod).contains("from-env"))
        #expect(!String(reflecting: roles).contains("pw-a"))
        #expect(prod.roleSummary == "sub:alice → alice_role, group:analysts → analyst, * → viewer")
    }

    @Test func theTokenPrincipalMatchesTheStaticTokenOnly() throws {
        let configuration = try load(entry(#"[{"principal": "token", "user": "solo", "password": "pw"}]"#))
        let prod = try #require(configuration.databases.first)
        #expect(prod.roleIndex(for: ["token"]) == 0)
        #expect(prod.roleIndex(for: []) == nil)
        #expect(prod.roleIndex(for: ["sub:token"]) == nil)
        #expect(prod.roles?.first?.maxConnections == 10)
    }

    @Test func badItemsNameTheirField() {
        #expect(
            problems(entry(#"[{"principal": "alice", "user": "a"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1].principal': \"alice\" is not sub:<subject>, group:<group>, scope:<scope>, token or *"
            ])
        #expect(
            problems(entry(#"[{"principal": "*", "user": "a"}, {"principal": "sub:b"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[2].user': is required (the PostgreSQL role these callers log in as)"
            ])
        #expect(
            problems(entry(#"[{"principal": "*", "user": "a", "pasword": "x"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1].pasword': unknown field; did you mean 'roles[1].password'?"
            ])
        #expect(
            problems(entry(#"[{"principal": "*", "user": "a", "password": "x", "passwordEnv": "ANALYST_PW"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1].passwordEnv': give only one of password, passwordEnv, passwordFile (got password and passwordEnv)"
            ])
        #expect(
            problems(entry(#"[{"principal": "*", "user": "a", "passwordEnv": "NOPE_PW"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1].passwordEnv': environment variable NOPE_PW is not set"
            ])
        #expect(
            problems(entry(#"[{"principal": "sub:a", "user": "a"}, {"principal": "sub:a", "user": "b"}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[2].principal': \"sub:a\" is already mapped by roles[1], which wins: this item would never apply"
            ])
        #expect(
            problems(entry("[]")) == [
                "DB_CONFIGS: database 'prod': field 'roles': must list at least one role; drop 'roles' to run every caller as the entry's user"
            ])
        #expect(
            problems(entry(#"["sub:a"]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1]': must be an object {principal, user, password | passwordEnv | passwordFile}, got a string"
            ])
    }

    @Test func theRolesPoolsStayWithinPoolMax() {
        #expect(
            problems(entry(#"[{"principal": "sub:a", "user": "a", "maxConnections": 3}, {"principal": "*", "user": "b", "maxConnections": 3}]"#, pool: #", "pool": {"max": 5}"#))
                == [
                    "DB_CONFIGS: database 'prod': field 'pool.max': the roles' pools together open at most pool.max (5) connections, but they ask for 6; raise pool.max or lower the roles' maxConnections"
                ])
        #expect(
            problems(entry(#"[{"principal": "sub:a", "user": "a", "maxConnections": 2}, {"principal": "*", "user": "b"}]"#, pool: #", "pool": {"max": 2}"#))
                == [
                    "DB_CONFIGS: database 'prod': field 'pool.max': the roles' pools together open at most pool.max (2) connections, but they ask for 2 set by maxConnections and at least 1 for each of the 1 other roles; raise pool.max or lower the roles' maxConnections"
                ])
        #expect(
            problems(entry(#"[{"principal": "sub:a", "user": "a", "maxConnections": 0}]"#)) == [
                "DB_CONFIGS: database 'prod': field 'roles[1].maxConnections': must be from 1 to 1000, got 0"
            ])
        // Exactly the budget is fine; items mapped to one role share its pool, and its maximum.
        let configuration = try? load(
            entry(
                #"[{"principal": "sub:a", "user": "a", "maxConnections": 2}, {"principal": "group:g", "user": "a", "maxConnections": 1}, {"principal": "*", "user": "b"}]"#,
                pool: #", "pool": {"max": 4}"#))
        let prod = configuration?.databases.first
        #expect(prod?.roles?.map(\.maxConnections) == [2, 1, 1])
        #expect(prod?.asRole(1).pool.max == 3)
    }
}
