import Synchronization

extension Mutex where Value: ~Copyable {
    /// Waits for something this mutex guards. `register` runs under the lock: it returns true when
    /// the wait is already over, or keeps the continuation, which whoever ends the wait resumes.
    /// (Checking and registering under one lock is what makes the wake-up impossible to miss.)
    public func wait(unlessDone register: (inout Value, CheckedContinuation<Void, Never>) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if withLock({ register(&$0, continuation) }) { continuation.resume() }
        }
    }
}
