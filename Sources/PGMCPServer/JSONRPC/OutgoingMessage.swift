import PGMCPJSON

/// A message to send. A tool's success is kept as its structured content and serialized once: its
/// text copy (which the MCP spec asks for, for clients that read only text) is that serialization,
/// escaped, instead of a second serialization of the same object and an escaping pass over a third.
enum OutgoingMessage: Sendable {
    case value(JSONValue)
    /// `{"jsonrpc","id","result":{"content":[{"type":"text","text":…}],"structuredContent":…,"isError":false}}`
    /// With `modern` (MCP 2026-07-28), also `"resultType":"complete"` and the server's info in `_meta`.
    /// With `fence`, the text copy is fenced as data (`DataFence`); `structuredContent` never is.
    case toolSuccess(id: JSONRPCID, structured: JSONObject, modern: Bool = false, fence: DataFence? = nil)

    func write(into writer: inout JSONWriter) {
        switch self {
        case .value(let value):
            writer.write(value)
        case .toolSuccess(let id, let structured, let modern, let fence):
            var inner = JSONWriter()
            inner.write(.object(structured))
            writer.writeRaw(#"{"jsonrpc":"2.0","id":"#)
            writer.write(id.json)
            writer.writeRaw(#","result":{"content":[{"type":"text","text":"#)
            if let fence {
                // One JSON string written in three pieces, the result's bytes not copied first.
                writer.writeRaw("\"")
                fence.writeOpening(into: &writer)
                inner.bytes.withUnsafeBufferPointer { writer.writeStringContents(utf8: $0) }
                fence.writeClosing(into: &writer)
                writer.writeRaw("\"")
            } else {
                inner.bytes.withUnsafeBufferPointer { writer.writeString(utf8: $0) }
            }
            writer.writeRaw(#"}],"structuredContent":"#)
            writer.writeRaw(inner.bytes)
            writer.writeRaw(#","isError":false"#)
            if modern {
                writer.writeRaw(#","resultType":"complete","_meta":{"#)
                writer.write(.string(ModernProtocol.serverInfoKey))
                writer.writeRaw(":")
                writer.write(ModernProtocol.serverInfo)
                writer.writeRaw("}")
            }
            writer.writeRaw("}}")
        }
    }

    func serialized() -> [UInt8] {
        var writer = JSONWriter()
        write(into: &writer)
        return writer.bytes
    }
}
