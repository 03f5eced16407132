import Metrics

/// A pool's metrics (swift-metrics; exported by whatever backend the process bootstraps, e.g.
/// Prometheus): connection counts by state, waiting requests, acquire wait, closes by reason.
struct PoolMetrics: Sendable {
    let open: Gauge
    let idle: Gauge
    let inUse: Gauge
    let waiting: Gauge
    let maximum: Gauge
    let acquire: Timer
    let connectFailures: Counter
    /// Calls that used this database, and those that failed (made once, like the others).
    let calls: Counter
    let callErrors: Counter
    let dimensions: [(String, String)]
    /// `pgmcp_pool_connection_closes_total` by reason, made up front so that `destroy` finds them all.
    let closes: [PoolStateMachine.CloseReason: Counter]

    init(database: String, pool: String) {
        let dimensions = [("database", database), ("pool", pool)]
        self.dimensions = dimensions
        closes = Dictionary(
            uniqueKeysWithValues: PoolStateMachine.CloseReason.allCases.map { reason in
                (reason, Counter(label: "pgmcp_pool_connection_closes_total", dimensions: dimensions + [("reason", reason.rawValue)]))
            })
        open = Gauge(label: "pgmcp_pool_connections_open", dimensions: dimensions)
        idle = Gauge(label: "pgmcp_pool_connections_idle", dimensions: dimensions)
        inUse = Gauge(label: "pgmcp_pool_connections_in_use", dimensions: dimensions)
        waiting = Gauge(label: "pgmcp_pool_requests_waiting", dimensions: dimensions)
        maximum = Gauge(label: "pgmcp_pool_connections_max", dimensions: dimensions)
        acquire = Timer(label: "pgmcp_pool_acquire_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        connectFailures = Counter(label: "pgmcp_pool_connect_failures_total", dimensions: dimensions)
        calls = Counter(label: "pgmcp_database_calls_total", dimensions: dimensions)
        callErrors = Counter(label: "pgmcp_database_call_errors_total", dimensions: dimensions)
    }

    func update(_ snapshot: PoolStateMachine.Snapshot) {
        open.record(snapshot.open)
        idle.record(snapshot.idle)
        inUse.record(snapshot.inUse)
        waiting.record(snapshot.waiting)
        maximum.record(snapshot.maximum)
    }

    func recordAcquire(_ wait: Duration) { acquire.record(duration: wait) }

    func recordClose(_ reason: PoolStateMachine.CloseReason) {
        closes[reason]?.increment()
    }

    /// Removes the pool's series (a session's pool that closed): they would otherwise stay exported
    /// at their last values for as long as the process runs.
    func destroy() {
        for gauge in [open, idle, inUse, waiting, maximum] { gauge.destroy() }
        acquire.destroy()
        connectFailures.destroy()
        calls.destroy()
        callErrors.destroy()
        for counter in closes.values { counter.destroy() }
    }

    func recordConnectFailure() { connectFailures.increment() }

    func recordCall(failed: Bool) {
        calls.increment()
        if failed { callErrors.increment() }
    }
}
