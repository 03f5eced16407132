import PGConfig
import Testing

/// Loopback is decided by parsing the host, never by its prefix (DNS rebinding).
@Suite("Loopback hosts") struct LoopbackHostTests {
    @Test(arguments: [
        "127.0.0.1", "127.255.255.254", "127.0.0.0", "localhost", "LocalHost", "::1", "[::1]", "0:0:0:0:0:0:0:1",
        "[0:0:0:0:0:0:0:1]", "::0:1", "0000:0000::0001", "[0::1]",
    ])
    func loopbackForms(_ host: String) {
        #expect(LoopbackHost.contains(host))
    }

    @Test(arguments: [
        // Names that merely start like a loopback address resolve wherever their owner says.
        "127.0.0.1.rebind.attacker.example", "127.0.0.1.nip.io", "localhost.attacker.example", "[::1].example",
        // Spellings some resolvers read as 127.0.0.1: refused, a browser never sends them.
        "127.1", "127.0.1", "0x7f.0.0.1", "0177.0.0.1", "127.000.000.001", "127.0.0.01", "2130706433", "+127.0.0.1",
        "127.0.0.1.", "localhost.", "app.localhost", "127.0.0.256", "127.0.0.-1", "127..0.1",
        // IPv6 that is not ::1, or not an address at all.
        "::", "::2", "::ffff:127.0.0.1", "::1%lo", "[::1%25lo]", "[::1", "::1]", ":::1", "1::1::1", "::+1", "::1:", "[]",
        // Other addresses and nothing.
        "0.0.0.0", "10.0.0.1", "128.0.0.1", "", " 127.0.0.1", "localhost ", "lo%63alhost", "127.0.0.1:80",
    ])
    func notLoopback(_ host: String) {
        #expect(!LoopbackHost.contains(host))
    }

    @Test func addressesParseStrictly() {
        #expect(IPAddress.ipv4("10.20.30.40") == [10, 20, 30, 40])
        #expect(IPAddress.ipv4("1.2.3") == nil)
        #expect(IPAddress.ipv4("01.2.3.4") == nil)
        #expect(IPAddress.ipv4("0.0.0.0") == [0, 0, 0, 0])
        #expect(IPAddress.ipv4("255.255.255.255") == [255, 255, 255, 255])
        #expect(IPAddress.ipv4("10.0.100.1") == [10, 0, 100, 1])
        for text in ["256.0.0.1", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "00.1.2.3", "1.2.3.1000", "1.2.3.-4", "1.2.3.4 ", "", "..."] {
            #expect(IPAddress.ipv4(Substring(text)) == nil, "\(text)")
        }
        #expect(IPAddress.ipv6("fe80::1:2") == [0xfe, 0x80] + Array(repeating: 0, count: 10) + [0, 1, 0, 2])
        #expect(IPAddress.ipv6("::ffff:1.2.3.4") == Array(repeating: 0, count: 10) + [0xff, 0xff, 1, 2, 3, 4])
        #expect(IPAddress.ipv6("1:2:3:4:5:6:7:8:9") == nil)
        #expect(IPAddress.ipv6("12345::1") == nil)
    }

    /// A bind address that only looks like loopback is a name resolved by DNS: it needs the token.
    @Test func aLookalikeBindAddressNeedsAToken() throws {
        for host in ["127.0.0.1.attacker.example", "localhost.attacker.example", "127.1"] {
            #expect(throws: (any Error).self, "\(host)") { try ServerSettings(environment: ["PGMCP_HOST": host]) }
        }
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"] {
            #expect(try ServerSettings(environment: ["PGMCP_HOST": host]).bindsLoopback, "\(host)")
        }
    }
}
