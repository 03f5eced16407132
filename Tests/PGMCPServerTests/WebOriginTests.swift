import Testing

@testable import PGMCPServer

/// `Origin` and `Host` values parsed as the URL grammar has them, so no lookalike passes for loopback.
@Suite("Origin and Host parsing") struct WebOriginTests {
    @Test func originsAreSchemeHostAndPortWithTheDefaultPortFilledIn() throws {
        let origin = try #require(WebOrigin("HTTPS://App.Example"))
        #expect(origin == WebOrigin("https://app.example:443"))
        #expect(origin != WebOrigin("https://app.example:8443"))
        #expect(origin != WebOrigin("http://app.example"))
        #expect(WebOrigin("http://[0:0:0:0:0:0:0:1]:80") == WebOrigin("http://[::1]"))
        #expect(WebOrigin("chrome-extension://abcdef")?.authority.port == nil)
    }

    @Test(arguments: [
        "http://localhost", "http://localhost:6274", "HTTP://LOCALHOST:6274", "https://127.0.0.1", "http://127.2.3.4:65535",
        "http://[::1]:3000", "http://[0:0:0:0:0:0:0:1]",
    ])
    func loopbackOrigins(_ text: String) throws {
        #expect(try #require(WebOrigin(Substring(text))).isLoopback)
    }

    @Test(arguments: [
        "http://127.0.0.1.rebind.attacker.example", "http://127.0.0.1@evil.example", "http://localhost@evil.example",
        "http://evil.example@127.0.0.1", "http://localhost/", "http://localhost/path", "http://localhost?x", "http://localhost#x",
        "http://127.0.0.1:99999", "http://127.0.0.1:0", "http://127.0.0.1:", "http://127.0.0.1:+80", "http://127.1", "http://0x7f.0.0.1",
        "http://2130706433", "http://127.0.0.1.", "http://localhost.", "http://%6cocalhost", "http://127.0.0.1%2eevil.example",
        "http://[::1].evil.example", "http://[::2]", "http://[::1", "null", "http://", "://localhost", "localhost",
        "http:/localhost", "1http://localhost", "ftp://localhost", "http://127.0.0.1 evil", "http://localhost, https://evil.example",
    ])
    func notLoopbackOrigins(_ text: String) {
        #expect(WebOrigin(Substring(text))?.isLoopback != true)
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:3000", "localhost:1", "LOCALHOST", "[::1]:3000", "[0:0::1]"])
    func loopbackHosts(_ text: String) throws {
        #expect(try #require(HostAndPort(Substring(text))).isLoopback)
    }

    @Test(arguments: [
        "127.0.0.1.rebind.attacker.example:3000", "localhost.attacker.example", "127.1:3000", "2130706433", "0x7f.0.0.1",
        "127.0.0.1.:3000", "localhost.:3000", "[::1]x", "[::1]:", "127.0.0.1:3000@evil.example", "127.0.0.1:65536",
        "127.0.0.1:", "", ":3000", "%6cocalhost", "[::2]:3000", "::1", "127.0.0.1 ", "127.0.0.1:3000:3000",
    ])
    func notLoopbackHosts(_ text: String) {
        #expect(HostAndPort(Substring(text))?.isLoopback != true)
    }

    /// `Verdicts` remembers what it decided (a loopback server's every request carries the same
    /// `Host`), and at most 16 answers.
    @Test func verdictsAreRememberedAndBounded() {
        let verdicts = Verdicts()
        var decided = 0
        func ask(_ text: String) -> Bool {
            verdicts.verdict(on: text) { text in
                decided += 1
                return HostAndPort(Substring(text))?.isLoopback ?? false
            }
        }
        #expect(ask("127.0.0.1:8080"))
        #expect(ask("127.0.0.1:8080"))
        #expect(!ask("evil.example"))
        #expect(decided == 2)
        for port in 1...20 { _ = ask("localhost:\(port)") }
        #expect(decided == 22)
        #expect(!ask("evil.example"))
        #expect(decided == 23)
    }
}
