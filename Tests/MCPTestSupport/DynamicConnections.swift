import PGConfig
import TestSupport

/// Dynamic connections (`connect_database`) in tests: the settings that allow them to the test
/// cluster, and connection strings to it.
public enum DynamicConnections {
    /// Dynamic connections allowed to the test cluster's loopback address, TLS not required (the
    /// test cluster has none); `tweak` changes more.
    public static func allowed(_ tweak: @escaping (inout ServerSettings) -> Void = { _ in }) -> (inout ServerSettings) -> Void {
        { settings in
            settings.allowDynamicConnections = true
            settings.dynamicAllowedHosts = [HostPattern("127.0.0.1")!]
            settings.dynamicRequireSSL = false
            tweak(&settings)
        }
    }

    public static func url(database: String, host: String? = nil, password: String? = nil, extra: String = "") throws -> String {
        let secret = SecretFragments.percentEncoded(try password ?? TestDatabase.password)
        return "postgresql://\(try TestDatabase.user):\(secret)@\(try host ?? TestDatabase.host):\(try TestDatabase.port)/\(database)\(extra)"
    }
}
