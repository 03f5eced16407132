import Synchronization
import Testing

@testable import PGRegistry

/// A session's connection allowance, on a manual clock: no sleeps, no PostgreSQL.
@Suite("Session slots") struct SessionSlotsTests {
    static let timedOut: @Sendable (Duration) -> RegistryError = { RegistryError(.sessionLimit, "waited \($0)") }

    /// One slot of one, already taken: the next `acquire` waits.
    func takenSlots() async throws -> (ManualClock, SessionSlots) {
        let clock = ManualClock()
        let slots = SessionSlots(limit: 1, clock: clock)
        try await slots.acquire(timeout: .seconds(1), timedOut: Self.timedOut)
        return (clock, slots)
    }

    @Test func aWaiterGivesUpAtItsDeadline() async throws {
        let (clock, slots) = try await takenSlots()
        let waited = Task { try await slots.acquire(timeout: .seconds(2), timedOut: Self.timedOut) }
        await clock.sleeperUntil(.seconds(2))
        clock.advance(by: .seconds(2))
        let error = await #expect(throws: RegistryError.self) { try await waited.value }
        #expect(error?.message == "waited 2.0 seconds")
        #expect(slots.inUse == 1)
    }

    /// Out of order, the first waiter would wait for ever on the manual clock: the time limit turns
    /// that into a failure.
    @Test(.timeLimit(.minutes(1))) func slotsAreHandedOverFirstComeFirstServed() async throws {
        let (clock, slots) = try await takenSlots()
        let order = Order()
        async let first: Void = {
            try await slots.acquire(timeout: .seconds(10), timedOut: Self.timedOut); order.append(1)
        }()
        // In line, not only its timer armed: its timer can be running before it has queued.
        await Self.until { slots.waiting == 1 }
        await clock.sleeperUntil(.seconds(10))
        clock.advance(by: .seconds(1))
        async let second: Void = {
            try await slots.acquire(timeout: .seconds(5), timedOut: Self.timedOut); order.append(2)
        }()
        await Self.until { slots.waiting == 2 }
        await clock.sleeperUntil(.seconds(6))
        slots.release()
        try await first
        #expect(order.values == [1])
        slots.release()
        try await second
        #expect(order.values == [1, 2])
        slots.release()
        #expect(slots.inUse == 0)
    }

    /// A task cancelled before it asks runs its cancellation handler at once, before its wait has
    /// queued: the wait must still end (it waited for a release that might never come).
    @Test(.timeLimit(.minutes(1))) func aWaitCancelledBeforeItQueuesEndsAtOnce() async throws {
        let (_, slots) = try await takenSlots()
        let waited = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await slots.acquire(timeout: .seconds(10), timedOut: Self.timedOut)
        }
        let error = await #expect(throws: RegistryError.self) { try await waited.value }
        #expect(error?.kind == .cancelled)
        #expect(slots.inUse == 1 && slots.waiting == 0)
    }

    /// Yields until `condition` holds: for a state another task reaches without any clock.
    static func until(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    @Test func theSessionsEndFailsEveryWaiterAndEveryLaterRequest() async throws {
        let (clock, slots) = try await takenSlots()
        let waiting = Task { try await slots.acquire(timeout: .seconds(10), timedOut: Self.timedOut) }
        await clock.sleeperUntil(.seconds(10))
        slots.close(with: RegistryError(.sessionEnded, "ended"))
        await #expect(throws: RegistryError.self) { try await waiting.value }
        await #expect(throws: RegistryError.self) { try await slots.acquire(timeout: .seconds(1), timedOut: Self.timedOut) }
    }
}

final class Order: Sendable {
    private let list = Mutex<[Int]>([])
    func append(_ value: Int) { list.withLock { $0.append(value) } }
    var values: [Int] { list.withLock { $0 } }
}
