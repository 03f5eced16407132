/// What the pool state machine keeps of each connection and waiter, and what it learnt of the
/// database; and the counts it reports from them (`snapshot`).
extension PoolStateMachine {
    enum State: Sendable, Equatable {
        case connecting
        case idle(since: Instant)
        case leased(RequestID)
        case checking
        case closing
    }

    struct Connection: Sendable {
        var state: State
        var expiresAt: Instant?
        var lastChecked: Instant
    }

    struct Waiter: Sendable {
        var request: RequestID
        var since: Instant
    }

    struct Failure: Sendable {
        var reason: String
        var consecutive: Int
        var nextAttemptAt: Instant
    }

    /// What the database last told us, and when: the pool's health.
    struct Evidence: Sendable {
        /// `nil` when it answered.
        var problem: String?
        var at: Instant
    }

    /// Counts by state in one pass, without allocating: it runs on every lease and release.
    public func snapshot() -> Snapshot {
        var idle = 0, inUse = 0, connecting = 0, closing = 0
        for connection in connections.values {
            switch connection.state {
            case .idle: idle += 1
            case .leased: inUse += 1
            case .connecting: connecting += 1
            case .closing: closing += 1
            case .checking: break
            }
        }
        return Snapshot(
            open: connections.count - connecting - closing, idle: idle, inUse: inUse, connecting: connecting,
            closing: closing, waiting: waiters.count, maximum: configuration.maximum,
            health: evidence.map { $0.problem == nil ? .healthy : .unhealthy } ?? .unknown,
            lastError: evidence?.problem, refusal: refusal)
    }
}
