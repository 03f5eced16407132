import PGConfig
import PGMCPJSON

/// What a client (or the person behind it) should know before trusting this server with a task:
/// which databases can be written, how callers are authenticated, whether results are fenced as
/// data, whether sessions may connect databases of their own. In `server_status` (for the
/// caller's databases) and in `server/discover`'s `_meta`.
enum SecurityPosture {
    static let metaKey = "io.pgmcp/securityPosture"

    /// - Parameter databases: (name, read-only) of the databases to name; nil to name none (under
    ///   OAuth, `server/discover` is not the place to tell a caller about databases it cannot use).
    static func json(settings: ServerSettings, databases: [(name: String, readOnly: Bool)]?) -> JSONValue {
        var posture = JSONObject([
            ("auth", .string(authMode(settings))), ("fencedResults", .bool(settings.fenceResults)),
            ("dynamicConnections", .bool(settings.allowDynamicConnections)),
        ])
        if let databases {
            posture["readOnlyDatabases"] = .array(databases.filter(\.readOnly).map { .string($0.name) })
            posture["writableDatabases"] = .array(databases.filter { !$0.readOnly }.map { .string($0.name) })
        } else {
            posture["databases"] = "per caller: see server_status"
        }
        return .object(posture)
    }

    static func authMode(_ settings: ServerSettings) -> String {
        if settings.transport == .stdio { return "stdio (the local user that started the process)" }
        if settings.oauthIssuer != nil { return settings.authToken == nil ? "oauth" : "oauth and bearer token" }
        if settings.authToken != nil { return "bearer token" }
        return "none (loopback only)"
    }
}
