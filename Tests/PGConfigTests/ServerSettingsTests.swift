import PGConfig
import Testing

@Suite("Server settings") struct ServerSettingsTests {
    @Test func defaultsFollowTheContract() throws {
        let settings = try ServerSettings(environment: [:])
        #expect(settings.transport == .http)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 3000)
        #expect(settings.authToken == nil)
        #expect(settings.allowedOrigins.isEmpty)
        #expect(settings.maxSessions == 1000)
        #expect(settings.maxSessionsPerPrincipal == nil)
        #expect(settings.sessionsPerPrincipal == 100)
        #expect(settings.sessionIdleTimeout == .seconds(1800))
        #expect(settings.sessionMaxConnections == 2)
        #expect(settings.acquireTimeout == .seconds(10))
        #expect(settings.connectTimeout == .seconds(5))
        #expect(settings.healthCheckInterval == .seconds(30))
        #expect(!settings.allowDynamicConnections)
        #expect(settings.dynamicAllowedHosts.isEmpty)
        #expect(settings.dynamicRequireSSL)
        #expect(settings.sessionMaxDynamic == 3)
        #expect(settings.transactionIdleTimeout == .seconds(60))
        #expect(settings.cursorIdleTimeout == .seconds(60))
        #expect(settings.maxResultBytes == 262_144)
        #expect(settings.logLevel == .info)
        #expect(settings.tools == .default)
        #expect(settings.fenceResults)
    }

    @Test func everyVariableIsRead() throws {
        let settings = try ServerSettings(environment: [
            "PGMCP_TRANSPORT": "stdio", "PGMCP_HOST": "0.0.0.0", "PGMCP_PORT": "8080", "PGMCP_AUTH_TOKEN": "tok",
            "PGMCP_ALLOWED_ORIGINS": "https://a.example, https://b.example", "PGMCP_MAX_SESSIONS": "50",
            "PGMCP_MAX_SESSIONS_PER_PRINCIPAL": "7",
            "PGMCP_SESSION_IDLE_TIMEOUT": "0.5", "PGMCP_SESSION_MAX_CONNECTIONS": "3", "PGMCP_ACQUIRE_TIMEOUT": "2",
            "PGMCP_CONNECT_TIMEOUT": "1.5", "PGMCP_HEALTH_CHECK_INTERVAL": "10", "PGMCP_ALLOW_DYNAMIC_CONNECTIONS": "true",
            "PGMCP_DYNAMIC_ALLOWED_HOSTS": "*.internal.example, 10.0.0.0/8, db.example.com", "PGMCP_DYNAMIC_REQUIRE_SSL": "false",
            "PGMCP_SESSION_MAX_DYNAMIC": "5", "PGMCP_TRANSACTION_IDLE_TIMEOUT": "30", "PGMCP_MAX_RESULT_BYTES": "65536",
            "PGMCP_CURSOR_IDLE_TIMEOUT": "2.5",
            "PGMCP_LOG_LEVEL": "debug", "PGMCP_OAUTH_ISSUER": "https://id.example.com/realms/x", "PGMCP_OAUTH_AUDIENCE": "https://mcp.example.com/mcp",
            "PGMCP_OAUTH_JWKS_FILE": "/etc/pgmcp/jwks.json", "PGMCP_OAUTH_REQUIRED_SCOPES": "pgmcp, db.read", "PGMCP_REPLICA_ID": "eu-1",
            "PGMCP_TOOLS": "core, explain", "PGMCP_FENCE_RESULTS": "false",
        ])
        #expect(settings.transport == .stdio)
        #expect(settings.port == 8080)
        #expect(settings.authToken?.reveal() == "tok")
        #expect(settings.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(settings.maxSessions == 50)
        #expect(settings.sessionsPerPrincipal == 7)
        #expect(settings.warnings.isEmpty)
        #expect(settings.sessionIdleTimeout == .milliseconds(500))
        #expect(settings.connectTimeout == .milliseconds(1500))
        #expect(settings.allowDynamicConnections)
        #expect(settings.dynamicAllowedHosts.map(\.description) == ["*.internal.example", "10.0.0.0/8", "db.example.com"])
        #expect(!settings.dynamicRequireSSL)
        #expect(settings.sessionMaxDynamic == 5)
        #expect(settings.cursorIdleTimeout == .milliseconds(2500))
        #expect(settings.maxResultBytes == 65536)
        #expect(settings.logLevel == .debug)
        #expect(settings.oauthIssuer == "https://id.example.com/realms/x")
        #expect(settings.oauthAudience == "https://mcp.example.com/mcp")
        #expect(settings.oauthJWKSFile == "/etc/pgmcp/jwks.json")
        #expect(settings.oauthRequiredScopes == ["pgmcp", "db.read"])
        #expect(settings.replicaID == "eu-1")
        #expect(settings.tools.names == ["list_databases", "query", "execute", "list_tables", "describe_table", "explain"])
        #expect(!settings.fenceResults)
    }

    @Test func randomReplicaIDsAreShortValidAndDistinct() throws {
        #expect(try ServerSettings(environment: [:]).replicaID == nil)
        let first = ServerSettings.randomReplicaID()
        let second = ServerSettings.randomReplicaID()
        #expect(first.count == 6 && second.count == 6)
        #expect(first != second)
        #expect(ServerSettings.isReplicaID(first))
        for bad in ["", "a.b", "a b", "ä", String(repeating: "x", count: 33), "a/b"] { #expect(!ServerSettings.isReplicaID(bad), "\(bad)") }
    }

    @Test func badValuesNameTheVariable() {
        #expect(
            settingsProblems(["PGMCP_OAUTH_ISSUER": "https://id.example.com"]) == [
                "server settings: environment variable PGMCP_OAUTH_AUDIENCE: PGMCP_OAUTH_ISSUER and PGMCP_OAUTH_AUDIENCE go together: set both, or neither"
            ])
        #expect(
            settingsProblems(["PGMCP_OAUTH_ISSUER": "http://id.example.com", "PGMCP_OAUTH_AUDIENCE": "https://mcp.example.com"]) == [
                "server settings: environment variable PGMCP_OAUTH_ISSUER: must be an https:// URL (http:// only on loopback), got \"http://id.example.com\""
            ])
        for lookalike in ["http://localhost.evil.example", "http://127.evil.example/x", "http://127.0.0.1@evil.example"] {
            #expect(settingsProblems(["PGMCP_OAUTH_ISSUER": lookalike, "PGMCP_OAUTH_AUDIENCE": "https://mcp.example.com"]).count == 1, "\(lookalike)")
        }
        for loopback in ["http://127.0.0.1:8080/realms/x", "http://localhost:9000", "http://[::1]:80/x"] {
            #expect(settingsProblems(["PGMCP_OAUTH_ISSUER": loopback, "PGMCP_OAUTH_AUDIENCE": "https://mcp.example.com"]).isEmpty, "\(loopback)")
        }
        #expect(settingsProblems(["PGMCP_REPLICA_ID": "eu.1"]) == ["server settings: environment variable PGMCP_REPLICA_ID: must be 1 to 32 letters, digits or '-', got \"eu.1\""])
        #expect(
            settingsProblems(["PGMCP_TOOLS": "core,drop_everything"]).first?.hasPrefix(
                "server settings: environment variable PGMCP_TOOLS: \"drop_everything\" is neither a tool group (all, core, dba, default) nor a tool name (list_databases,")
                == true)
        #expect(settingsProblems(["PGMCP_TOOLS": " , "]) == ["server settings: environment variable PGMCP_TOOLS: names no tool; use core, default, dba, all, or tool names"])
        #expect(settingsProblems(["PGMCP_PORT": "http"]) == ["server settings: environment variable PGMCP_PORT: must be a whole number from 0 to 65535, got \"http\""])
        #expect(
            settingsProblems(["PGMCP_ACQUIRE_TIMEOUT": "-1"]) == ["server settings: environment variable PGMCP_ACQUIRE_TIMEOUT: must be a number of seconds above 0, got \"-1\""])
        #expect(
            settingsProblems(["PGMCP_CURSOR_IDLE_TIMEOUT": "0"]) == [
                "server settings: environment variable PGMCP_CURSOR_IDLE_TIMEOUT: must be a number of seconds above 0, got \"0\""
            ])
        #expect(
            settingsProblems(["PGMCP_ALLOW_DYNAMIC_CONNECTIONS": "maybe"]) == [
                "server settings: environment variable PGMCP_ALLOW_DYNAMIC_CONNECTIONS: must be true or false, got \"maybe\""
            ])
        #expect(settingsProblems(["PGMCP_TRANSPORT": "grpc"]) == ["server settings: environment variable PGMCP_TRANSPORT: must be one of http, stdio, got \"grpc\""])
        #expect(settingsProblems(["PGMCP_MAX_SESSION": "5"]) == ["server settings: environment variable PGMCP_MAX_SESSION: unknown setting; did you mean PGMCP_MAX_SESSIONS?"])
        #expect(settingsProblems(["PGMCP_DYNAMIC_ALLOWED_HOSTS": "10.0.0.0/33"]).count == 1)
        #expect(
            settingsProblems(["PGMCP_MAX_SESSIONS_PER_PRINCIPAL": "0"]) == [
                "server settings: environment variable PGMCP_MAX_SESSIONS_PER_PRINCIPAL: must be a whole number from 1 to 1000000, got \"0\""
            ])
        #expect(
            settingsProblems(["PGMCP_MAX_SESSIONS": "20", "PGMCP_MAX_SESSIONS_PER_PRINCIPAL": "21"]) == [
                "server settings: environment variable PGMCP_MAX_SESSIONS_PER_PRINCIPAL: must be at most PGMCP_MAX_SESSIONS (20), got 21"
            ])
        #expect(
            settingsProblems(["PGMCP_MAX_SESSIONS_PER_PRINCIPLE": "5"]) == [
                "server settings: environment variable PGMCP_MAX_SESSIONS_PER_PRINCIPLE: unknown setting; did you mean PGMCP_MAX_SESSIONS_PER_PRINCIPAL?"
            ])
    }

    /// The share is an OAuth subject's: without OAuth there is none to give it, and setting it says so.
    @Test func aShareWithoutOAuthIsAWarning() throws {
        let settings = try ServerSettings(environment: ["PGMCP_MAX_SESSIONS_PER_PRINCIPAL": "5"])
        #expect(
            settings.warnings.map(\.description) == [
                "server settings: environment variable PGMCP_MAX_SESSIONS_PER_PRINCIPAL: applies to OAuth subjects only, and PGMCP_OAUTH_ISSUER is not set; ignored"
            ])
    }

    @Test func anUnknownVariableCloseToASettingIsAnErrorAnyOtherAWarning() throws {
        // Slips: a letter off, swapped, case or underscores.
        #expect(settingsProblems(["PGMCP_PROT": "1"]) == ["server settings: environment variable PGMCP_PROT: unknown setting; did you mean PGMCP_PORT?"])
        #expect(settingsProblems(["PGMCP_LOGLEVEL": "x"]) == ["server settings: environment variable PGMCP_LOGLEVEL: unknown setting; did you mean PGMCP_LOG_LEVEL?"])
        #expect(settingsProblems(["PGMCP_Max_Sessions": "5"]) == ["server settings: environment variable PGMCP_Max_Sessions: unknown setting; did you mean PGMCP_MAX_SESSIONS?"])
        // What wrappers export: no setting, and like none, so left alone with a warning.
        let wrapped = ["PGMCP_BIN": "/x", "PGMCP_HOME": "/opt/pgmcp", "PGMCP_VERSION": "1", "PGMCP_CONFIG_DIR": "/etc", "PGMCP_PORT": "4000"]
        let settings = try ServerSettings(environment: wrapped)
        #expect(settings.port == 4000)
        #expect(
            settings.warnings.map(\.description) == [
                "server settings: environment variable PGMCP_BIN: not a pgmcp setting; ignored",
                "server settings: environment variable PGMCP_CONFIG_DIR: not a pgmcp setting; ignored",
                "server settings: environment variable PGMCP_HOME: not a pgmcp setting; ignored",
                "server settings: environment variable PGMCP_VERSION: not a pgmcp setting; ignored",
            ])
        #expect(try ServerSettings(environment: ["PGMCP_PORT": "4000"]).warnings.isEmpty)
    }

    @Test func nonLoopbackBindingRequiresAToken() throws {
        let problems = settingsProblems(["PGMCP_HOST": "0.0.0.0"])
        #expect(
            problems == [
                "server settings: environment variable PGMCP_HOST: binding 0.0.0.0 (not a loopback address) requires PGMCP_AUTH_TOKEN (or --auth-token) or OAuth (PGMCP_OAUTH_ISSUER)"
            ])
        _ = try ServerSettings(environment: ["PGMCP_HOST": "0.0.0.0", "PGMCP_AUTH_TOKEN": "t"])
        _ = try ServerSettings(environment: ["PGMCP_HOST": "localhost"])
    }

    @Test func theTokenNeverPrints() throws {
        let settings = try ServerSettings(environment: ["PGMCP_AUTH_TOKEN": "tok-123456"])
        #expect(!String(describing: settings).contains("tok-123456"))
        #expect(!String(reflecting: settings).contains("tok-123456"))
        #expect("\(settings.authToken!)" == "•••")
    }

    @Test func hostPatterns() throws {
        let suffix = try #require(HostPattern("*.internal.example"))
        #expect(suffix.matches("db.internal.example"))
        #expect(suffix.matches("A.B.INTERNAL.EXAMPLE"))
        #expect(!suffix.matches("internal.example"))
        #expect(!suffix.matches("evilinternal.example"))
        let range = try #require(HostPattern("10.0.0.0/8"))
        #expect(range.matches("10.1.2.3"))
        #expect(!range.matches("11.0.0.1"))
        #expect(!range.matches("db.internal.example"))
        let v6 = try #require(HostPattern("fd00::/8"))
        #expect(v6.matches("fd12:3456::1"))
        #expect(!v6.matches("fe80::1"))
        let exact = try #require(HostPattern("db.example.com"))
        #expect(exact.matches("db.example.com"))
        #expect(!exact.matches("x.db.example.com"))
        #expect(HostPattern("not a host") == nil)
        #expect(HostPattern("10.0.0.0/40") == nil)
    }
}

/// What `ServerSettings` refuses in `environment`, as text; empty when it accepts it.
func settingsProblems(_ environment: [String: String]) -> [String] {
    do {
        _ = try ServerSettings(environment: environment)
        return []
    } catch { return error.problems.map(\.description) }
}
