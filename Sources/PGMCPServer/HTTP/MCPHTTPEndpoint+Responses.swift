import HTTPTypes
import Hummingbird
import NIOCore
import PGMCPJSON

/// Writing the endpoint's answers: JSON or one SSE event, a JSON-RPC error with its HTTP status (a
/// refused request's is `RequestValidation.Rejection.response`).
extension MCPHTTPEndpoint {
    func respond(_ payload: JSONValue, format: ResponseFormat, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        respond(.value(payload), format: format, status: status, headers: headers)
    }

    func respond(_ message: OutgoingMessage, format: ResponseFormat, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        respond(format: format, status: status, headers: headers) { message.write(into: &$0) }
    }

    /// Already-serialized JSON (a batch's answers).
    func respond(json: [UInt8], format: ResponseFormat) -> Response {
        respond(format: format, status: .ok, headers: [:]) { $0.writeRaw(json) }
    }

    private func respond(format: ResponseFormat, status: HTTPResponse.Status, headers: HTTPFields, _ write: (inout JSONWriter) -> Void) -> Response {
        var headers = headers
        var writer = JSONWriter()
        switch format {
        case .json:
            headers[.contentType] = "application/json"
            write(&writer)
        case .eventStream:
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            writer.writeRaw("event: message\ndata: ")
            write(&writer)
            writer.writeRaw("\n\n")
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }

    func errorResponse(_ status: HTTPResponse.Status, _ error: JSONRPCError) -> Response {
        respond(error.response, format: .json, status: status)
    }
}
