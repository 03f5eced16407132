import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One TCP connection to a test server on 127.0.0.1, written byte for byte: for headers an HTTP
/// client library would rewrite or refuse (`Host`, odd `Origin`s), and for a client that closes
/// its connection before the answer. Blocking socket calls run off the cooperative pool; reads
/// give up after `timeout` seconds, so a test never hangs on a silent server.
public final class RawSocket: Sendable {
    private let fd: Int32
    private let open = Mutex(true)

    private init(fd: Int32) { self.fd = fd }

    public static func connect(port: Int, timeout: Int = 30) async throws -> RawSocket {
        try await offPool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
            var limit = timeval(tv_sec: timeout, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Glibc.close(fd)
                throw Failure("connect: errno \(errno)")
            }
            return RawSocket(fd: fd)
        }
    }

    public func write(_ text: String) async throws {
        let bytes = Array(text.utf8)
        try await offPool { [fd] in
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw Failure("send: errno \(errno)") }
                sent += count
            }
        }
    }

    /// Reads one response: status line, headers, and a body of its `Content-Length`.
    public func readResponse() async throws -> RawHTTP.Reply {
        try await offPool { [fd] in
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            func fill() throws {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw Failure(count == 0 ? "connection closed" : "recv: errno \(errno)") }
                bytes += buffer[..<count]
            }
            let separator = Array("\r\n\r\n".utf8)
            var headEnd: Int?
            while headEnd == nil {
                try fill()
                if bytes.count >= 4 {
                    headEnd = (0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual(separator) }
                }
            }
            let head = String(decoding: bytes[..<headEnd!], as: UTF8.self).split(separator: "\r\n").map(String.init)
            let status = Int(head[0].split(separator: " ")[1])!
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = headers.first { $0.key.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
            let bodyStart = headEnd! + 4
            while bytes.count - bodyStart < length { try fill() }
            return RawHTTP.Reply(status: status, headers: headers, body: String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self))
        }
    }

    /// Closes the connection (once; later calls do nothing).
    public func close() {
        let wasOpen = open.withLock { open in
            defer { open = false }
            return open
        }
        if wasOpen { Glibc.close(fd) }
    }

    deinit { close() }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}

extension RawHTTP {
    /// A POST to `/mcp` of `port` with exactly these header lines (`Content-Length` added), on a connection of its own.
    public static func post(port: Int, body: String, headers: [(String, String)]) async throws -> Reply {
        let socket = try await RawSocket.connect(port: port)
        try await socket.write(request(body: body, headers: headers))
        return try await socket.readResponse()
    }

    /// A POST to `/mcp` of `port` with the MCP headers (and `session`'s id), on a connection of its
    /// own that is closed afterwards. (URLSession's libcurl, when a router drops a kept-alive
    /// connection whose replica died, resends a POST's headers without its body.)
    public static func post(port: Int, _ body: String, session: String? = nil) async throws -> Reply {
        var headers = [("Host", "127.0.0.1:\(port)"), ("Connection", "close")] + mcpHeaders.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let session { headers.append(("Mcp-Session-Id", session)) }
        return try await post(port: port, body: body, headers: headers)
    }

    /// `openSession` over `post(port:_:session:)`.
    public static func openSession(port: Int) async throws -> String {
        let reply = try await post(port: port, initialize)
        guard reply.status == 200, let id = reply.header("Mcp-Session-Id") else { throw Failure(reply: reply) }
        return id
    }

    public static func request(body: String, headers: [(String, String)]) -> String {
        var text = "POST /mcp HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        return text
    }
}
