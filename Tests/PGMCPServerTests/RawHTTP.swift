import Foundation
import PGMCPJSON

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Plain HTTP requests, for the cases where a test needs exact bytes, headers and status codes.
struct RawHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: JSONValue? { try? JSONParser.parse(body) }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    static let mcpHeaders = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"]

    static func send(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = mcpHeaders) async throws -> Reply {
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

    static let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#

    /// Initializes a session and returns its id.
    static func openSession(_ url: String, headers: [String: String] = mcpHeaders) async throws -> String {
        let reply = try await send("POST", url, body: initialize, headers: headers)
        guard reply.status == 200, let id = reply.header("Mcp-Session-Id") else { throw Failure(reply: reply) }
        return id
    }

    static func call(_ url: String, session: String, id: Int = 2, tool: String, arguments: JSONValue) async throws -> Reply {
        let body: JSONValue = ["jsonrpc": "2.0", "id": .int(Int64(id)), "method": "tools/call", "params": ["name": .string(tool), "arguments": arguments]]
        return try await send("POST", url, body: body.jsonText, headers: mcpHeaders.merging(["Mcp-Session-Id": session]) { $1 })
    }

    struct Failure: Error, CustomStringConvertible {
        let reply: Reply
        var description: String { "HTTP \(reply.status): \(reply.body)" }
    }
}
