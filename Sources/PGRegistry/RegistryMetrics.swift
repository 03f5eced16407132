import Metrics
import Synchronization

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

    /// Per-database call counters, made once: asking the metrics backend for them on every call
    /// cost a lookup under its lock each time.
    private let callCounters = CallCounters()

    func callFinished(database: String, failed: Bool) {
        let (calls, errors) = callCounters.counters(for: database)
        calls.increment()
        if failed { errors.increment() }
    }
}

final class CallCounters: Sendable {
    private let made = Mutex<[String: (calls: Counter, errors: Counter)]>([:])

    func counters(for database: String) -> (calls: Counter, errors: Counter) {
        made.withLock { made in
            if let counters = made[database] { return counters }
            let counters = (
                calls: Counter(label: "pgmcp_database_calls_total", dimensions: [("database", database)]),
                errors: Counter(label: "pgmcp_database_call_errors_total", dimensions: [("database", database)])
            )
            made[database] = counters
            return counters
        }
    }
}
