import Foundation
import Hummingbird
import Logging
import MCPTestSupport
import NIOCore
import PGConfig
import PGMCPJSON
import TestSupport
import Testing

/// pgmcp as an OAuth 2.1 resource server, against a local issuer this test starts: its keys
/// generated here, its metadata and JWKS served on loopback.
@Suite("OAuth resource server", .serialized) struct OAuthTests {
    static let audience = "http://127.0.0.1/pgmcp-test/mcp"

    /// Serves the issuer's RFC 8414 metadata and JWKS on a free loopback port.
    static func withIssuer(_ body: (TestIssuer) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let box = IssuerBox()
        let router = Router()
        router.get("/.well-known/oauth-authorization-server") { _, _ in
            let issuer = try #require(box.issuer)
            let document: JSONValue = ["issuer": .string(issuer.name), "jwks_uri": .string(issuer.name + "/jwks")]
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: document.jsonText)))
        }
        router.get("/jwks") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: box.issuer?.jwks ?? "{}")))
        }
        var logger = Logger(label: "issuer")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let issuer = TestIssuer(name: "http://127.0.0.1:\(port)")
        box.issuer = issuer
        do {
            try await body(issuer)
            task.cancel()
        } catch {
            task.cancel()
            throw error
        }
    }

    final class IssuerBox: @unchecked Sendable {
        var issuer: TestIssuer?
    }

    /// A server on the fixture's two entries, OAuth on: `dev` only for group dba and written only
    /// by alice; `ro` for every authenticated caller.
    func withServer(_ tweak: @escaping (inout ServerSettings) -> Void = { _ in }, _ body: (String, TestIssuer) async throws -> Void) async throws {
        try await Self.withIssuer { issuer in
            try await Fixture.withServer(
                entries: { fixture in
                    fixture.dev.allowedPrincipals = ["group:dba"]
                    fixture.dev.writePrincipals = ["sub:alice"]
                    fixture.ro.allowedPrincipals = ["*"]
                },
                settings: { settings in
                    settings.oauthIssuer = issuer.name
                    settings.oauthAudience = Self.audience
                    settings.oauthRequiredScopes = ["pgmcp"]
                    tweak(&settings)
                }
            ) { server, _ in try await body(server.url.absoluteString, issuer) }
        }
    }

    func headers(_ token: String?) -> [String: String] {
        var headers = RawHTTP.mcpHeaders
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return headers
    }

    func token(_ issuer: TestIssuer, subject: String = "alice", groups: [String] = ["dba"], scope: String = "pgmcp") async throws -> String {
        try await issuer.token(issuer.claims(audience: Self.audience, subject: subject, scope: scope, groups: groups))
    }

    @Test func tokensAreCheckedAndRefusalsSayWhereToGetOne() async throws {
        try await withServer { url, issuer in
            let base = url.replacingOccurrences(of: "/mcp", with: "")
            let metadata = try await RawHTTP.send("GET", base + "/.well-known/oauth-protected-resource/pgmcp-test/mcp", headers: [:])
            #expect(metadata.status == 200)
            #expect(metadata.json?["resource"] == .string(Self.audience))
            #expect(metadata.json?["authorization_servers"] == [.string(issuer.name)])
            let challenge = "Bearer resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/pgmcp-test/mcp\""

            let none = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: headers(nil))
            #expect(none.status == 401)
            #expect(none.header("WWW-Authenticate") == challenge)
            let bad: [(String, String)] = [
                ("wrong audience", try await issuer.token(issuer.claims(audience: "https://other.example/mcp"))),
                ("expired", try await issuer.token(issuer.claims(audience: Self.audience, expires: -300))),
                ("wrong issuer", try await issuer.token(issuer.claims(audience: Self.audience, issuer: "https://evil.example"))),
                ("unknown key", try await issuer.token(issuer.claims(audience: Self.audience), kid: "k9", signer: .init())),
                ("not a JWT", "opaque"),
            ]
            for (name, token) in bad {
                let reply = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: headers(token))
                #expect(reply.status == 401, "\(name)")
                #expect(reply.header("WWW-Authenticate")?.hasPrefix(challenge + ", error=\"invalid_token\"") == true, "\(name): \(reply.header("WWW-Authenticate") ?? "")")
                #expect(!reply.body.contains(token), "\(name)")
            }
            let unscoped = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: headers(try await token(issuer, scope: "other")))
            #expect(unscoped.status == 403)
            #expect(unscoped.header("WWW-Authenticate")?.contains("error=\"insufficient_scope\"") == true)
            #expect(unscoped.header("WWW-Authenticate")?.contains("scope=\"pgmcp\"") == true)
            let valid = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: headers(try await token(issuer)))
            #expect(valid.status == 200, "\(valid.body)")
            // /metrics is behind the same door.
            #expect(try await RawHTTP.send("GET", base + "/metrics", headers: [:]).status == 401)
            #expect(try await RawHTTP.send("GET", base + "/metrics", headers: ["Authorization": "Bearer \(try await token(issuer))"]).status == 403)
        }
    }

    @Test func eachPrincipalSeesAndWritesOnlyItsDatabases() async throws {
        try await withServer { url, issuer in
            func list(_ token: String) async throws -> [String] {
                let session = try await RawHTTP.openSession(url, headers: headers(token))
                let reply = try await RawHTTP.send(
                    "POST", url, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_databases","arguments":{}}}"#,
                    headers: headers(token).merging(["Mcp-Session-Id": session]) { $1 })
                return reply.json?["result"]?["structuredContent"]?["databases"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            }
            let alice = try await token(issuer)
            let bob = try await token(issuer, subject: "bob", groups: [])
            let carol = try await token(issuer, subject: "carol", groups: ["dba"])
            #expect(try await list(alice) == ["dev", "ro"])
            #expect(try await list(bob) == ["ro"])
            #expect(try await list(carol) == ["dev", "ro"])
            // Under 2026-07-28 too, with a call alone.
            let modern = try await MCP2026.call(url, "query", ["sql": "SELECT 1", "database": "dev"], headers: ["Authorization": "Bearer \(bob)"])
            #expect(modern.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown database 'dev'") == true, "\(modern.body)")
            let write: JSONValue = ["sql": "UPDATE customers SET name = name WHERE id = 1", "database": "dev"]
            let byCarol = try await MCP2026.call(url, "execute", write, headers: ["Authorization": "Bearer \(carol)"])
            #expect(byCarol.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("read-only") == true, "\(byCarol.body)")
            let byAlice = try await MCP2026.call(url, "execute", write, headers: ["Authorization": "Bearer \(alice)"])
            #expect(byAlice.json?["result"]?["structuredContent"]?["rowsAffected"] == 1, "\(byAlice.body)")
        }
    }

    @Test func handlesAndSessionsBelongToThePrincipalThatMadeThem() async throws {
        try await withServer { url, issuer in
            let alice = try await token(issuer)
            let mallory = try await token(issuer, subject: "mallory")
            let opened = try await MCP2026.call(url, "open_session", [:], headers: ["Authorization": "Bearer \(alice)"])
            let handle = try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue)
            let use: JSONValue = ["session": .string(handle)]
            let byAlice = try await MCP2026.call(url, "current_database", use, headers: ["Authorization": "Bearer \(alice)"])
            #expect(byAlice.json?["result"]?["isError"] == false, "\(byAlice.body)")
            let byMallory = try await MCP2026.call(url, "current_database", use, headers: ["Authorization": "Bearer \(mallory)"])
            #expect(byMallory.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown or expired session handle") == true)
            // An Mcp-Session-Id too: to another principal it does not exist.
            let session = try await RawHTTP.openSession(url, headers: headers(alice))
            let stolen = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, headers: headers(mallory).merging(["Mcp-Session-Id": session]) { $1 })
            #expect(stolen.status == 404)
            let deleted = try await RawHTTP.send("DELETE", url, headers: headers(mallory).merging(["Mcp-Session-Id": session]) { $1 })
            #expect(deleted.status == 404)
            // GET (405 for a session of one's own) does not reveal that the session exists either.
            #expect(try await RawHTTP.send("GET", url, headers: headers(alice).merging(["Mcp-Session-Id": session]) { $1 }).status == 405)
            #expect(try await RawHTTP.send("GET", url, headers: headers(mallory).merging(["Mcp-Session-Id": session]) { $1 }).status == 404)
            // The same subject with fewer rights (out of group dba) does not inherit the session's.
            let demoted = try await token(issuer, groups: [])
            let narrowed = try await RawHTTP.send(
                "POST", url, body: #"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#, headers: headers(demoted).merging(["Mcp-Session-Id": session]) { $1 })
            #expect(narrowed.status == 404)
            let byDemoted = try await MCP2026.call(url, "current_database", use, headers: ["Authorization": "Bearer \(demoted)"])
            #expect(byDemoted.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown or expired session handle") == true)
        }
    }

    /// close_session asks what every other path asks (`WorkSession.belongs`): the same subject with
    /// fewer rights cannot end a session it could not use.
    @Test func aNarrowerTokenOfTheSameSubjectCannotCloseTheSession() async throws {
        try await withServer { url, issuer in
            let alice = ["Authorization": "Bearer \(try await token(issuer))"]
            let demoted = ["Authorization": "Bearer \(try await token(issuer, groups: []))"]
            let opened = try await MCP2026.call(url, "open_session", [:], headers: alice)
            let handle = JSONValue.string(try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue))
            let refused = try await MCP2026.call(url, "close_session", ["session": handle], headers: demoted)
            #expect(refused.json?["result"]?["isError"] == true, "\(refused.body)")
            #expect(refused.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown or expired session handle") == true)
            let used = try await MCP2026.call(url, "current_database", ["session": handle], headers: alice)
            #expect(used.json?["result"]?["isError"] == false, "\(used.body)")
            let closed = try await MCP2026.call(url, "close_session", ["session": handle], headers: alice)
            #expect(closed.json?["result"]?["structuredContent"]?["closed"] == handle, "\(closed.body)")
        }
    }

    /// Each subject holds at most PGMCP_MAX_SESSIONS_PER_PRINCIPAL places (MCP sessions, handles,
    /// calls running without a handle), so one subject cannot lock the others out; the refusal says
    /// whose share is full and how to free a place.
    @Test func oneSubjectCannotTakeEverySessionPlace() async throws {
        try await withServer({
            $0.maxSessions = 6; $0.maxSessionsPerPrincipal = 2
        }) { url, issuer in
            let aliceToken = try await token(issuer)
            let alice = ["Authorization": "Bearer \(aliceToken)"]
            let bob = ["Authorization": "Bearer \(try await token(issuer, subject: "bob", groups: []))"]
            _ = try await RawHTTP.openSession(url, headers: headers(aliceToken))
            let opened = try await MCP2026.call(url, "open_session", [:], headers: alice)
            let handle = JSONValue.string(try #require(opened.json?["result"]?["structuredContent"]?["session"]?.stringValue))
            func expectFull(_ message: String?, _ comment: Comment) {
                #expect(message?.contains("too many sessions for sub:alice") == true, "\(comment): \(message ?? "nil")")
                #expect(message?.contains("PGMCP_MAX_SESSIONS_PER_PRINCIPAL=2") == true, comment)
                #expect(message?.contains("close_session") == true, comment)
            }
            let third = try await MCP2026.call(url, "open_session", [:], headers: alice)
            expectFull(third.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue, "open_session")
            let initialize = try await RawHTTP.send("POST", url, body: RawHTTP.initialize, headers: headers(aliceToken))
            #expect(initialize.status == 503)
            expectFull(initialize.json?["error"]?["message"]?.stringValue, "initialize")
            let alone = try await MCP2026.call(url, "query", ["sql": "SELECT 1"], headers: alice)
            #expect(alone.json?["error"]?["code"] == -32000)
            expectFull(alone.json?["error"]?["message"]?.stringValue, "a call alone")
            // Her handle still serves her; bob is not held back by her.
            let inHandle = try await MCP2026.call(url, "query", ["sql": "SELECT 1 AS one", "session": handle], headers: alice)
            #expect(inHandle.json?["result"]?["structuredContent"]?["rows"] == [[1]], "\(inHandle.body)")
            let byBob = try await MCP2026.call(url, "open_session", [:], headers: bob)
            #expect(byBob.json?["result"]?["structuredContent"]?["session"] != nil, "\(byBob.body)")
            #expect(try await MCP2026.call(url, "query", ["sql": "SELECT 1"], headers: bob).json?["result"]?["isError"] == false)
            // Closing one frees her place.
            _ = try await MCP2026.call(url, "close_session", ["session": handle], headers: alice)
            let again = try await MCP2026.call(url, "query", ["sql": "SELECT 2 AS two"], headers: alice)
            #expect(again.json?["result"]?["structuredContent"]?["rows"] == [[2]], "\(again.body)")

            // A call running without a handle holds one of her places while it runs.
            let running = Task { try await MCP2026.call(url, "query", ["sql": "SELECT pg_sleep(30) /* share-held */"], headers: alice) }
            let find = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%share-held */'"
            #expect(try await eventually { try await TestDatabase.rows(find) == [[1]] })
            let whileRunning = try await MCP2026.call(url, "open_session", [:], headers: alice)
            expectFull(whileRunning.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue, "while a call runs")
            _ = try await TestDatabase.rows("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%share-held */'")
            _ = try await running.value
            let afterCall = try await MCP2026.call(url, "open_session", [:], headers: alice)
            #expect(afterCall.json?["result"]?["structuredContent"]?["session"] != nil, "\(afterCall.body)")
        }
    }
}
