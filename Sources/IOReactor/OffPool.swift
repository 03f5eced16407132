import Dispatch

/// Runs blocking work (a file read, a lookup, a child process) on a dispatch thread, so it never
/// parks a thread of Swift's cooperative pool.
public func offPool<R: Sendable>(_ body: @escaping @Sendable () throws -> R) async throws -> R {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// `offPool` for work that cannot fail.
public func offPool<R: Sendable>(_ body: @escaping @Sendable () -> R) async -> R {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}

/// Starts blocking work on a dispatch thread and returns at once, for work whose caller may be
/// answered before it ends (a host name lookup past its deadline still runs to its end there).
public func startOffPool(_ body: @escaping @Sendable () -> Void) {
    DispatchQueue.global().async(execute: body)
}
