import PGRegistry
import TestSupport
import Testing

@Suite("Cancellable calls") struct CancellableCallsTests {
    @Test func aRegisteredCallIsCancelledFromOutside() async throws {
        let calls = CancellableCalls<Int>()
        let task = Task {
            await calls.run(1) { () async -> Bool in
                try? await Task.sleep(for: .seconds(30))
                return Task.isCancelled
            }
        }
        try #require(await eventually(within: .seconds(10)) { calls.count == 1 })
        let started = ContinuousClock.now
        calls.cancel(1)
        #expect(await task.value == true)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(calls.count == 0)
    }

    @Test func closingCancelsEverythingWaitsAndRefusesNewCalls() async throws {
        let calls = CancellableCalls<Int>()
        let tasks = (0..<5).map { key in
            Task {
                await calls.run(key) { () async -> Bool in
                    try? await Task.sleep(for: .seconds(30))
                    return Task.isCancelled
                }
            }
        }
        try #require(await eventually(within: .seconds(10)) { calls.count == 5 })
        await calls.closeAndDrain()
        #expect(calls.count == 0)
        for task in tasks { #expect(await task.value == true) }
        #expect(await calls.run(9) { 1 } == nil)
    }

    @Test func nestedRegistrationsOfOneTaskBothCancel() async throws {
        let outer = CancellableCalls<String>()
        let inner = CancellableCalls<Int>()
        let task = Task {
            await outer.run("a") {
                await inner.run(1) { () async -> Bool in
                    try? await Task.sleep(for: .seconds(30))
                    return Task.isCancelled
                }
            }
        }
        try #require(await eventually(within: .seconds(10)) { inner.count == 1 })
        outer.cancel("a")
        #expect(await task.value == .some(.some(true)))
    }

    @Test func callsOfOneTagAreCancelledAndAwaitedTogetherAndTheOthersRunOn() async throws {
        let calls = CancellableCalls<Int>()
        func sleeper(_ key: Int, tag: UInt64) -> Task<Bool?, Never> {
            Task {
                await calls.run(key, tag: tag) { () async -> Bool in
                    try? await Task.sleep(for: .seconds(30))
                    return Task.isCancelled
                }
            }
        }
        let closed = [sleeper(1, tag: 7), sleeper(2, tag: 7)]
        let other = sleeper(3, tag: 8)
        try #require(await eventually(within: .seconds(10)) { calls.count == 3 })
        let started = ContinuousClock.now
        await calls.cancelAndDrain(tag: 7)
        #expect(ContinuousClock.now - started < .seconds(1))
        for task in closed { #expect(await task.value == true) }
        #expect(calls.count == 1)
        // Nothing of that tag runs: returns at once. The other call was never touched.
        await calls.cancelAndDrain(tag: 7)
        calls.cancel(3)
        #expect(await other.value == true)
    }

    /// A key reused while its first call still runs (a client reusing a JSON-RPC id): the first
    /// call's end must not take the second's registration with it, or nothing could cancel it.
    @Test func aKeyUsedTwiceKeepsTheLaterCallCancellableAfterTheFirstEnds() async throws {
        let calls = CancellableCalls<Int>()
        let (firstMayEnd, letFirstEnd) = AsyncStream<Void>.makeStream()
        let first = Task {
            await calls.run(1) { () async -> Bool in
                for await _ in firstMayEnd {}
                return Task.isCancelled
            }
        }
        try #require(await eventually(within: .seconds(10)) { calls.count == 1 })
        let second = Task {
            await calls.run(1) { () async -> Bool in
                try? await Task.sleep(for: .seconds(30))
                return Task.isCancelled
            }
        }
        try #require(await eventually(within: .seconds(10)) { calls.count == 2 })
        letFirstEnd.finish()
        #expect(await first.value == false)
        #expect(calls.count == 1)
        let started = ContinuousClock.now
        calls.cancel(1)
        #expect(await second.value == true)
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}
