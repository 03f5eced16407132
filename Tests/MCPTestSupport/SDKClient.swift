import Foundation
import MCP
import PGMCPJSON

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// swift-sdk's `Client` connected to a test server, with helpers that return results as our JSON.
public struct SDKClient: Sendable {
    public let client: MCP.Client

    public static func connect(_ url: URL, token: String? = nil) async throws -> SDKClient {
        let transport = HTTPClientTransport(
            endpoint: url, streaming: false,
            requestModifier: { request in
                var request = request
                if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
                return request
            })
        let client = MCP.Client(name: "pgmcp-swift-sdk-test", version: "1.0.0")
        _ = try await client.connect(transport: transport)
        return SDKClient(client: client)
    }

    /// Calls a tool; returns (structuredContent as JSON, text, isError).
    public func call(_ name: String, _ arguments: [String: MCP.Value] = [:]) async throws -> (json: JSONValue, text: String, isError: Bool) {
        let context: RequestContext<CallTool.Result> = try await client.callTool(name: name, arguments: arguments)
        let result = try await context.value
        var text = ""
        if case .text(let value, _, _)? = result.content.first { text = value }
        let json = try result.structuredContent.map(Self.json) ?? .null
        return (json, text, result.isError ?? false)
    }

    /// Calls a tool that must succeed; returns its structuredContent.
    public func ok(_ name: String, _ arguments: [String: MCP.Value] = [:]) async throws -> JSONValue {
        let result = try await call(name, arguments)
        guard !result.isError else { throw Failure(message: "\(name) failed: \(result.text)") }
        return result.json
    }

    /// Calls a tool that must fail; returns its message.
    public func failure(_ name: String, _ arguments: [String: MCP.Value] = [:]) async throws -> String {
        let result = try await call(name, arguments)
        guard result.isError else { throw Failure(message: "\(name) unexpectedly succeeded: \(result.text)") }
        return result.text
    }

    public func disconnect() async { await client.disconnect() }

    public static func json(_ value: MCP.Value) throws -> JSONValue {
        try JSONParser.parse(Array(try JSONEncoder().encode(value)))
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
