import Testing

@testable import PGClient

/// The waiter queue shared by the pool, the health probe and the watchdog.
@Suite("Deadline queue") struct DeadlineQueueTests {
    let start = ContinuousClock.now

    @Test func theEarliestDeadlineComesFirstWhateverTheArrival() {
        var queue = DeadlineQueue<Int, String>()
        queue.insert(1, "long", deadline: start + .seconds(5))
        queue.insert(2, "short", deadline: start + .seconds(1))
        queue.insert(3, "middle", deadline: start + .seconds(3))
        #expect(queue.earliestDeadline == start + .seconds(1))
        #expect(queue.removeExpired(now: start + .seconds(3)).map(\.value) == ["short", "middle"])
        #expect(queue.earliestDeadline == start + .seconds(5))
        #expect(queue.removeExpired(now: start + .seconds(4)).isEmpty)
    }

    @Test func aServedOrCancelledWaiterLeavesTheQueue() {
        var queue = DeadlineQueue<Int, String>()
        queue.insert(1, "a", deadline: start + .seconds(1))
        queue.insert(2, "b", deadline: start + .seconds(2))
        #expect(queue.remove(1) == "a")
        #expect(queue.remove(1) == nil)
        #expect(queue.earliestDeadline == start + .seconds(2))
        #expect(queue.removeAll().map(\.value) == ["b"])
        #expect(queue.isEmpty && queue.earliestDeadline == nil)
    }
}
