import Metrics

/// Session counters (swift-metrics); per-database call counters are in `PoolMetrics`.
struct RegistryMetrics: Sendable {
    let sessions = Gauge(label: "pgmcp_sessions")
    let created = Counter(label: "pgmcp_sessions_created_total")

    func sessionCreated(count: Int) {
        created.increment()
        sessions.record(count)
    }

    func sessionEnded(count: Int, reason: String) {
        Counter(label: "pgmcp_sessions_ended_total", dimensions: [("reason", reason)]).increment()
        sessions.record(count)
    }
}
