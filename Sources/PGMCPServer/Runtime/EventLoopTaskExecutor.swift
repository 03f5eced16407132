import NIOCore
import NIOPosix

/// Runs the server's tasks on NIO's event loops instead of Swift's global pool.
///
/// Hummingbird hands every request from the event loop that read it to a task, and the response
/// back; on the global pool each of those hand-offs wakes another thread, and waking threads was
/// most of what a call cost (see `BENCHMARKS.md`). With this executor preferred, a task resumed by
/// an event loop runs on that same loop, after the I/O it is handling, with no wake-up at all.
/// A request is then pinned to its connection's loop (`pinned(to:)`), so that when PostgreSQL's
/// answer resumes it (from `IOReactor`'s thread) it returns to the loop that writes its response.
///
/// Everything that runs here must not block, which is the rule for the cooperative pool too:
/// libpq waits in `IOReactor`, blocking libpq work (connect, cancel, close) on dispatch queues.
final class EventLoopTaskExecutor: TaskExecutor {
    /// On Hummingbird's default event loops.
    static let shared = EventLoopTaskExecutor()

    /// The executor the server runs on, for the unstructured tasks it starts (which do not
    /// inherit an executor preference, but do inherit task-locals).
    @TaskLocal static var current: any TaskExecutor = EventLoopTaskExecutor.shared

    private let group: MultiThreadedEventLoopGroup
    /// Set for an executor that always runs on one loop.
    private let loop: (any EventLoop)?
    /// One executor per loop of the group, made with it (looked up on every request, so no lock).
    private let pinnedExecutors: [ObjectIdentifier: EventLoopTaskExecutor]

    init(group: MultiThreadedEventLoopGroup = .singleton) {
        self.group = group
        self.loop = nil
        var pinned: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
        for loop in group.makeIterator() { pinned[ObjectIdentifier(loop)] = EventLoopTaskExecutor(group: group, loop: loop) }
        pinnedExecutors = pinned
    }

    private init(group: MultiThreadedEventLoopGroup, loop: any EventLoop) {
        self.group = group
        self.loop = loop
        pinnedExecutors = [:]
    }

    /// Runs `body` pinned to the loop the caller runs on (if it runs on one of ours).
    static func stayOnThisLoop<T>(_ body: () async -> T) async -> T {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop,
            let executor = (current as? EventLoopTaskExecutor)?.pinnedExecutors[ObjectIdentifier(loop)]
        else { return await body() }
        return await $current.withValue(executor) { await withTaskExecutorPreference(executor, operation: body) }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let target = loop ?? MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        target.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
