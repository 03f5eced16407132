/// Which sessions have been idle too long: pure, so it is tested with a manual clock.
///
/// Idle means no request and no call starting or ending for the idle timeout. A call still running
/// keeps its session alive only while it has a deadline (its database's statement timeout plus the
/// grace, enforced by `ConnectionWatchdog`), so a legitimate long statement is not cut off; a call with no
/// deadline (`statementTimeoutMs: 0`) does not, or a client that died mid-call would hold the
/// session and its connection for ever. Ending the session cancels the call. Sessions that do not
/// expire when idle (the stdio session, which lives as long as its stream) are never candidates.
public enum SessionReaper {
    public struct Candidate: Sendable {
        public var handle: SessionHandle
        public var lastActivity: ContinuousClock.Instant
        public var expiresWhenIdle: Bool
        /// Calls running now, and how many of them have no deadline of ours.
        public var callsInFlight: Int
        public var unboundedCallsInFlight: Int

        public init(
            handle: SessionHandle, lastActivity: ContinuousClock.Instant, expiresWhenIdle: Bool = true, callsInFlight: Int = 0,
            unboundedCallsInFlight: Int = 0
        ) {
            self.handle = handle
            self.lastActivity = lastActivity
            self.expiresWhenIdle = expiresWhenIdle
            self.callsInFlight = callsInFlight
            self.unboundedCallsInFlight = unboundedCallsInFlight
        }
    }

    public static func expired(
        _ sessions: [Candidate], now: ContinuousClock.Instant, idleTimeout: Duration
    ) -> [SessionHandle] {
        sessions.filter { session in
            session.expiresWhenIdle && now - session.lastActivity >= idleTimeout
                && (session.callsInFlight == 0 || session.unboundedCallsInFlight > 0)
        }.map(\.handle)
    }
}
