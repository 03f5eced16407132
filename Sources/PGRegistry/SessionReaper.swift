/// Which sessions have been idle too long: pure, so it is tested with a manual clock.
///
/// Idle means no request and no call starting or ending for the idle timeout. A call still running
/// then does not keep the session alive: a client that died mid-call (or a call with no statement
/// timeout) would otherwise hold the session and its connection forever. Ending the session cancels
/// the call. Sessions that do not expire when idle (the stdio session, which lives as long as its
/// stream) are never candidates.
public enum SessionReaper {
    public struct Candidate: Sendable {
        public var handle: SessionHandle
        public var lastActivity: ContinuousClock.Instant
        public var expiresWhenIdle: Bool

        public init(handle: SessionHandle, lastActivity: ContinuousClock.Instant, expiresWhenIdle: Bool = true) {
            self.handle = handle
            self.lastActivity = lastActivity
            self.expiresWhenIdle = expiresWhenIdle
        }
    }

    public static func expired(
        _ sessions: [Candidate], now: ContinuousClock.Instant, idleTimeout: Duration
    ) -> [SessionHandle] {
        sessions.filter { $0.expiresWhenIdle && now - $0.lastActivity >= idleTimeout }.map(\.handle)
    }
}
