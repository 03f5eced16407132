import Dispatch

/// Counts the dispatch sources alive on one socket, so the socket is closed (PQfinish) only after
/// every source watching it has been cancelled: closing a descriptor under a live source is undefined.
/// Confined to the owning connection's queue.
final class SourceTracker: @unchecked Sendable {
    private var live = 0
    private var waiting: [() -> Void] = []

    func sourceStarted() { live += 1 }

    func sourceEnded() {
        live -= 1
        if live == 0 {
            let actions = waiting
            waiting = []
            for action in actions { action() }
        }
    }

    /// Runs `action` now if no source is alive, else once the last one has ended.
    func whenQuiet(_ action: @escaping () -> Void) {
        if live == 0 { action() } else { waiting.append(action) }
    }
}

struct SocketReadiness {
    var readable = false
    var writable = false
}

/// A one-shot wait for a socket to become readable and/or writable, delivered on `queue`.
///
/// libpq in non-blocking mode tells us what it waits for; this turns that into a callback without
/// parking any thread, which is why a thousand idle waits cost no threads at all.
/// Confined to `queue`: create, fire and cancel it there.
final class SocketWait: @unchecked Sendable {
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var callback: ((SocketReadiness) -> Void)?

    init(
        socket: Int32, queue: DispatchQueue, readable: Bool, writable: Bool, tracker: SourceTracker,
        callback: @escaping (SocketReadiness) -> Void
    ) {
        self.callback = callback
        if readable {
            let source = DispatchSource.makeReadSource(fileDescriptor: socket, queue: queue)
            tracker.sourceStarted()
            source.setEventHandler { [self] in fire(SocketReadiness(readable: true)) }
            source.setCancelHandler { tracker.sourceEnded() }
            readSource = source
        }
        if writable {
            let source = DispatchSource.makeWriteSource(fileDescriptor: socket, queue: queue)
            tracker.sourceStarted()
            source.setEventHandler { [self] in fire(SocketReadiness(writable: true)) }
            source.setCancelHandler { tracker.sourceEnded() }
            writeSource = source
        }
        readSource?.activate()
        writeSource?.activate()
    }

    private func fire(_ readiness: SocketReadiness) {
        guard let callback else { return }
        cancel()
        callback(readiness)
    }

    /// Stops waiting; the callback will not run. Safe to call more than once.
    func cancel() {
        callback = nil
        readSource?.cancel()
        writeSource?.cancel()
        // The sources' handlers hold `self`; dropping our references breaks the cycle once
        // dispatch has run their cancel handlers.
        readSource = nil
        writeSource = nil
    }
}
