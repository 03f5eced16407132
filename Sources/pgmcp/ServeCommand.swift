import ArgumentParser
import Foundation
import Logging
import PGConfig
import PGMCPServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the MCP server (Streamable HTTP at /mcp, or stdio).",
        discussion: "Every option is also a variable (shown in brackets); an option wins over its variable.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "http or stdio. [PGMCP_TRANSPORT, default http]") var transport: String?
    @Option(help: "Address to bind; anything but loopback needs --auth-token. [PGMCP_HOST, default 127.0.0.1]") var host: String?
    @Option(help: "Port to listen on. [PGMCP_PORT, default 3000]") var port: String?
    @Option(help: "Bearer token clients must send. Prefer the variable: options show in `ps`. [PGMCP_AUTH_TOKEN]") var authToken: String?
    @Option(help: "Comma-separated extra allowed Origins. [PGMCP_ALLOWED_ORIGINS]") var allowedOrigins: String?
    @Option(help: "Most sessions at once. [PGMCP_MAX_SESSIONS, default 1000]") var maxSessions: String?
    @Option(help: "Under OAuth, most sessions one subject may hold at once. [PGMCP_MAX_SESSIONS_PER_PRINCIPAL, default a tenth of --max-sessions]")
    var maxSessionsPerPrincipal: String?
    @Option(help: "Seconds without requests before a session ends. [PGMCP_SESSION_IDLE_TIMEOUT, default 1800]") var sessionIdleTimeout: String?
    @Option(help: "Connections one session may hold at once. [PGMCP_SESSION_MAX_CONNECTIONS, default 2]") var sessionMaxConnections: String?
    @Option(help: "Seconds a call waits for a connection. [PGMCP_ACQUIRE_TIMEOUT, default 10]") var acquireTimeout: String?
    @Option(help: "Seconds to open a database connection. [PGMCP_CONNECT_TIMEOUT, default 5]") var connectTimeout: String?
    @Option(help: "Seconds between checks of idle connections. [PGMCP_HEALTH_CHECK_INTERVAL, default 30]") var healthCheckInterval: String?
    @Option(help: "Let sessions connect databases by connection string. [PGMCP_ALLOW_DYNAMIC_CONNECTIONS, default false]") var allowDynamicConnections: String?
    @Option(help: "Hosts dynamic connections may reach. [PGMCP_DYNAMIC_ALLOWED_HOSTS]") var dynamicAllowedHosts: String?
    @Option(help: "Dynamic connections must use TLS. [PGMCP_DYNAMIC_REQUIRE_SSL, default true]") var dynamicRequireSsl: String?
    @Option(help: "Dynamic connections per session. [PGMCP_SESSION_MAX_DYNAMIC, default 3]") var sessionMaxDynamic: String?
    @Option(help: "Seconds an explicit transaction may sit unused. [PGMCP_TRANSACTION_IDLE_TIMEOUT, default 60]") var transactionIdleTimeout: String?
    @Option(help: "Seconds a query's cursor (nextCursor) may sit unused. [PGMCP_CURSOR_IDLE_TIMEOUT, default 60]") var cursorIdleTimeout: String?
    @Option(help: "Largest result JSON, in bytes. [PGMCP_MAX_RESULT_BYTES, default 262144]") var maxResultBytes: String?
    @Option(help: "Largest request body, in bytes. [PGMCP_MAX_REQUEST_BYTES, default 4194304]") var maxRequestBytes: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical. [PGMCP_LOG_LEVEL, default info]") var logLevel: String?
    @Option(help: "Tools to serve: core, default, all, or a comma list of groups and tool names. [PGMCP_TOOLS, default default]") var tools: String?
    @Option(help: "Fence database values in results' text as data, not instructions. [PGMCP_FENCE_RESULTS, default true]") var fenceResults: String?
    @Option(help: "Prefix of session ids and handles, for a router in front of several servers. [PGMCP_REPLICA_ID, default random]") var replicaId: String?
    @Option(help: "OAuth 2.1 issuer whose access tokens are accepted. [PGMCP_OAUTH_ISSUER]") var oauthIssuer: String?
    @Option(help: "This server's resource URL, which tokens must name in aud. [PGMCP_OAUTH_AUDIENCE]") var oauthAudience: String?
    @Option(help: "The issuer's keys (JWKS) from a file instead of its metadata. [PGMCP_OAUTH_JWKS_FILE]") var oauthJwksFile: String?
    @Option(help: "Scopes every token must carry, comma-separated. [PGMCP_OAUTH_REQUIRED_SCOPES]") var oauthRequiredScopes: String?

    /// Each flag's variable: flags and variables go through the same validation.
    var overrides: [String: String] {
        let pairs: [(String, String?)] = [
            ("PGMCP_TRANSPORT", transport), ("PGMCP_HOST", host), ("PGMCP_PORT", port), ("PGMCP_AUTH_TOKEN", authToken),
            ("PGMCP_ALLOWED_ORIGINS", allowedOrigins), ("PGMCP_MAX_SESSIONS", maxSessions),
            ("PGMCP_MAX_SESSIONS_PER_PRINCIPAL", maxSessionsPerPrincipal),
            ("PGMCP_SESSION_IDLE_TIMEOUT", sessionIdleTimeout), ("PGMCP_SESSION_MAX_CONNECTIONS", sessionMaxConnections),
            ("PGMCP_ACQUIRE_TIMEOUT", acquireTimeout), ("PGMCP_CONNECT_TIMEOUT", connectTimeout),
            ("PGMCP_HEALTH_CHECK_INTERVAL", healthCheckInterval), ("PGMCP_ALLOW_DYNAMIC_CONNECTIONS", allowDynamicConnections),
            ("PGMCP_DYNAMIC_ALLOWED_HOSTS", dynamicAllowedHosts), ("PGMCP_DYNAMIC_REQUIRE_SSL", dynamicRequireSsl),
            ("PGMCP_SESSION_MAX_DYNAMIC", sessionMaxDynamic), ("PGMCP_TRANSACTION_IDLE_TIMEOUT", transactionIdleTimeout),
            ("PGMCP_CURSOR_IDLE_TIMEOUT", cursorIdleTimeout),
            ("PGMCP_MAX_RESULT_BYTES", maxResultBytes), ("PGMCP_MAX_REQUEST_BYTES", maxRequestBytes), ("PGMCP_LOG_LEVEL", logLevel),
            ("PGMCP_TOOLS", tools), ("PGMCP_FENCE_RESULTS", fenceResults), ("PGMCP_REPLICA_ID", replicaId),
            ("PGMCP_OAUTH_ISSUER", oauthIssuer), ("PGMCP_OAUTH_AUDIENCE", oauthAudience), ("PGMCP_OAUTH_JWKS_FILE", oauthJwksFile),
            ("PGMCP_OAUTH_REQUIRED_SCOPES", oauthRequiredScopes),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { name, value in value.map { (name, $0) } })
    }

    func run() async throws {
        let configuration = try options.load(overrides: overrides)
        let logger = ServerRuntime.bootstrapLogging(configuration.server.logLevel)
        for warning in configuration.warnings { logger.warning("\(warning)") }
        for shadowed in configuration.shadowedSources {
            logger.warning("\(shadowed) is set but ignored: \(configuration.source) takes precedence")
        }
        for database in configuration.databases {
            logger.info("database \(database.summary)\(database.id == configuration.defaultDatabaseID ? " [default]" : "")")
        }
        let settings = configuration.server
        try await ServerRuntime.serve(configuration: configuration, logger: logger) { port in
            logger.info("pgmcp listening on http://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(port)/mcp")
        }
    }
}
