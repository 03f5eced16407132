/// Which libpq keywords a client's connection string may hold, and what pgmcp sets itself.
///
/// An allow-list, not a block-list: libpq gains keywords with new versions (`load_balance_hosts`,
/// `sslcertmode`, `require_auth` …), and one nobody here has thought about must be refused until
/// someone has. Each allowed keyword touches only the one connection the client asked for:
/// - `host`, `port`: the one server; checked against PGMCP_DYNAMIC_ALLOWED_HOSTS and pinned to
///   the checked address (`hostaddr`, set by pgmcp).
/// - `dbname`, `user`, `password`: which database, as whom; the client's own credentials.
/// - `sslmode`: checked against PGMCP_DYNAMIC_REQUIRE_SSL.
/// - `channel_binding`: how strictly SCRAM authentication binds to TLS; it can only protect or
///   expose the client's own password, and reaches no file and no other host.
/// - `connect_timeout`: libpq's own connect deadline; pgmcp's connect timeout bounds it anyway.
/// - `application_name`: a label in `pg_stat_activity` (pgmcp's pool name replaces it anyway).
/// - `keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count`,
///   `tcp_user_timeout`: TCP options of the one socket; at worst a dead server is noticed later
///   on that connection, whose calls pgmcp's own deadlines still bound.
/// - `sslsni`: whether the host name is sent in the TLS handshake.
/// - `gssencmode`: only `disable`, which pgmcp sets anyway.
///
/// Not allowed, among others: `sslcompression` (TLS compression leaks secrets to CRIME-style
/// attacks, and is obsolete), `ssl_min_protocol_version`/`ssl_max_protocol_version` (could lower
/// TLS below libpq's minimum), `client_encoding` (pgmcp decodes rows as UTF-8 and sets it itself),
/// `fallback_application_name` (pgmcp names its connections), and those in `reasons`.
enum DynamicConnectionKeywords {
    static let allowed: Set<String> = [
        "host", "port", "dbname", "user", "password", "sslmode", "channel_binding", "connect_timeout", "application_name",
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout", "sslsni", "gssencmode",
    ]

    /// A path that cannot exist (`/dev/null` is no directory), set for every file libpq would
    /// otherwise read by default from the server's home: `~/.pgpass`, `~/.postgresql/postgresql.crt`
    /// and its key. libpq skips a missing file silently; an existing one would lend the operator's
    /// password or client certificate to whoever wrote the connection string.
    static let nowhere = "/dev/null/pgmcp-none"

    /// What pgmcp sets on every dynamic connection, over anything the client could have written.
    /// `gssencmode=disable` keeps libpq from using the server's Kerberos credential cache for
    /// encryption. (GSSAPI *authentication*, if a server asks for it, is not disabled by libpq 15:
    /// `require_auth` is 16's; a server that asks is one the allow-list already admits.)
    static let pinned: [(keyword: String, value: String)] = [
        ("passfile", nowhere), ("sslcert", nowhere), ("sslkey", nowhere), ("gssencmode", "disable"),
    ]

    /// Why a keyword is refused, when there is more to say than that it is not allowed.
    static let reasons: [String: String] = {
        var reasons: [String: String] = [
            "hostaddr": "pgmcp sets hostaddr itself, to the address it checked; give the server as host=… (a name or an IP address)",
            "service": "a service is read from a file on the server's disk (pg_service.conf); write its settings into the connection string",
            "passfile": "it names a password file on the server's disk; give password=… instead",
            "sslpassword": "it unlocks a key file on the server's disk, which dynamic connections cannot use",
            "requirepeer": "it applies only to Unix sockets, which dynamic connections cannot use",
            "target_session_attrs": "it chooses among several hosts, and a dynamic connection has exactly one",
            "load_balance_hosts": "it chooses among several hosts, and a dynamic connection has exactly one",
            "options": "it sends server settings at start-up (-c …, such as default_transaction_read_only=off, "
                + "which would undo read-only protection); remove it",
            "replication": "a replication connection speaks another protocol than the one pgmcp's tools use",
            "client_encoding": "pgmcp reads rows as UTF-8 and sets the encoding itself",
            "sslcompression": "TLS compression exposes secrets to compression attacks and is obsolete",
            "ssl_min_protocol_version": "pgmcp keeps libpq's TLS protocol versions",
            "ssl_max_protocol_version": "pgmcp keeps libpq's TLS protocol versions",
        ]
        for file in ["sslcert", "sslkey", "sslrootcert", "sslcrl", "sslcrldir"] {
            reasons[file] = "it names a file on the server's disk; dynamic connections use the server's default TLS settings"
        }
        for kerberos in ["krbsrvname", "gsslib", "gssdelegation", "gssencmode"] {
            reasons[kerberos] = "it uses the server's Kerberos (GSSAPI) credentials, which dynamic connections do not use"
        }
        return reasons
    }()

    /// Whether `keyword=value` may stand in a client's connection string.
    static func allows(_ keyword: String, value: String) -> Bool {
        guard allowed.contains(keyword) else { return false }
        return keyword != "gssencmode" || value == "disable"
    }
}
