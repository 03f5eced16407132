import PGMCPJSON
import PGRegistry
import Synchronization

/// One MCP transport session (a Streamable HTTP `Mcp-Session-Id`, or the stdio stream): the work
/// session it maps to, the protocol version it negotiated, and its requests in flight (so that
/// `notifications/cancelled` can stop them).
public final class TransportSession: Sendable {
    /// The `Mcp-Session-Id` (random, like a handle), or `stdio`.
    public let id: String
    public let workSession: WorkSession
    public let protocolVersion: String
    let requests = RequestTracker()

    init(id: String, workSession: WorkSession, protocolVersion: String) {
        self.id = id
        self.workSession = workSession
        self.protocolVersion = protocolVersion
    }

    func track(_ id: JSONRPCID, _ work: @escaping @Sendable () async -> OutgoingMessage) async -> OutgoingMessage {
        await requests.track(id, work)
    }

    /// `notifications/cancelled`: stops the request if it still runs.
    func cancel(_ id: JSONRPCID) { requests.cancel(id) }
}

/// Requests in flight by id, so that a cancellation can reach them: a transport session's, or (MCP
/// 2026-07-28, no sessions) a stdio pipe's.
final class RequestTracker: Sendable {
    /// A running request's task. `UnsafeCurrentTask.cancel()` is safe from any thread while the task
    /// lives, and it lives while registered: it leaves, under the lock `cancel` takes, before it ends.
    private struct Running: @unchecked Sendable {
        let task: UnsafeCurrentTask
        let token: UInt64
    }

    private struct State {
        var running: [JSONRPCID: Running] = [:]
        var nextToken: UInt64 = 0
    }

    private let inFlight = Mutex(State())

    /// Runs `work` in a task of its own that `cancel(_:)` can reach by the request's id.
    func track(_ id: JSONRPCID, _ work: @escaping @Sendable () async -> OutgoingMessage) async -> OutgoingMessage {
        await Self.run(id, in: self, work)
    }

    /// Runs `work` in a task of its own, which `tracker` (when there is one) can cancel by the
    /// request's id. Its own, because cancelling the transport's task (Hummingbird's request
    /// handler) would abandon the HTTP response. When the request came over HTTP
    /// (`ClientConnection.current`), the task is also cancelled if the client goes away first: its
    /// answer could never be delivered. Without a tracker (an HTTP request of MCP 2026-07-28, which
    /// no other request can name) nothing is registered.
    ///
    /// The task is a child (`async let`): it runs on the caller's executor preference, is cancelled
    /// with its parent, and its memory comes from the parent's, where a `Task {}` of its own cost a
    /// dozen allocations per call (see `BENCHMARKS.md`).
    static func run(
        _ id: JSONRPCID, in tracker: RequestTracker?, _ work: @escaping @Sendable () async -> OutgoingMessage
    ) async -> OutgoingMessage {
        async let answer = registered(id, in: tracker, work)
        return await answer
    }

    /// `work` in the current task, registered with `tracker` and the client's connection meanwhile.
    private static func registered(
        _ id: JSONRPCID, in tracker: RequestTracker?, _ work: @Sendable () async -> OutgoingMessage
    ) async -> OutgoingMessage {
        guard let task = withUnsafeCurrentTask(body: { $0 }) else { return await work() }
        let token = tracker?.register(id, task)
        let connection = ClientConnection.current
        let watch = connection?.cancelWhenGone(task)
        defer {
            if let watch { connection?.forget(watch) }
            if let token { tracker?.deregister(id, token: token) }
        }
        return await work()
    }

    private func register(_ id: JSONRPCID, _ task: UnsafeCurrentTask) -> UInt64 {
        inFlight.withLock { state in
            defer { state.nextToken += 1 }
            state.running[id] = Running(task: task, token: state.nextToken)
            return state.nextToken
        }
    }

    /// Only its own entry: a later request that reused the id keeps its registration.
    private func deregister(_ id: JSONRPCID, token: UInt64) {
        inFlight.withLock { state in
            if state.running[id]?.token == token { state.running[id] = nil }
        }
    }

    /// Stops the request if it still runs.
    func cancel(_ id: JSONRPCID) {
        inFlight.withLock { $0.running[id]?.task.cancel() }
    }
}
