import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs parses on threads of their own with a stack of a chosen size, for texts whose tree may nest
/// deeper than a thread of Swift's pool can take, or whose scan takes long (see `StatementSize`).
/// Each thread ends with its parse, and with it the stack it touched; at most `limit` run at once,
/// later ones wait their turn in order.
final class ParserThread: Sendable {
    let limit: Int
    let stackBytes: Int

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    init(limit: Int, stackBytes: Int) {
        self.limit = limit
        self.stackBytes = stackBytes
    }

    /// `body`'s result, or nil when no thread could be started (the process is at its limit).
    func run<R: Sendable>(_ body: @escaping @Sendable () -> R) async -> R? {
        await acquire()
        defer { release() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<R?, Never>) in
            let job = Job { continuation.resume(returning: body()) }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, stackBytes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            let context = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(
                &thread, &attributes,
                { context in
                    Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().body()
                    return nil
                }, context)
            if created != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                continuation.resume(returning: nil)
            }
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { state -> Bool in
                guard state.running >= limit else {
                    state.running += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// Hands the slot to the next waiter, if any, else frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    private final class Job: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
