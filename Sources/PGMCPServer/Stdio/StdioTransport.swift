import Dispatch
import Foundation
import Logging
import PGMCPJSON
import PGRegistry

/// MCP over stdio: newline-delimited JSON-RPC on standard input and output, one session. Logs go to
/// standard error only. Reading and writing are blocking I/O, so they run on dispatch threads, never
/// on Swift's cooperative pool. End of input ends the session.
public final class StdioTransport: Sendable {
    let dispatcher: MCPDispatcher
    let logger: Logger
    private let output = DispatchQueue(label: "pgmcp.stdio.out")

    public init(dispatcher: MCPDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        self.logger = logger
    }

    /// Serves until standard input closes, then ends the session. Requests run concurrently, so a
    /// long query does not hold up `ping` or `notifications/cancelled`.
    public func run() async {
        var transport: TransportSession?
        await withTaskGroup(of: Void.self) { group in
            for await line in Self.lines() {
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
    }

    private func write(_ message: JSONValue) {
        let bytes = message.serialized() + [UInt8(ascii: "\n")]
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
