import PGRegistry
import Testing

@Suite("Cancellable calls") struct CancellableCallsTests {
    @Test func aRegisteredCallIsCancelledFromOutside() async throws {
        let calls = CancellableCalls<Int>()
        let task = Task { await calls.run(1) { () async -> Bool in
            try? await Task.sleep(for: .seconds(30))
            return Task.isCancelled
        } }
        try await Task.sleep(for: .milliseconds(100))
        #expect(calls.count == 1)
        let started = ContinuousClock.now
        calls.cancel(1)
        #expect(await task.value == true)
        #expect(ContinuousClock.now - started < .seconds(1))
        #expect(calls.count == 0)
    }

    @Test func closingCancelsEverythingWaitsAndRefusesNewCalls() async throws {
        let calls = CancellableCalls<Int>()
        let tasks = (0..<5).map { key in Task { await calls.run(key) { () async -> Bool in
            try? await Task.sleep(for: .seconds(30))
            return Task.isCancelled
        } } }
        try await Task.sleep(for: .milliseconds(100))
        await calls.closeAndDrain()
        #expect(calls.count == 0)
        for task in tasks { #expect(await task.value == true) }
        #expect(await calls.run(9) { 1 } == nil)
    }

    @Test func nestedRegistrationsOfOneTaskBothCancel() async throws {
        let outer = CancellableCalls<String>()
        let inner = CancellableCalls<Int>()
        let task = Task { await outer.run("a") { await inner.run(1) { () async -> Bool in
            try? await Task.sleep(for: .seconds(30))
            return Task.isCancelled
        } } }
        try await Task.sleep(for: .milliseconds(100))
        outer.cancel("a")
        #expect(await task.value == .some(.some(true)))
    }
}
