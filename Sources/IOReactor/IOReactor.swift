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
/// connection, fires once, and stays quiet until armed again. A connection's socket is armed again
/// for reading when an operation ends (`watchWhileIdle`): what arrives while it sits in a pool is
/// noticed without a `poll()` when it is next leased, and its next wait for an answer needs no
/// `epoll_ctl`, one system call per call instead of two.
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

    /// One descriptor in the epoll set.
    private struct Watch {
        /// Who added it: a number libpq closed and the kernel reused belongs to its new owner, and
        /// the old owner's `forget` must not remove it.
        var owner: ObjectIdentifier
        /// The events it is armed for, one-shot; nil once they fired (or an arming failed).
        var armed: UInt32?
        var waiter: CheckedContinuation<Readiness, Never>?
        /// What fired while nobody waited (an idle connection's socket): the next wait gets it.
        var fired: Readiness?
    }

    private struct State {
        var watches: [Int32: Watch] = [:]
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
    /// the descriptor (a connection), so that only it can `forget` it. May return early (what fired
    /// while the descriptor sat idle): a caller retries its read or write and waits again.
    public func wait(
        _ socket: Int32, readable: Bool = true, writable: Bool = false, owner: ObjectIdentifier = ObjectIdentifier(IOReactor.self)
    ) async -> Readiness {
        let mask = Self.events(readable: readable, writable: writable)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Readiness, Never>) in
            let (arming, displaced, fired) = state.withLock { state -> (Int32?, CheckedContinuation<Readiness, Never>?, Readiness?) in
                var watch = Self.watch(of: socket, for: owner, in: &state)
                if let fired = watch.fired {
                    watch.fired = nil
                    state.watches[socket] = watch
                    return (nil, nil, fired)
                }
                // One waiter per descriptor; a second one (never expected) must not strand the first.
                let displaced = watch.waiter
                watch.waiter = continuation
                // Still armed for these events since it was last idle: no system call.
                let arming = Self.arming(&watch, for: mask, isNew: state.watches[socket] == nil)
                state.watches[socket] = watch
                return (arming, displaced, nil)
            }
            if let fired { return continuation.resume(returning: fired) }
            displaced?.resume(returning: Readiness(readable: true, writable: true))
            if let arming, !arm(socket, mask, arming) {
                // Not a descriptor epoll can watch (closed under us, a regular file): let the caller
                // find out and report it.
                let waiter = state.withLock { $0.watches[socket]?.waiter.take() }
                waiter?.resume(returning: Readiness(readable: true, writable: true))
            }
        }
    }

    /// Arms `socket` for reading while its connection sits idle, so that what arrives meanwhile (a
    /// server's termination notice, end of file) is noticed without a system call at the next use
    /// (`idleStatus`), and the next `wait` for reading finds it armed already. Call once an
    /// operation has read all it expects.
    public func watchWhileIdle(_ socket: Int32, owner: ObjectIdentifier) {
        let mask = Self.events(readable: true, writable: false)
        let arming = state.withLock { state -> Int32? in
            var watch = Self.watch(of: socket, for: owner, in: &state)
            guard watch.waiter == nil, watch.fired == nil else { return nil }
            let arming = Self.arming(&watch, for: mask, isNew: state.watches[socket] == nil)
            state.watches[socket] = watch
            return arming
        }
        if let arming { _ = arm(socket, mask, arming) }
    }

    public enum IdleStatus: Sendable {
        /// Armed since the last operation and nothing arrived.
        case quiet
        /// Something arrived (or the socket closed) while idle.
        case stirred
        /// Not watched while idle (never used, or arming failed): only a look at the socket can tell.
        case unknown
    }

    /// What `watchWhileIdle` saw since it was called.
    public func idleStatus(_ socket: Int32, owner: ObjectIdentifier) -> IdleStatus {
        state.withLock { state in
            guard let watch = state.watches[socket], watch.owner == owner, watch.waiter == nil else { return .unknown }
            if watch.fired != nil { return .stirred }
            return watch.armed == nil ? .unknown : .quiet
        }
    }

    /// Stops watching `socket` for `owner`; call before the descriptor is closed. Does nothing when
    /// the number now belongs to someone else. A wait still parked on it returns, so that its
    /// caller finds the socket gone instead of waiting for ever.
    public func forget(_ socket: Int32, owner: ObjectIdentifier = ObjectIdentifier(IOReactor.self)) {
        let removed = state.withLock { state -> Watch? in
            guard state.watches[socket]?.owner == owner else { return nil }
            return state.watches.removeValue(forKey: socket)
        }
        guard let removed else { return }
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
        removed.waiter?.resume(returning: Readiness(readable: true, writable: true))
    }

    /// `socket`'s watch for `owner`; a fresh one when it has none or the number was someone else's
    /// (then whatever was armed for them may be gone with their descriptor).
    private static func watch(of socket: Int32, for owner: ObjectIdentifier, in state: inout State) -> Watch {
        if let watch = state.watches[socket], watch.owner == owner { return watch }
        var fresh = Watch(owner: owner)
        fresh.waiter = state.watches[socket]?.waiter
        return fresh
    }

    private static func events(readable: Bool, writable: Bool) -> UInt32 {
        var events = UInt32(EPOLLONESHOT.rawValue) | UInt32(EPOLLRDHUP.rawValue)
        if readable { events |= UInt32(EPOLLIN.rawValue) }
        if writable { events |= UInt32(EPOLLOUT.rawValue) }
        return events
    }

    /// Records `watch` as armed for `events`: the epoll operation that arms it, or nil when it is
    /// armed for them already. `arm` then runs the operation, outside the lock.
    private static func arming(_ watch: inout Watch, for events: UInt32, isNew: Bool) -> Int32? {
        guard watch.armed != events else { return nil }
        watch.armed = events
        return isNew ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
    }

    /// Arms `socket` for `events`, once; false, and recorded as not armed, when epoll cannot watch it.
    private func arm(_ socket: Int32, _ events: UInt32, _ operation: Int32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.fd = socket
        var result = epoll_ctl(epoll, operation, socket, &event)
        if result != 0, errno == EEXIST { result = epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) }
        if result != 0, errno == ENOENT { result = epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event) }
        if result != 0 { state.withLock { $0.watches[socket]?.armed = nil } }
        return result == 0
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
                let waiter = state.withLock { state -> CheckedContinuation<Readiness, Never>? in
                    guard var watch = state.watches[socket] else { return nil }
                    watch.armed = nil
                    let waiter = watch.waiter.take()
                    if waiter == nil { watch.fired = readiness }
                    state.watches[socket] = watch
                    return waiter
                }
                waiter?.resume(returning: readiness)
            }
            // Run what is queued now (what the resumed tasks enqueue runs in the next round).
            state.withLock { state in swap(&jobs, &state.jobs) }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            jobs.removeAll(keepingCapacity: true)
        }
    }
}
