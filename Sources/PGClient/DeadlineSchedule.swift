/// Which watches are past their deadline, and when a one-shot timer must next fire: the pure part
/// of `ConnectionWatchdog`, with `now` passed in.
///
/// The timer is armed for the earliest deadline, and only moved earlier on the hot path: a new
/// deadline later than the armed one (most are: every call's is its statement timeout from now)
/// touches no timer, and a removed watch leaves the timer as it is (it fires for nothing, finds the
/// next earliest deadline and arms for that), so watching a call costs a dictionary entry.
struct DeadlineSchedule<Instant: InstantProtocol> {
    /// The deadline of every watch that has one and has not fired, by watch.
    private(set) var deadlines: [UInt64: Instant] = [:]
    /// When the timer is armed to fire; `nil` while it is idle.
    private(set) var armed: Instant?

    /// Gives watch `id` `deadline` (a new one, or moved). Returns the instant to arm the timer for
    /// when it must fire sooner than it is armed for; `nil` when the timer is right as it is.
    mutating func set(_ id: UInt64, deadline: Instant) -> Instant? {
        deadlines[id] = deadline
        if let armed, armed <= deadline { return nil }
        armed = deadline
        return deadline
    }

    /// Moves `id`'s deadline to `soon` unless it is already as early (a watch without a deadline
    /// gets this one); returns what `set` returns.
    mutating func shorten(_ id: UInt64, to soon: Instant) -> Instant? {
        if let current = deadlines[id], current <= soon { return nil }
        return set(id, deadline: soon)
    }

    /// Forgets watch `id`; the timer keeps its instant.
    mutating func remove(_ id: UInt64) {
        deadlines[id] = nil
    }

    /// The timer fired at `now`: the watches past their deadline, earliest first (forgotten here,
    /// each fires once), and when the timer must fire next (`nil`: nothing left to wait for).
    mutating func fire(now: Instant) -> (expired: [UInt64], next: Instant?) {
        var expired: [(id: UInt64, deadline: Instant)] = []
        var next: Instant?
        for (id, deadline) in deadlines {
            if deadline <= now {
                expired.append((id, deadline))
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        for watch in expired { deadlines[watch.id] = nil }
        armed = next
        return (expired.sorted { $0.deadline < $1.deadline }.map(\.id), next)
    }
}
