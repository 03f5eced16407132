import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import PGMCPJSON
import PGRegistry
import Synchronization

/// MCP over stdio: newline-delimited JSON-RPC on standard input and output, one session. Logs go to
/// standard error only. End of input ends the session.
///
/// Given an event loop, standard input and output are read and written by it (non-blocking pipes,
/// `NIOPipeBootstrap`), where the session's tasks run too, so a request is read, run and answered
/// without waking another thread. Where that is not possible (input redirected from a regular
/// file, which has no readiness to wait for) blocking reads and writes run on threads of their own.
public final class StdioTransport: Sendable {
    let dispatcher: MCPDispatcher
    let logger: Logger
    private let eventLoops: (any EventLoopGroup)?
    private let pipe = Mutex<StdioPipe?>(nil)
    private let output = DispatchQueue(label: "pgmcp.stdio.out")

    public init(dispatcher: MCPDispatcher, logger: Logger, eventLoops: (any EventLoopGroup)? = nil) {
        self.dispatcher = dispatcher
        self.logger = logger
        self.eventLoops = eventLoops
    }

    /// Serves until standard input closes, then ends the session. Requests run concurrently, so a
    /// long query does not hold up `ping` or `notifications/cancelled`.
    public func run() async {
        let lines: AsyncStream<String>
        if let eventLoops, let opened = try? await StdioPipe.open(on: eventLoops) {
            pipe.withLock { $0 = opened }
            lines = opened.lines
        } else {
            lines = Self.lines()
        }
        var transport: TransportSession?
        await withTaskGroup(of: Void.self) { group in
            for await line in lines {
                guard !line.allSatisfy(\.isWhitespace) else { continue }
                let parsed: JSONValue
                do { parsed = try JSONParser.parse(line) } catch {
                    write(JSONRPCError(.parseError, "invalid JSON: \(error)").response)
                    continue
                }
                let message: JSONRPCMessage
                do throws(JSONRPCError) { message = try JSONRPCMessage.parse(parsed) } catch {
                    write(error.response)
                    continue
                }
                if case .request(let id, "initialize", let params) = message {
                    if transport != nil {
                        write(JSONRPCError(.invalidRequest, "the session is already initialized", id: id).response)
                        continue
                    }
                    do {
                        let (session, result) = try dispatcher.initialize(params, transportID: "stdio")
                        transport = session
                        write(JSONRPC.result(result, id: id))
                    } catch {
                        write(JSONRPCError(.serverBusy, String(describing: error), id: id).response)
                    }
                    continue
                }
                guard let session = transport else {
                    if case .request(let id, _, _) = message {
                        write(JSONRPCError(.invalidRequest, "send initialize first", id: id).response)
                    }
                    continue
                }
                group.addTask { [self] in
                    if let response = await dispatcher.handle(message, in: session) { write(response) }
                }
            }
            // Input closed: cancel what still runs, then end the session.
            group.cancelAll()
        }
        if let transport { await dispatcher.context.registry.endSession(transport.workSession.handle, reason: "stdio closed") }
        await pipe.withLock { $0 }?.close()
    }

    private func write(_ message: JSONValue) {
        let bytes = message.serialized() + [UInt8(ascii: "\n")]
        if let pipe = pipe.withLock({ $0 }) { return pipe.write(bytes) }
        output.async {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = Foundation.write(1, raw.baseAddress! + offset, raw.count - offset)
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }

    /// Standard input's lines, read by a dedicated thread.
    static func lines() -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while let line = readLine(strippingNewline: true) { continuation.yield(line) }
                continuation.finish()
            }
            thread.name = "pgmcp.stdio.in"
            thread.start()
        }
    }
}
