import CLinux
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Socket readiness for every connection, from one epoll thread.
///
/// A statement is driven by the task that runs it: libpq in non-blocking mode sends and parses on
/// the calling task's thread, and only the wait for PostgreSQL's answer is handed here. The thread
/// sleeps in `epoll_wait` and resumes whichever tasks' sockets became ready, many per wake-up under
/// load. That replaced a blocking thread per running statement, which cost two thread hand-offs
/// per call (to the statement's thread and back) that this design does not have: see
/// `BENCHMARKS.md` for what it measured.
///
/// Each wait is one-shot (`EPOLLONESHOT`): a socket is armed by the one task that owns its
/// connection, fires once, and stays quiet until armed again.
///
/// It is also a `TaskExecutor`: a program whose work all waits on descriptors here (pgmcp over
/// stdio, one session) can run its tasks on this thread, so that PostgreSQL's answer resumes the
/// waiting task in place instead of waking a second thread to run it. Any other descriptor can be
/// waited on too (a pipe, a terminal); a regular file, which epoll cannot watch, reads as ready.
public final class IOReactor: TaskExecutor, Sendable {
    public static let shared = IOReactor()

    public struct Readiness: Sendable {
        public var readable: Bool
        public var writable: Bool
    }

    private struct State {
        var waiting: [Int32: CheckedContinuation<Readiness, Never>] = [:]
        /// Descriptors in the epoll set (a later wait modifies instead of adding), with who added
        /// them: a number libpq closed and the kernel reused belongs to its new owner, and the old
        /// owner's `forget` must not remove it.
        var registered: [Int32: ObjectIdentifier] = [:]
        /// Tasks to run on this thread, in order.
        var jobs: [UnownedJob] = []
        /// The thread is (about to be) asleep in `epoll_wait`: a new job must wake it.
        var sleeping = false
    }

    private let epoll: Int32
    /// Written to wake the thread for new jobs.
    private let wakeup: Int32
    private let state = Mutex(State())

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll_create1 failed: errno \(errno)")
        wakeup = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        precondition(wakeup >= 0, "eventfd failed: errno \(errno)")
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue)
        event.data.fd = wakeup
        precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event) == 0, "epoll_ctl failed: errno \(errno)")
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { context in
                let reactor = Unmanaged<IOReactor>.fromOpaque(context!).takeRetainedValue()
                reactor.run()
                return nil
            }, context)
        precondition(created == 0, "cannot start the PostgreSQL socket thread: \(created)")
        pthread_detach(thread)
    }

    /// Suspends the calling task until `socket` is readable (or writable, when asked), or has an
    /// error or hang-up, which read as readable so that libpq reports them. `owner` is whoever owns
    /// the descriptor (a connection), so that only it can `forget` it.
    public func wait(
        _ socket: Int32, readable: Bool = true, writable: Bool = false, owner: ObjectIdentifier = ObjectIdentifier(IOReactor.self)
    ) async -> Readiness {
        await withCheckedContinuation { (continuation: CheckedContinuation<Readiness, Never>) in
            let (isNew, displaced) = state.withLock { state in
                // One waiter per descriptor; a second one (never expected) must not strand the first.
                let displaced = state.waiting.updateValue(continuation, forKey: socket)
                let isNew = state.registered.updateValue(owner, forKey: socket) == nil
                return (isNew, displaced)
            }
            displaced?.resume(returning: Readiness(readable: true, writable: true))
            var event = epoll_event()
            event.events = UInt32(EPOLLONESHOT.rawValue) | UInt32(EPOLLRDHUP.rawValue)
            if readable { event.events |= UInt32(EPOLLIN.rawValue) }
            if writable { event.events |= UInt32(EPOLLOUT.rawValue) }
            event.data.fd = socket
            var result = epoll_ctl(epoll, isNew ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event)
            if result != 0, errno == EEXIST { result = epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) }
            if result != 0, errno == ENOENT { result = epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) }
            if result != 0 {
                // Not a socket epoll can watch (closed under us): let libpq find out and report it.
                let waiter = state.withLock { $0.waiting.removeValue(forKey: socket) }
                waiter?.resume(returning: Readiness(readable: true, writable: true))
            }
        }
    }

    /// Stops watching `socket` for `owner`; call before the descriptor is closed. Does nothing when
    /// the number now belongs to someone else.
    public func forget(_ socket: Int32, owner: ObjectIdentifier = ObjectIdentifier(IOReactor.self)) {
        let removed = state.withLock { state -> Bool in
            guard state.registered[socket] == owner else { return false }
            state.registered[socket] = nil
            return true
        }
        if removed { _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil) }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let wake = state.withLock { state -> Bool in
            state.jobs.append(job)
            defer { state.sleeping = false }
            return state.sleeping
        }
        if wake { _ = eventfd_write(wakeup, 1) }
    }

    private func run() {
        _ = pgmcp_set_thread_name("pgmcp-pg-io")
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var jobs: [UnownedJob] = []
        while true {
            // Sleep only when no job is queued; `enqueue` wakes us otherwise.
            let timeout: Int32 = state.withLock { state in
                if state.jobs.isEmpty {
                    state.sleeping = true
                    return -1
                }
                return 0
            }
            let count = epoll_wait(epoll, events, Int32(capacity), timeout)
            state.withLock { $0.sleeping = false }
            if count < 0 {
                if errno == EINTR { continue }
                fatalError("epoll_wait failed: errno \(errno)")
            }
            for index in 0..<Int(count) {
                let event = events[index]
                let socket = event.data.fd
                if socket == wakeup {
                    var value: eventfd_t = 0
                    _ = eventfd_read(wakeup, &value)
                    continue
                }
                let flags = event.events
                let problem = flags & (UInt32(EPOLLERR.rawValue) | UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLRDHUP.rawValue)) != 0
                let readiness = Readiness(
                    readable: problem || flags & UInt32(EPOLLIN.rawValue) != 0, writable: flags & UInt32(EPOLLOUT.rawValue) != 0)
                let waiter = state.withLock { $0.waiting.removeValue(forKey: socket) }
                waiter?.resume(returning: readiness)
            }
            // Run what is queued now (what the resumed tasks enqueue runs in the next round).
            state.withLock { state in swap(&jobs, &state.jobs) }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            jobs.removeAll(keepingCapacity: true)
        }
    }
}
