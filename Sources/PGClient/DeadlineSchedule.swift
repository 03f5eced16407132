/// Which watches are past their deadline, and when a one-shot timer must next fire: the pure part
/// of `ConnectionWatchdog`, with `now` passed in. The deadlines are a `DeadlineQueue`, the one the
/// pools use for their waiters; this adds the timer's instant.
///
/// The timer is armed for the earliest deadline, and only moved earlier on the hot path: a new
/// deadline later than the armed one (most are: every call's is its statement timeout from now)
/// touches no timer, and a removed watch leaves the timer as it is (it fires for nothing, finds the
/// next earliest deadline and arms for that), so watching a call costs a queue entry.
struct DeadlineSchedule {
    typealias Instant = ContinuousClock.Instant

    /// The deadline of every watch that has one and has not fired.
    private var queue = DeadlineQueue<UInt64, Void>()
    /// When the timer is armed to fire; `nil` while it is idle.
    private(set) var armed: Instant?

    /// Watch `id`'s deadline, when it has one that has not passed.
    func deadline(of id: UInt64) -> Instant? { queue.deadline(of: id) }

    /// Gives the new watch `id` `deadline`. Returns the instant to arm the timer for when it must
    /// fire sooner than it is armed for; `nil` when the timer is right as it is.
    mutating func set(_ id: UInt64, deadline: Instant) -> Instant? {
        queue.insert(id, (), deadline: deadline)
        if let armed, armed <= deadline { return nil }
        armed = deadline
        return deadline
    }

    /// Moves `id`'s deadline to `soon` unless it is already as early (a watch without a deadline
    /// gets this one); returns what `set` returns.
    mutating func shorten(_ id: UInt64, to soon: Instant) -> Instant? {
        if let current = queue.deadline(of: id), current <= soon { return nil }
        queue.remove(id)
        return set(id, deadline: soon)
    }

    /// Forgets watch `id`; the timer keeps its instant.
    mutating func remove(_ id: UInt64) {
        queue.remove(id)
    }

    /// The timer fired at `now`: the watches past their deadline, earliest first (forgotten here,
    /// each fires once), and when the timer must fire next (`nil`: nothing left to wait for).
    mutating func fire(now: Instant) -> (expired: [UInt64], next: Instant?) {
        let expired = queue.removeExpired(now: now).map(\.id)
        armed = queue.earliestDeadline
        return (expired, armed)
    }
}
