import PGClient

/// The server's own settings, each a `PGMCP_*` variable (and a `serve` flag). Defaults follow CONTRACT.md.
public struct ServerSettings: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        case http, stdio
    }

    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

    /// `PGMCP_TRANSPORT`: defaults to `http`.
    public var transport: Transport = .http
    /// `PGMCP_HOST`: defaults to `127.0.0.1`. A non-loopback address requires `authToken`.
    public var host = "127.0.0.1"
    /// `PGMCP_PORT`: defaults to 3000.
    public var port = 3000
    /// `PGMCP_AUTH_TOKEN`: when set, HTTP requests need `Authorization: Bearer <token>`.
    public var authToken: Secret?
    /// `PGMCP_ALLOWED_ORIGINS`: comma-separated origins allowed besides loopback ones.
    public var allowedOrigins: [String] = []
    /// `PGMCP_MAX_SESSIONS`: defaults to 1000.
    public var maxSessions = 1000
    /// `PGMCP_MAX_SESSIONS_PER_PRINCIPAL`: under OAuth, the places of `maxSessions` one subject may
    /// hold at once (its MCP sessions, handles and calls running without one). Unset, a tenth of
    /// `maxSessions` (at least 1): one subject cannot lock out the others (`sessionsPerPrincipal`).
    public var maxSessionsPerPrincipal: Int?
    /// Each OAuth subject's share of `maxSessions`: `maxSessionsPerPrincipal`, or a tenth of `maxSessions`.
    public var sessionsPerPrincipal: Int { maxSessionsPerPrincipal ?? Swift.max(1, maxSessions / 10) }
    /// `PGMCP_SESSION_IDLE_TIMEOUT`: seconds without requests before a session ends. Defaults to 1800.
    public var sessionIdleTimeout: Duration = .seconds(1800)
    /// `PGMCP_SESSION_MAX_CONNECTIONS`: connections one session may hold at once. Defaults to 2.
    public var sessionMaxConnections = 2
    /// `PGMCP_ACQUIRE_TIMEOUT`: seconds a call waits for a connection. Defaults to 10.
    public var acquireTimeout: Duration = .seconds(10)
    /// `PGMCP_CONNECT_TIMEOUT`: seconds to open a database connection. Defaults to 5.
    public var connectTimeout: Duration = .seconds(5)
    /// `PGMCP_HEALTH_CHECK_INTERVAL`: seconds between checks of idle connections. Defaults to 30.
    public var healthCheckInterval: Duration = .seconds(30)
    /// `PGMCP_ALLOW_DYNAMIC_CONNECTIONS`: may sessions connect databases by connection string? Defaults to false.
    public var allowDynamicConnections = false
    /// `PGMCP_DYNAMIC_ALLOWED_HOSTS`: host patterns (`db.example.com`, `*.internal.example`, `10.0.0.0/8`).
    public var dynamicAllowedHosts: [HostPattern] = []
    /// `PGMCP_DYNAMIC_REQUIRE_SSL`: dynamic connections must use TLS. Defaults to true.
    public var dynamicRequireSSL = true
    /// `PGMCP_SESSION_MAX_DYNAMIC`: dynamic connections per session. Defaults to 3.
    public var sessionMaxDynamic = 3
    /// `PGMCP_TRANSACTION_IDLE_TIMEOUT`: seconds an explicit transaction may sit unused. Defaults to 60.
    public var transactionIdleTimeout: Duration = .seconds(60)
    /// `PGMCP_CURSOR_IDLE_TIMEOUT`: seconds a query's cursor (`nextCursor`) may sit unused before its
    /// snapshot is released and its connection returned. Defaults to 60.
    public var cursorIdleTimeout: Duration = .seconds(60)
    /// `PGMCP_MAX_RESULT_BYTES`: a result's JSON is cut to fit. Defaults to 262144.
    public var maxResultBytes = 262_144
    /// `PGMCP_MAX_REQUEST_BYTES`: the largest request body accepted. Defaults to 4 MiB.
    public var maxRequestBytes = 4 * 1024 * 1024
    /// `PGMCP_LOG_LEVEL`: defaults to `info`.
    public var logLevel: LogLevel = .info
    /// `PGMCP_REPLICA_ID`: this process's name among several behind a router, the prefix of its
    /// session handles and `Mcp-Session-Id`s (`<replica>.<random>`). Unset, `pgmcp serve` draws a
    /// random short id at start (`randomReplicaID`). Letters, digits and `-`, at most 32.
    public var replicaID: String?
    /// `PGMCP_OAUTH_ISSUER`: the authorization server whose access tokens HTTP requests may carry
    /// (an OAuth 2.1 resource server, RFC 9728). Needs `oauthAudience`.
    public var oauthIssuer: String?
    /// `PGMCP_OAUTH_AUDIENCE`: this server's resource identifier (its URL), which tokens must name in `aud`.
    public var oauthAudience: String?
    /// `PGMCP_OAUTH_JWKS_FILE`: the issuer's keys from a file instead of its metadata.
    public var oauthJWKSFile: String?
    /// `PGMCP_OAUTH_REQUIRED_SCOPES`: scopes every token must carry (comma-separated); none by default.
    public var oauthRequiredScopes: [String] = []
    /// `PGMCP_TOOLS`: the tools `tools/list` offers (groups and names). Defaults to `default`.
    public var tools = ToolSelection.default
    /// `PGMCP_FENCE_RESULTS`: the text of results that carry database values is fenced as data. Defaults to true.
    public var fenceResults = true

    /// `PGMCP_*` variables that are no setting and no slip for one (`PGMCP_BIN`, exported by a
    /// wrapper): ignored, each worth a warning at start-up.
    public var warnings: [ConfigProblem] = []

    public init() {}

    /// Reads every `PGMCP_*` variable. Bad values are errors naming the variable, and so is an
    /// unknown name close to a setting (`PGMCP_MAX_SESSION`: did you mean `PGMCP_MAX_SESSIONS`?);
    /// any other unknown `PGMCP_*` name is left to whoever set it, with a warning in `warnings`.
    public init(environment: [String: String]) throws(ConfigurationError) {
        let log = ProblemLog(source: "server settings")
        let reader = VariableReader(environment: environment, log: log)
        transport = reader.choice("PGMCP_TRANSPORT", as: Transport.self) ?? transport
        host = reader.string("PGMCP_HOST") ?? host
        port = reader.integer("PGMCP_PORT", in: 0...65535) ?? port
        authToken = reader.string("PGMCP_AUTH_TOKEN").map(Secret.init)
        allowedOrigins = reader.list("PGMCP_ALLOWED_ORIGINS") ?? []
        maxSessions = reader.integer("PGMCP_MAX_SESSIONS", in: 1...1_000_000) ?? maxSessions
        maxSessionsPerPrincipal = reader.integer("PGMCP_MAX_SESSIONS_PER_PRINCIPAL", in: 1...1_000_000)
        if let share = maxSessionsPerPrincipal, share > maxSessions {
            log.add("must be at most PGMCP_MAX_SESSIONS (\(maxSessions)), got \(share)", variable: "PGMCP_MAX_SESSIONS_PER_PRINCIPAL")
        }
        sessionIdleTimeout = reader.seconds("PGMCP_SESSION_IDLE_TIMEOUT") ?? sessionIdleTimeout
        sessionMaxConnections = reader.integer("PGMCP_SESSION_MAX_CONNECTIONS", in: 1...1000) ?? sessionMaxConnections
        acquireTimeout = reader.seconds("PGMCP_ACQUIRE_TIMEOUT") ?? acquireTimeout
        connectTimeout = reader.seconds("PGMCP_CONNECT_TIMEOUT") ?? connectTimeout
        healthCheckInterval = reader.seconds("PGMCP_HEALTH_CHECK_INTERVAL") ?? healthCheckInterval
        allowDynamicConnections = reader.bool("PGMCP_ALLOW_DYNAMIC_CONNECTIONS") ?? allowDynamicConnections
        if let patterns = reader.list("PGMCP_DYNAMIC_ALLOWED_HOSTS") {
            for text in patterns {
                if let pattern = HostPattern(text) {
                    dynamicAllowedHosts.append(pattern)
                } else {
                    log.add("\"\(text)\" is not a host name, a *.suffix pattern or an IP/prefix range", variable: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
                }
            }
        }
        dynamicRequireSSL = reader.bool("PGMCP_DYNAMIC_REQUIRE_SSL") ?? dynamicRequireSSL
        sessionMaxDynamic = reader.integer("PGMCP_SESSION_MAX_DYNAMIC", in: 0...100) ?? sessionMaxDynamic
        transactionIdleTimeout = reader.seconds("PGMCP_TRANSACTION_IDLE_TIMEOUT") ?? transactionIdleTimeout
        cursorIdleTimeout = reader.seconds("PGMCP_CURSOR_IDLE_TIMEOUT") ?? cursorIdleTimeout
        maxResultBytes = reader.integer("PGMCP_MAX_RESULT_BYTES", in: 1024...(64 * 1024 * 1024)) ?? maxResultBytes
        maxRequestBytes = reader.integer("PGMCP_MAX_REQUEST_BYTES", in: 1024...(256 * 1024 * 1024)) ?? maxRequestBytes
        logLevel = reader.choice("PGMCP_LOG_LEVEL", as: LogLevel.self) ?? logLevel
        if let replica = reader.string("PGMCP_REPLICA_ID") {
            if Self.isReplicaID(replica) {
                replicaID = replica
            } else {
                log.add("must be 1 to 32 letters, digits or '-', got \"\(replica)\"", variable: "PGMCP_REPLICA_ID")
            }
        }
        oauthIssuer = reader.string("PGMCP_OAUTH_ISSUER")
        oauthAudience = reader.string("PGMCP_OAUTH_AUDIENCE")
        oauthJWKSFile = reader.string("PGMCP_OAUTH_JWKS_FILE")
        oauthRequiredScopes = reader.list("PGMCP_OAUTH_REQUIRED_SCOPES") ?? []
        if let items = reader.list("PGMCP_TOOLS") {
            switch ToolSelection.parse(items) {
            case .success(let selection): tools = selection
            case .failure(let problem): log.add(problem.message, variable: "PGMCP_TOOLS")
            }
        }
        fenceResults = reader.bool("PGMCP_FENCE_RESULTS") ?? fenceResults
        for (name, value) in [("PGMCP_OAUTH_ISSUER", oauthIssuer), ("PGMCP_OAUTH_AUDIENCE", oauthAudience)] {
            guard let value else { continue }
            if !(value.hasPrefix("https://") || Self.isLoopbackHTTP(value)) {
                log.add("must be an https:// URL (http:// only on loopback), got \"\(value)\"", variable: name)
            }
        }
        if maxSessionsPerPrincipal != nil, oauthIssuer == nil {
            warnings.append(
                ConfigProblem(
                    source: "server settings", field: "PGMCP_MAX_SESSIONS_PER_PRINCIPAL", fieldKind: .environmentVariable,
                    message: "applies to OAuth subjects only, and PGMCP_OAUTH_ISSUER is not set; ignored"))
        }
        if (oauthIssuer == nil) != (oauthAudience == nil) {
            log.add("PGMCP_OAUTH_ISSUER and PGMCP_OAUTH_AUDIENCE go together: set both, or neither", variable: oauthIssuer == nil ? "PGMCP_OAUTH_ISSUER" : "PGMCP_OAUTH_AUDIENCE")
        }

        for name in environment.keys.sorted() where name.hasPrefix("PGMCP_") && !name.hasPrefix("PGMCP_TEST_") && !Self.variables.contains(name) {
            if let suggestion = closest(to: name, in: Self.variables, ignoringPrefix: "PGMCP_") {
                log.add("unknown setting; did you mean \(suggestion)?", variable: name)
            } else {
                warnings.append(
                    ConfigProblem(source: "server settings", field: name, fieldKind: .environmentVariable, message: "not a pgmcp setting; ignored"))
            }
        }
        if let problem = bindingProblem() { log.add(problem, variable: "PGMCP_HOST") }
        if !log.problems.isEmpty { throw ConfigurationError(log.problems) }
    }

    /// Every variable this type reads.
    public static let variables = [
        "PGMCP_TRANSPORT", "PGMCP_HOST", "PGMCP_PORT", "PGMCP_AUTH_TOKEN", "PGMCP_ALLOWED_ORIGINS", "PGMCP_MAX_SESSIONS",
        "PGMCP_MAX_SESSIONS_PER_PRINCIPAL", "PGMCP_SESSION_IDLE_TIMEOUT", "PGMCP_SESSION_MAX_CONNECTIONS", "PGMCP_ACQUIRE_TIMEOUT", "PGMCP_CONNECT_TIMEOUT",
        "PGMCP_HEALTH_CHECK_INTERVAL", "PGMCP_ALLOW_DYNAMIC_CONNECTIONS", "PGMCP_DYNAMIC_ALLOWED_HOSTS",
        "PGMCP_DYNAMIC_REQUIRE_SSL", "PGMCP_SESSION_MAX_DYNAMIC", "PGMCP_TRANSACTION_IDLE_TIMEOUT",
        "PGMCP_CURSOR_IDLE_TIMEOUT", "PGMCP_MAX_RESULT_BYTES", "PGMCP_MAX_REQUEST_BYTES", "PGMCP_LOG_LEVEL", "PGMCP_OAUTH_ISSUER", "PGMCP_OAUTH_AUDIENCE",
        "PGMCP_OAUTH_JWKS_FILE", "PGMCP_OAUTH_REQUIRED_SCOPES", "PGMCP_REPLICA_ID", "PGMCP_TOOLS", "PGMCP_FENCE_RESULTS",
    ]

    /// `http://` to this machine's loopback interface (the host parsed, not a prefix: not
    /// `http://localhost.example`).
    static func isLoopbackHTTP(_ url: String) -> Bool {
        guard url.hasPrefix("http://") else { return false }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return false }
        var host = String(authority)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return LoopbackHost.contains(host)
    }

    /// Whether `text` can name a replica: it ends up in handles, headers and a router's rules.
    public static func isReplicaID(_ text: String) -> Bool {
        (1...32).contains(text.count) && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
    }

    /// Six lowercase letters and digits from the system's random source.
    public static func randomReplicaID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`, as `LoopbackHost` parses them (not by prefix:
    /// `127.0.0.1.example.com` is a name that resolves anywhere).
    public var bindsLoopback: Bool { LoopbackHost.contains(host) }

    /// Binding beyond loopback without a token would hand every database to the network.
    public func bindingProblem() -> String? {
        guard transport == .http, !bindsLoopback, authToken == nil, oauthIssuer == nil else { return nil }
        return "binding \(host) (not a loopback address) requires PGMCP_AUTH_TOKEN (or --auth-token) or OAuth (PGMCP_OAUTH_ISSUER)"
    }
}

/// Reads typed `PGMCP_*` values, logging problems that name the variable.
struct VariableReader {
    let environment: [String: String]
    let log: ProblemLog

    func string(_ name: String) -> String? {
        guard let value = environment[name] else { return nil }
        let trimmed = value.trimmingWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    func integer(_ name: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            log.add("must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"", variable: name)
            return nil
        }
        return value
    }

    /// Seconds, fractions allowed (`0.5`), above zero.
    func seconds(_ name: String) -> Duration? {
        guard let text = string(name) else { return nil }
        guard let value = Double(text), value > 0, value <= 31_536_000 else {
            log.add("must be a number of seconds above 0, got \"\(text)\"", variable: name)
            return nil
        }
        return .seconds(roundedToMilliseconds: value)
    }

    func bool(_ name: String) -> Bool? {
        guard let text = string(name) else { return nil }
        guard let value = parseBool(text) else {
            log.add("must be true or false, got \"\(text)\"", variable: name)
            return nil
        }
        return value
    }

    func list(_ name: String) -> [String]? {
        guard let text = string(name) else { return nil }
        return text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) -> T? where T.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = T(rawValue: text.lowercased()) else {
            log.add("must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\"", variable: name)
            return nil
        }
        return value
    }
}
