import Metrics

/// Session and call counters (swift-metrics).
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

    func callFinished(database: String, failed: Bool) {
        Counter(label: "pgmcp_database_calls_total", dimensions: [("database", database)]).increment()
        if failed { Counter(label: "pgmcp_database_call_errors_total", dimensions: [("database", database)]).increment() }
    }
}
