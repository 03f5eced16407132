/// Values the pool state machine takes and emits.
extension PoolStateMachine {
    public typealias Instant = ContinuousClock.Instant
    public typealias ConnectionID = Int
    public typealias RequestID = Int

    /// Pool behaviour. Defaults match CONTRACT.md's `pool` object and server settings.
    public struct Configuration: Sendable, Equatable {
        /// Connections kept open even when idle. Defaults to 0.
        public var minimum = 0
        /// Connections open (or opening, or closing) at most. Defaults to 10.
        public var maximum = 10
        /// Idle connections above `minimum` close after this long unused. Defaults to 300 s.
        public var idleTimeout: Duration = .seconds(300)
        /// Connections are recycled after about this long; `nil` keeps them forever. Defaults to 1800 s.
        public var maxLifetime: Duration? = .seconds(1800)
        /// Idle connections are checked (`SELECT 1`) this often. Defaults to 30 s.
        public var healthCheckInterval: Duration = .seconds(30)
        /// First wait after a failed connect; doubles per failure. Defaults to 250 ms.
        public var backoffInitial: Duration = .milliseconds(250)
        /// Longest wait between connect attempts. Defaults to 30 s.
        public var backoffMaximum: Duration = .seconds(30)

        public init() {}
    }

    /// What the shell must do.
    public enum Action: Sendable, Equatable {
        /// Hand connection `id` to request `request`.
        case lease(ConnectionID, to: RequestID)
        /// Fail request `request`.
        case fail(RequestID, LeaseFailure)
        /// Open connection `id`, then report `connectionEstablished` or `connectionFailed`.
        case connect(ConnectionID)
        /// Close connection `id`, then report `connectionClosed`.
        case close(ConnectionID, CloseReason)
        /// Check idle connection `id`, then report `checkSucceeded` or `checkFailed`.
        case check(ConnectionID)
    }

    /// Why a connection closed, in words a DBA reads in the log (PgBouncer's habit).
    public enum CloseReason: String, Sendable, CaseIterable {
        case idleTimeout = "idle timeout"
        case lifetime = "lifetime over"
        case broken = "broken"
        case dirty = "could not be reset"
        case healthCheckFailed = "health check failed"
        case shutdown = "shutdown"
    }

    public enum LeaseFailure: Sendable, Equatable {
        /// No connection came free (or was opened) before the deadline. `opening` connections were
        /// still being established.
        case exhausted(inUse: Int, maximum: Int, opening: Int, waiting: Int, waited: Duration)
        /// The database cannot be reached; the next connect attempt is `retryIn` away.
        case unavailable(reason: String, retryIn: Duration)
        case shutdown
        case cancelled
    }

    /// How a connection came back.
    public enum ReleaseOutcome: Sendable, Equatable {
        /// Clean (idle transaction status, session state reset): may serve the next request.
        case reusable
        /// Must be closed, for this reason.
        case close(CloseReason)
    }

    /// `unhealthy` when the last connect or health check failed, `healthy` when it (or a call the
    /// database served since) succeeded, `unknown` before the first attempt.
    public enum Health: String, Sendable {
        case healthy, unhealthy, unknown
    }

    public struct Snapshot: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var inUse: Int
        public var connecting: Int
        public var closing: Int
        public var waiting: Int
        public var maximum: Int
        public var health: Health
        /// Why it is unhealthy: the last failed connect's or health check's error.
        public var lastError: String?
        /// A refusal of the pool's connections that lasts (`privilegeCheck: "enforce"`), if any.
        public var refusal: String? = nil
    }
}
