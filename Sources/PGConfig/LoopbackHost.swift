/// Whether a host names this machine's loopback interface, decided by parsing the host as an
/// address, never by its prefix: `127.0.0.1.rebind.attacker.example` is a DNS name whose owner
/// points it wherever they like (DNS rebinding), and binding such a name is binding whatever it resolves to.
///
/// Counted, and nothing else:
/// - `localhost`, in any case, without a trailing dot;
/// - IPv4 in 127.0.0.0/8 written as exactly four decimal octets 0–255 without leading zeros
///   (`127.0.0.1`, `127.1.2.3`);
/// - IPv6 `::1` in any valid textual form (`::1`, `0:0:0:0:0:0:0:1`, `::0:1`), bare or in brackets.
///
/// Refused although some resolver or browser reads them as loopback: `127.1`, `0x7f.0.0.1`,
/// `0177.0.0.1`, `127.000.000.001`, `2130706433`, trailing dots (`localhost.`, `127.0.0.1.`),
/// `*.localhost`, IPv6 zone ids, IPv4-mapped `::ffff:127.0.0.1`. Browsers serialize an IP host in
/// its canonical form, so refusing the rest costs a real client nothing, and every spelling counted
/// here means the same address to every parser — there is no differential for an attacker to use.
public enum LoopbackHost {
    /// `host` as written in a URL authority (IPv6 in brackets) or bare (`PGMCP_HOST=::1`).
    public static func contains(_ host: String) -> Bool {
        if let address = IPAddress.parse(host) { return isLoopback(address) }
        return isLocalhostName(Substring(host))
    }

    /// `localhost`, ASCII case-insensitively.
    public static func isLocalhostName(_ text: Substring) -> Bool {
        text.utf8.count == 9 && text.utf8.elementsEqual("localhost".utf8) { ($0 | 0x20) == $1 }
    }

    /// Whether a parsed address (`IPAddress`) is loopback: 127.0.0.0/8, or `::1`.
    public static func isLoopback(_ address: [UInt8]) -> Bool {
        address.count == 4 ? address[0] == 127 : address == loopbackIPv6
    }

    static let loopbackIPv6: [UInt8] = [UInt8](repeating: 0, count: 15) + [1]
}
