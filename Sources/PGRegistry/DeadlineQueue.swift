/// Whoever waits, ordered by when they give up: a pool's lease requests, a session's slot
/// requests, the health probe's callers. One timer armed for `earliestDeadline` then serves them
/// all (a timer per waiter cost a task spawn and a cancel for every call that had to wait).
///
/// A pure value: no clock, no I/O; `removeExpired(now:)` is told the time. Entries keep their
/// arrival order too, for queues served first come first served (`removeOldest`).
struct DeadlineQueue<ID: Equatable, Value> {
    typealias Instant = ContinuousClock.Instant

    struct Entry {
        let id: ID
        let deadline: Instant
        /// Arrival number: breaks ties between equal deadlines, and orders `removeOldest`.
        let arrival: Int
        var value: Value
    }

    /// Sorted by deadline, then arrival. Waits mostly share one timeout, so an insert usually
    /// lands at the end.
    private var entries: [Entry] = []
    private var arrivals = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// When the first waiter gives up: what the one timer is armed for.
    var earliestDeadline: Instant? { entries.first?.deadline }

    mutating func insert(_ id: ID, _ value: Value, deadline: Instant) {
        let entry = Entry(id: id, deadline: deadline, arrival: arrivals, value: value)
        arrivals += 1
        var index = entries.endIndex
        while index > entries.startIndex, entries[index - 1].deadline > deadline { index -= 1 }
        entries.insert(entry, at: index)
    }

    /// Takes waiter `id` out (served, cancelled); `nil` when it is not waiting.
    mutating func remove(_ id: ID) -> Value? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        return entries.remove(at: index).value
    }

    /// Takes out the waiter that came first, whatever its deadline.
    mutating func removeOldest() -> (id: ID, value: Value)? {
        guard var oldest = entries.indices.first else { return nil }
        for index in entries.indices where entries[index].arrival < entries[oldest].arrival { oldest = index }
        let entry = entries.remove(at: oldest)
        return (entry.id, entry.value)
    }

    /// Takes out every waiter whose deadline is `now` or earlier, earliest first.
    mutating func removeExpired(now: Instant) -> [(id: ID, value: Value)] {
        var end = entries.startIndex
        while end < entries.endIndex, entries[end].deadline <= now { end += 1 }
        guard end > entries.startIndex else { return [] }
        let expired = entries[..<end].map { (id: $0.id, value: $0.value) }
        entries.removeSubrange(..<end)
        return expired
    }

    /// Takes out every waiter, earliest deadline first.
    mutating func removeAll() -> [(id: ID, value: Value)] {
        defer { entries.removeAll(keepingCapacity: true) }
        return entries.map { (id: $0.id, value: $0.value) }
    }
}
