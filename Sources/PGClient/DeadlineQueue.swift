/// Whoever waits, ordered by when they give up: a pool's lease requests, the health probe's
/// callers, the watchdog's deadlines (`DeadlineSchedule`). One timer armed for `earliestDeadline` then serves them
/// all (a timer per waiter cost a task spawn and a cancel for every call that had to wait).
///
/// A pure value: no clock, no I/O; `removeExpired(now:)` is told the time. Equal deadlines keep
/// their arrival order.
public struct DeadlineQueue<ID: Equatable, Value> {
    public typealias Instant = ContinuousClock.Instant

    struct Entry {
        let id: ID
        let deadline: Instant
        var value: Value
    }

    /// Sorted by deadline, then arrival. Waits mostly share one timeout, so an insert usually
    /// lands at the end.
    private var entries: [Entry] = []

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// When the first waiter gives up: what the one timer is armed for.
    public var earliestDeadline: Instant? { entries.first?.deadline }

    public mutating func insert(_ id: ID, _ value: Value, deadline: Instant) {
        let entry = Entry(id: id, deadline: deadline, value: value)
        var index = entries.endIndex
        while index > entries.startIndex, entries[index - 1].deadline > deadline { index -= 1 }
        entries.insert(entry, at: index)
    }

    /// Takes waiter `id` out (served, cancelled); `nil` when it is not waiting.
    @discardableResult
    public mutating func remove(_ id: ID) -> Value? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        return entries.remove(at: index).value
    }

    /// When `id` gives up; nil when it is not waiting.
    public func deadline(of id: ID) -> Instant? {
        entries.first { $0.id == id }?.deadline
    }

    /// Takes out every waiter whose deadline is `now` or earlier, earliest first.
    public mutating func removeExpired(now: Instant) -> [(id: ID, value: Value)] {
        var end = entries.startIndex
        while end < entries.endIndex, entries[end].deadline <= now { end += 1 }
        guard end > entries.startIndex else { return [] }
        let expired = entries[..<end].map { (id: $0.id, value: $0.value) }
        entries.removeSubrange(..<end)
        return expired
    }

    /// Takes out every waiter, earliest deadline first.
    public mutating func removeAll() -> [(id: ID, value: Value)] {
        defer { entries.removeAll(keepingCapacity: true) }
        return entries.map { (id: $0.id, value: $0.value) }
    }
}
