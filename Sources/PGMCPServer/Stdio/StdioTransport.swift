import Logging
import PGMCPJSON
import PGRegistry

/// MCP over stdio: newline-delimited JSON-RPC on standard input and output, one session. Logs go to
/// standard error only. End of input ends the session. Input and output are non-blocking and waited
/// on by `PGReactor` (`StdioStreams`): no thread is parked on them.
public final class StdioTransport: Sendable {
    let dispatcher: MCPDispatcher
    let logger: Logger
    private let streams = StdioStreams()

    public init(dispatcher: MCPDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// Serves until standard input closes, then ends the session. Requests run concurrently, so a
    /// long query does not hold up `ping` or `notifications/cancelled`.
    public func run() async {
        let maxBytes = dispatcher.context.settings.maxRequestBytes
        let lines = streams.lines(maxBytes: maxBytes)
        var transport: TransportSession?
        // MCP 2026-07-28: the first request decides the pipe's era. A modern pipe keeps no session:
        // each request stands alone (its own work session, or an open_session handle).
        var modern: RequestTracker?
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
                if transport == nil, modern == nil, case .request(_, let method, _) = message, method != "initialize",
                    let version = MCPVersion.declared(in: parsed), ModernProtocol.supported.contains(version)
                {
                    modern = RequestTracker()
                }
                if let requests = modern {
                    handleModern(message, requests: requests, group: &group)
                    continue
                }
                if case .request(let id, "initialize", let params) = message {
                    if transport != nil {
                        write(JSONRPCError(.invalidRequest, "the session is already initialized", id: id).response)
                        continue
                    }
                    do {
                        let (session, result) = try dispatcher.initialize(params, transportID: "stdio", expiresWhenIdle: false)
                        transport = session
                        write(JSONRPC.result(result, id: id))
                    } catch {
                        write(JSONRPCError(.serverBusy, String(describing: error), id: id).response)
                    }
                    continue
                }
                guard let session = transport else {
                    // A client pinned to a version we do not serve (2026-07-28's `_meta`) is told which
                    // we do: dual-era clients then fall back to initialize.
                    if case .request(let id, _, _) = message {
                        if let version = MCPVersion.declared(in: parsed), !MCPVersion.supported.contains(version) {
                            write(ModernProtocol.unsupported(version, id: id).response)
                        } else {
                            write(JSONRPCError(.invalidRequest, "send initialize first", id: id).response)
                        }
                    }
                    continue
                }
                // Every request is activity (for statistics; the stdio session itself never idles out).
                _ = try? dispatcher.context.registry.session(session.workSession.handle)
                group.addTask { [self] in
                    if let response = await dispatcher.handle(message, in: session) { write(response) }
                }
            }
            // Input closed: cancel what still runs, then end the session.
            group.cancelAll()
        }
        if let transport { await dispatcher.context.registry.endSession(transport.workSession.handle, reason: "stdio closed") }
        await streams.finish()
    }

    /// A message on a pipe of the 2026-07-28 era: each request checked (its `_meta`, its version) and
    /// run on its own; `notifications/cancelled` stops one; `initialize` is refused naming the
    /// version this pipe speaks.
    private func handleModern(_ message: JSONRPCMessage, requests: RequestTracker, group: inout TaskGroup<Void>) {
        switch message {
        case .notification(let method, let params):
            if method == "notifications/cancelled", let id = params["requestId"].flatMap(JSONRPCID.init) { requests.cancel(id) }
        case .response:
            break
        case .request(let id, "initialize", let params):
            write(ModernProtocol.unsupported(params["protocolVersion"]?.stringValue ?? "none", id: id).response)
        case .request(let id, let method, let params):
            let envelope: ModernProtocol.Envelope
            do throws(JSONRPCError) {
                envelope = try ModernProtocol.envelope(of: params, id: id)
                guard ModernProtocol.supported.contains(envelope.version) else { throw ModernProtocol.unsupported(envelope.version, id: id) }
            } catch {
                write(error.response)
                return
            }
            group.addTask { [self] in
                let answer = await dispatcher.handleModern(id: id, method: method, params: params, envelope: envelope, requests: requests, owner: nil)
                // Nothing is written once the pipe is closing (end of input cancels the group).
                if !Task.isCancelled { write(answer) }
            }
        }
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
