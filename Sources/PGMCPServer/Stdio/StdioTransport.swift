import PGMCPJSON
import PGRegistry

/// MCP over stdio: newline-delimited JSON-RPC on standard input and output, one session. Logs go to
/// standard error only. End of input ends the session. Input and output are non-blocking and waited
/// on by `IOReactor` (`StdioStreams`): no thread is parked on them.
public final class StdioTransport: Sendable {
    let gate: MCPSessionGate
    private let streams = StdioStreams()
    private var dispatcher: MCPDispatcher { gate.dispatcher }

    public init(dispatcher: MCPDispatcher) {
        gate = MCPSessionGate(dispatcher: dispatcher)
    }

    /// The era a pipe settled on: by its first `initialize` (2025), or its first request of a
    /// version of 2026-07-28 this server speaks. Until then each message's own era decides (`MCPEra`).
    enum Pipe {
        case undecided
        /// One 2025 session, as long as the stream.
        case legacy(TransportSession)
        /// No protocol session, but the process's one client keeps one work session: calls without
        /// a handle share it (a selection, a transaction), and it ends with the input stream.
        case modern(RequestTracker, WorkSession)
    }

    /// Serves until standard input closes, then ends the session. Requests run concurrently, so a
    /// long query does not hold up `ping` or `notifications/cancelled`.
    public func run() async {
        let maxBytes = dispatcher.context.settings.maxRequestBytes
        let lines = streams.lines(maxBytes: maxBytes)
        var pipe = Pipe.undecided
        await withTaskGroup(of: Void.self) { group in
            for await next in lines {
                guard case .text(let line) = next else {
                    write(JSONRPCError(.invalidRequest, "a message over \(maxBytes) bytes (PGMCP_MAX_REQUEST_BYTES) was dropped unread").response)
                    continue
                }
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                let parsed: JSONValue
                do throws(JSONParseError) { parsed = try JSONParser.parse(line, options: .request) } catch {
                    write(JSONRPCError.unreadable(error).response)
                    continue
                }
                if case .array = parsed {
                    // stdio takes one message per line, whatever the version: nothing of a batch runs.
                    write(JSONRPCError(.invalidRequest, "JSON-RPC batches are not accepted over stdio: send one message per line").response)
                    continue
                }
                let message: JSONRPCMessage
                do throws(JSONRPCError) { message = try JSONRPCMessage.parse(parsed) } catch {
                    write(error.response)
                    continue
                }
                switch pipe {
                case .legacy(let session):
                    serveLegacy(message, in: session, group: &group)
                case .modern(let requests, let session):
                    serveModern(message, requests: requests, session: session, group: &group)
                case .undecided where MCPEra.of(parsed, versionHeader: nil) == .modern:
                    guard let session = openModern(message) else { continue }
                    let requests = RequestTracker()
                    if serveModern(message, requests: requests, session: session, group: &group) {
                        pipe = .modern(requests, session)
                    } else {
                        await dispatcher.context.registry.endSession(session.handle, reason: "stdio request refused")
                    }
                case .undecided:
                    if let session = openLegacy(message) { pipe = .legacy(session) }
                }
            }
            // Input closed: cancel what still runs, then end the session.
            group.cancelAll()
        }
        switch pipe {
        case .legacy(let session): await dispatcher.context.registry.endSession(session.workSession.handle, reason: "stdio closed")
        case .modern(_, let session): await dispatcher.context.registry.endSession(session.handle, reason: "stdio closed")
        case .undecided: break
        }
        await streams.finish()
    }

    /// A message on a pipe that has no session yet: `initialize` opens it; a request is told to send
    /// initialize first.
    private func openLegacy(_ message: JSONRPCMessage) -> TransportSession? {
        guard case .request(let id, let method, let params) = message else { return nil }
        guard method == "initialize" else {
            write(JSONRPCError(.invalidRequest, "send initialize first", id: id).response)
            return nil
        }
        do throws(JSONRPCError) {
            let (session, result) = try gate.initialize(params, id: id, transportID: "stdio", expiresWhenIdle: false, caller: .anyone)
            write(JSONRPC.result(result, id: id))
            return session
        } catch {
            write(error.response)
            return nil
        }
    }

    /// The work session a 2026-07-28 pipe keeps for its one client; nil (and the request answered)
    /// when the session table is full.
    private func openModern(_ message: JSONRPCMessage) -> WorkSession? {
        do {
            return try dispatcher.context.registry.createSession(label: "stdio", ownedBy: .anyone, expiresWhenIdle: false)
        } catch {
            if case .request(let id, _, _) = message { write(JSONRPCError(.serverBusy, error.message, id: id).response) }
            return nil
        }
    }

    /// A message in the pipe's 2025 session.
    private func serveLegacy(_ message: JSONRPCMessage, in session: TransportSession, group: inout TaskGroup<Void>) {
        gate.markActive(session)
        group.addTask { [self] in
            if let response = await dispatcher.handle(message, in: session) { write(response) }
        }
    }

    /// A message of the 2026-07-28 era: each request checked (its `_meta`, its version) and run on
    /// its own; `notifications/cancelled` stops one; `initialize` is refused naming the version this
    /// pipe speaks. Returns whether it was a request of a version served (which settles the pipe).
    @discardableResult
    private func serveModern(_ message: JSONRPCMessage, requests: RequestTracker, session: WorkSession, group: inout TaskGroup<Void>) -> Bool {
        switch message {
        case .notification(let method, let params):
            if method == "notifications/cancelled", let id = params["requestId"].flatMap(JSONRPCID.init) { requests.cancel(id) }
        case .response:
            break
        case .request(let id, "initialize", let params):
            write(ModernProtocol.unsupported(params["protocolVersion"]?.stringValue ?? "none", id: id).response)
        case .request(let id, let method, let params):
            let envelope: ModernProtocol.Envelope
            do throws(JSONRPCError) { envelope = try gate.envelope(of: params, id: id) } catch {
                // Refused: the pipe stays as it was (a client may still initialize a 2025 session).
                write(error.response)
                return false
            }
            group.addTask { [self] in
                let answer = await gate.serveModern(
                    id: id, method: method, params: params, envelope: envelope, requests: requests, caller: .anyone, pipeSession: session)
                // Nothing is written once the pipe is closing (end of input cancels the group).
                if !Task.isCancelled { write(answer) }
            }
            return true
        }
        return false
    }

    private func write(_ message: JSONValue) {
        write(.value(message))
    }

    private func write(_ message: OutgoingMessage) {
        var writer = JSONWriter()
        message.write(into: &writer)
        writer.writeRaw("\n")
        streams.write(writer.bytes)
    }
}
