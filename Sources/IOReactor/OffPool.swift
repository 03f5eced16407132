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
