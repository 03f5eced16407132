/// Why the dynamic-connection policy refused a connection string: the rule (a setting such as
/// `PGMCP_DYNAMIC_ALLOWED_HOSTS`, or a rule of the policy such as `one host`) and a message that
/// names it and says what to do.
///
/// The message may name a keyword, the host and the addresses it resolved to, never any other
/// value of the string: not the string itself, not a password, not a secret keyword's value.
public struct DynamicConnectionRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var rule: String
    public var message: String

    public init(rule: String, message: String) {
        self.rule = rule
        self.message = message
    }

    public var description: String { message }
}

extension DynamicConnectionRefusal {
    static let off = DynamicConnectionRefusal(
        rule: "PGMCP_ALLOW_DYNAMIC_CONNECTIONS",
        message: "dynamic connections are off (PGMCP_ALLOW_DYNAMIC_CONNECTIONS); the server's operator can turn them on "
            + "with PGMCP_ALLOW_DYNAMIC_CONNECTIONS=true and list the hosts in PGMCP_DYNAMIC_ALLOWED_HOSTS")

    static let noAllowedHosts = DynamicConnectionRefusal(
        rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS",
        message: "PGMCP_DYNAMIC_ALLOWED_HOSTS is empty, so no host is allowed; the server's operator can list host names, "
            + "*.suffix patterns or address ranges there (e.g. PGMCP_DYNAMIC_ALLOWED_HOSTS=db.example.com,10.0.0.0/8)")

    static func unreadable(_ reason: String) -> DynamicConnectionRefusal {
        DynamicConnectionRefusal(rule: "connection string", message: reason)
    }

    static func option(_ keyword: String) -> DynamicConnectionRefusal {
        let rule = "option not allowed: \(keyword)"
        let reason = DynamicConnectionKeywords.reasons[keyword] ?? "pgmcp does not let a dynamic connection set it; remove it"
        let allowed = DynamicConnectionKeywords.allowed.sorted().joined(separator: ", ")
        return DynamicConnectionRefusal(rule: rule, message: "\(rule): \(reason) (allowed: \(allowed))")
    }

    static func oneHost(_ problem: String) -> DynamicConnectionRefusal {
        DynamicConnectionRefusal(rule: "one host", message: "one host: \(problem)")
    }

    static let unixSocket = DynamicConnectionRefusal(
        rule: "no unix socket",
        message: "no unix socket: the host is a socket directory on the server's machine; give a host name or an IP address")

    static let notAHostName = DynamicConnectionRefusal(
        rule: "host name",
        message: "host name: the host is neither a host name (letters, digits, '-', '_', dots) nor an IP address")

    static let port = DynamicConnectionRefusal(rule: "port", message: "port: the port must be one whole number from 1 to 65535")

    static let dbname = DynamicConnectionRefusal(
        rule: "dbname", message: "dbname: the database name looks like a connection string ('=' or postgresql://); give the name alone")

    static let unknownSSLMode = DynamicConnectionRefusal(
        rule: "sslmode",
        message: "sslmode: the value is none of disable, allow, prefer, require, verify-ca, verify-full")

    static let sslRequired = DynamicConnectionRefusal(
        rule: "PGMCP_DYNAMIC_REQUIRE_SSL",
        message: "PGMCP_DYNAMIC_REQUIRE_SSL: dynamic connections must use TLS; add sslmode=require "
            + "(or verify-ca, verify-full) to the connection string")

    static func notAllowed(_ problem: String) -> DynamicConnectionRefusal {
        DynamicConnectionRefusal(rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS", message: "PGMCP_DYNAMIC_ALLOWED_HOSTS: \(problem)")
    }

    static func resolution(_ problem: String) -> DynamicConnectionRefusal {
        DynamicConnectionRefusal(rule: "name resolution", message: "name resolution: \(problem)")
    }
}
