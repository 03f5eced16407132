import Foundation
import PGMCPJSON
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Plain HTTP requests, for the cases where a test needs exact bytes, headers and status codes.
public struct RawHTTP: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        public var json: JSONValue? { try? JSONParser.parse(body) }

        public init(status: Int, headers: [String: String], body: String) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    public static let mcpHeaders = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"]

    public static func send(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = mcpHeaders) async throws -> Reply {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, body: String(decoding: data, as: UTF8.self))
    }

    public static let initialize = MCPMessages.initialize(version: "2025-06-18", client: "raw")

    /// Initializes a session and returns its id.
    public static func openSession(_ url: String, headers: [String: String] = mcpHeaders) async throws -> String {
        let reply = try await send("POST", url, body: initialize, headers: headers)
        guard reply.status == 200, let id = reply.header("Mcp-Session-Id") else { throw Failure(reply: reply) }
        return id
    }

    public static func call(_ url: String, session: String, id: Int = 2, tool: String, arguments: JSONValue) async throws -> Reply {
        let body: JSONValue = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]]
        return try await send("POST", url, body: body.jsonText, headers: mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
    }

    public struct Failure: Error, CustomStringConvertible {
        public let reply: Reply
        public var description: String { "HTTP \(reply.status): \(reply.body)" }
    }
}
