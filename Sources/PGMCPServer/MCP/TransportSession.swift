import PGMCPJSON
import PGRegistry

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
    private let calls = CancellableCalls<JSONRPCID>()

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
    /// dozen allocations per call (see `BENCHMARKS.md`). It is registered as `CancellableCalls`
    /// registers a call: by the task it runs in.
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
        func watched() async -> OutgoingMessage {
            guard let connection = ClientConnection.current else { return await work() }
            return await connection.run(work)
        }
        // A tracker is never closed, so its `run` always runs the call.
        guard let tracker, let answer = await tracker.calls.run(id, watched) else { return await watched() }
        return answer
    }

    /// Stops the request if it still runs.
    func cancel(_ id: JSONRPCID) { calls.cancel(id) }
}
