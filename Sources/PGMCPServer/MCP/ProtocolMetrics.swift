import Metrics

/// `pgmcp_requests_total{protocol, method}`: requests by protocol version, so an operator sees
/// which clients still speak which era. Only versions this server speaks and methods it serves are
/// labels (anything else is counted as method "other"): a client cannot grow the label set.
enum ProtocolMetrics {
    static let methods = ["server/discover", "tools/list", "tools/call", "ping", "initialize", "other"]

    /// Every counter, made once at first use (after the metrics backend is bootstrapped): a request
    /// pays two dictionary reads, no lock and no string built.
    private static let counters: [String: [String: Counter]] = Dictionary(
        uniqueKeysWithValues: (MCPVersion.supported + ModernProtocol.supported).map { version in
            (version, Dictionary(uniqueKeysWithValues: methods.map { ($0, Counter(label: "pgmcp_requests_total", dimensions: [("protocol", version), ("method", $0)])) }))
        })

    static func record(version: String, method: String) {
        guard let byMethod = counters[version] else { return }
        (byMethod[method] ?? byMethod["other"])?.increment()
    }
}
