import Metrics
import Synchronization

/// `pgmcp_requests_total{protocol, method}`: requests by protocol version, so an operator sees
/// which clients still speak which era. Only versions this server speaks and methods it serves are
/// labels (anything else is counted as method "other"): a client cannot grow the label set.
enum ProtocolMetrics {
    static let methods: Set<String> = ["server/discover", "tools/list", "tools/call", "ping", "initialize"]
    private static let counters = Mutex<[String: Counter]>([:])

    static func record(version: String, method: String) {
        guard MCPVersion.supported.contains(version) || ModernProtocol.supported.contains(version) else { return }
        let label = methods.contains(method) ? method : "other"
        let key = version + " " + label
        let counter = counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = Counter(label: "pgmcp_requests_total", dimensions: [("protocol", version), ("method", label)])
            counters[key] = made
            return made
        }
        counter.increment()
    }
}
