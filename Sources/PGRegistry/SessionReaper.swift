/// Which sessions have been idle too long: pure, so it is tested with a manual clock.
/// A session with a call in flight is never idle, however long the call runs.
public enum SessionReaper {
    public struct Candidate: Sendable {
        public var handle: SessionHandle
        public var lastActivity: ContinuousClock.Instant
        public var callsInFlight: Int

        public init(handle: SessionHandle, lastActivity: ContinuousClock.Instant, callsInFlight: Int) {
            self.handle = handle
            self.lastActivity = lastActivity
            self.callsInFlight = callsInFlight
        }
    }

    public static func expired(
        _ sessions: [Candidate], now: ContinuousClock.Instant, idleTimeout: Duration
    ) -> [SessionHandle] {
        sessions.filter { $0.callsInFlight == 0 && now - $0.lastActivity >= idleTimeout }.map(\.handle)
    }
}
