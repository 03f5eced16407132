import MCPTestSupport
import PGMCPJSON
import Testing

extension OAuthTests {
    /// A cursor belongs to the principal whose query opened it, like a handle: to any other it does
    /// not exist (and using it does not touch it), while its owner reads on with the cursor alone.
    @Test func aCursorBelongsToThePrincipalThatOpenedIt() async throws {
        try await withServer { url, issuer in
            let alice = ["Authorization": "Bearer \(try await token(issuer))"]
            let mallory = ["Authorization": "Bearer \(try await token(issuer, subject: "mallory"))"]
            let cut: JSONValue = ["sql": "SELECT id FROM customers ORDER BY id", "database": "ro", "max_rows": 10]
            let first = try await MCP2026.call(url, "query", cut, headers: alice)
            let cursor = try #require(first.json?["result"]?["structuredContent"]?["nextCursor"]?.stringValue, "\(first.body)")
            let stolen = try await MCP2026.call(url, "query", ["cursor": .string(cursor)], headers: mallory)
            #expect(stolen.json?["result"]?["isError"] == true, "\(stolen.body)")
            #expect(stolen.json?["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("unknown, expired or finished cursor") == true)
            let next = try await MCP2026.call(url, "query", ["cursor": .string(cursor)], headers: alice)
            let rows = next.json?["result"]?["structuredContent"]?["rows"]
            #expect(rows == .array((11...20).map { [.int(Int64($0))] }), "\(next.body)")
        }
    }
}
