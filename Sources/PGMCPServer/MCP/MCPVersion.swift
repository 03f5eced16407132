import PGMCPBuild
import PGMCPJSON

/// Protocol versions this server speaks, newest first, and the negotiation rule of the lifecycle spec:
/// answer with the client's version when we support it, else with our newest.
public enum MCPVersion {
    public static let supported = ["2025-11-25", "2025-06-18", "2025-03-26"]
    public static let latest = supported[0]

    public static func negotiate(_ requested: String?) -> String {
        guard let requested, supported.contains(requested) else { return latest }
        return requested
    }

    public static let serverName = "pgmcp"
    public static let serverVersion = BuildInfo.version
}

extension MCPVersion {
    /// JSON-RPC batches: in 2025-03-26 only (2025-06-18 removed them).
    static func allowsBatches(_ version: String) -> Bool { version < "2025-06-18" }
}
