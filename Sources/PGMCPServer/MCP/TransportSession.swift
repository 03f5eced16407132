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
    private let inFlight = Mutex<[JSONRPCID: Task<OutgoingMessage, Never>]>([:])

    /// Runs `work` in a task of its own that `cancel(_:)` can reach by the request's id.
    func track(_ id: JSONRPCID, _ work: @escaping @Sendable () async -> OutgoingMessage) async -> OutgoingMessage {
        await Self.run(id, in: self, work)
    }

    /// Runs `work` in a task of its own, which `tracker` (when there is one) can cancel by the
    /// request's id. Its own, because cancelling the transport's task (Hummingbird's request
    /// handler) would abandon the HTTP response; the registry registers this task with the work
    /// session for the same reason. When the request came over HTTP (`ClientConnection.current`),
    /// the task is also cancelled if the client goes away first: its answer could never be
    /// delivered. Without a tracker (an HTTP request of MCP 2026-07-28, which no other request can
    /// name) nothing is registered.
    static func run(
        _ id: JSONRPCID, in tracker: RequestTracker?, _ work: @escaping @Sendable () async -> OutgoingMessage
    ) async -> OutgoingMessage {
        // An unstructured task does not inherit the executor preference: name it.
        let task = Task(executorPreference: EventLoopTaskExecutor.current, operation: work)
        tracker?.inFlight.withLock { $0[id] = task }
        let connection = ClientConnection.current
        let watch = connection?.whenGone { task.cancel() }
        let result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if let watch { connection?.forget(watch) }
        tracker?.inFlight.withLock { $0[id] = nil }
        return result
    }

    /// Stops the request if it still runs.
    func cancel(_ id: JSONRPCID) {
        inFlight.withLock { $0[id] }?.cancel()
    }
}
