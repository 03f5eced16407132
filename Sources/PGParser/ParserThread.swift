#if canImport(Glibc)
import Glibc
#endif

/// Runs a parse on a thread of its own with a stack of a chosen size, for texts whose tree may nest
/// deeper than a thread of Swift's pool can take (see `StatementSize`). The thread ends with the
/// parse, and with it the stack it touched.
enum ParserThread {
    /// `body`'s result, or nil when no thread could be started (the process is at its limit).
    static func run<R: Sendable>(stackBytes: Int, _ body: @escaping @Sendable () -> R) async -> R? {
        await withCheckedContinuation { (continuation: CheckedContinuation<R?, Never>) in
            let job = Job {
                continuation.resume(returning: body())
            }
            var attributes = pthread_attr_t()
            pthread_attr_init(&attributes)
            defer { pthread_attr_destroy(&attributes) }
            pthread_attr_setstacksize(&attributes, stackBytes)
            pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
            let context = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let created = pthread_create(&thread, &attributes, { context in
                Unmanaged<Job>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
            if created != 0 {
                Unmanaged<Job>.fromOpaque(context).release()
                continuation.resume(returning: nil)
            }
        }
    }

    private final class Job: Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
