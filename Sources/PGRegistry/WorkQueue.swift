import Synchronization

/// Work handed to one consumer that parks while there is none: a pool's connects, closes, checks
/// and timers for its `run()`, a registry's pools for `PoolGroup.run()`. Not ended by
/// cancellation: a cancelled consumer still gets what it was given (a pool shutting down still
/// closes what is open). `finish()` ends it once it is drained.
final class WorkQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var finished = false
        var consumer: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Queues `item`, unless the queue is finished: false then (nobody will take it).
    @discardableResult
    func add(_ item: Item) -> Bool {
        let (added, consumer) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.items.append(item)
            defer { state.consumer = nil }
            return (true, state.consumer)
        }
        consumer?.resume()
        return added
    }

    /// No more items: the consumer gets what is queued, then `nil`.
    func finish() {
        let consumer = state.withLock { state in
            state.finished = true
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// What is queued, waiting for some; `nil` once finished and drained. One consumer at a time.
    func next() async -> [Item]? {
        while true {
            let (items, finished) = state.withLock { state -> ([Item], Bool) in
                var taken: [Item] = []
                swap(&taken, &state.items)
                return (taken, state.finished)
            }
            if !items.isEmpty { return items }
            if finished { return nil }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.finished || !state.items.isEmpty { return true }
                    state.consumer = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
