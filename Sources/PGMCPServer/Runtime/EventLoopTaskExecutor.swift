import NIOCore
import NIOPosix

/// Runs the server's tasks on NIO's event loops instead of Swift's global pool.
///
/// Hummingbird hands every request from the event loop that read it to a task, and the response
/// back; on the global pool each of those hand-offs wakes another thread, and waking threads was
/// most of what a call cost (see `BENCHMARKS.md`). With this executor preferred, a task resumed by
/// an event loop runs on that same loop, after the I/O it is handling, with no wake-up at all;
/// a task resumed from elsewhere (PostgreSQL's answer, from `PGReactor`) goes to the next loop.
///
/// Everything that runs here must not block, which is the rule for the cooperative pool too:
/// libpq waits in `PGReactor`, blocking libpq work (connect, cancel, close) on dispatch queues.
final class EventLoopTaskExecutor: TaskExecutor {
    /// On Hummingbird's default event loops.
    static let shared = EventLoopTaskExecutor()

    /// The executor the server runs on, for the unstructured tasks it starts (which do not
    /// inherit an executor preference, but do inherit task-locals).
    @TaskLocal static var current = EventLoopTaskExecutor.shared

    private let group: MultiThreadedEventLoopGroup

    init(group: MultiThreadedEventLoopGroup = .singleton) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
