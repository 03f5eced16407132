import Dispatch
import PGClient
import TestSupport
import Testing

@testable import PGConfig

/// A resolver answering from a table; a name it does not know does not resolve.
private func fakeResolver(_ table: [String: [String]]) -> HostResolver {
    HostResolver { name in
        guard let addresses = table[name] else { throw HostLookupError(message: "the host name \(name) does not resolve (test)") }
        return addresses
    }
}

private let names = fakeResolver([
    "db.example.com": ["10.0.0.5"],
    "a.internal.example": ["10.2.0.1", "fd00::2"],
    "app.corp": ["10.9.9.9"],
    "mixed.corp": ["10.0.0.1", "192.168.1.1"],
    "two.example.com": ["10.0.0.7", "127.0.0.1"],
    "loopback.example.com": ["127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6loopback.example.com": ["::1"],
    "mapped.example.com": ["::ffff:127.0.0.1"],
    "linklocal.example.com": ["fe80::1"],
    "zero.example.com": ["0.0.0.0"],
    "v6zero.example.com": ["::"],
    "junk.example.com": ["not an address", ""],
])

private func policy(_ hosts: [String], requireSSL: Bool = false, enabled: Bool = true) -> DynamicConnectionPolicy {
    var settings = ServerSettings()
    settings.allowDynamicConnections = enabled
    settings.dynamicAllowedHosts = hosts.compactMap(HostPattern.init)
    settings.dynamicRequireSSL = requireSSL
    return DynamicConnectionPolicy(settings: settings)
}

/// The refusal of `text`, or nil when it is accepted.
private func refusal(_ policy: DynamicConnectionPolicy, _ text: String, resolver: HostResolver = names) async -> DynamicConnectionRefusal? {
    do {
        _ = try await policy.check(text, resolve: resolver)
        return nil
    } catch {
        return error
    }
}

/// Expects `text` refused by `rule`, with a message that names the rule.
private func expectRefused(
    _ policy: DynamicConnectionPolicy, _ text: String, rule: String, resolver: HostResolver = names, sourceLocation: SourceLocation = #_sourceLocation
) async {
    let refused = await refusal(policy, text, resolver: resolver)
    #expect(refused?.rule == rule, "\(text): \(refused?.message ?? "accepted")", sourceLocation: sourceLocation)
    if let refused { #expect(refused.message.contains(rule), "\(refused.message)", sourceLocation: sourceLocation) }
}

@Suite("Dynamic connection policy") struct DynamicConnectionPolicyTests {
    @Test func offByDefault() async {
        let refused = await refusal(DynamicConnectionPolicy(settings: ServerSettings()), "host=db.example.com sslmode=require")
        #expect(refused?.rule == "PGMCP_ALLOW_DYNAMIC_CONNECTIONS")
        #expect(refused?.message.contains("PGMCP_ALLOW_DYNAMIC_CONNECTIONS=true") == true)
    }

    @Test func anEmptyAllowListAllowsNothing() async {
        let refused = await refusal(policy([]), "host=db.example.com")
        #expect(refused?.rule == "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        #expect(refused?.message.contains("PGMCP_DYNAMIC_ALLOWED_HOSTS=") == true)
    }

    @Test func anAllowedNameConnectsToTheAddressThatWasChecked() async throws {
        let parameters = try await policy(["db.example.com"]).check(
            "host=db.example.com port=6543 dbname=app user=alice password=pw sslmode=require application_name=x", resolve: names)
        #expect(parameters["host"] == "db.example.com")
        #expect(parameters["hostaddr"] == "10.0.0.5")
        #expect(parameters["port"] == "6543")
        #expect(parameters["dbname"] == "app")
        #expect(parameters["user"] == "alice")
        #expect(parameters["password"] == "pw")
        #expect(parameters["sslmode"] == "require")
    }

    /// Nothing of the server's own reaches a client's connection: no password file, no client
    /// certificate, no Kerberos, and not PGPASSWORD (libpq replaces an empty password by it, so none
    /// given becomes a placeholder).
    @Test func theServersFilesAndCredentialsArePinnedAway() async throws {
        let parameters = try await policy(["db.example.com"]).check("host=db.example.com user=alice", resolve: names)
        #expect(parameters["password"] == DynamicConnectionPolicy.noPassword)
        let empty = try await policy(["db.example.com"]).check("host=db.example.com user=alice password=''", resolve: names)
        #expect(empty["password"] == DynamicConnectionPolicy.noPassword)
        #expect(parameters["passfile"] == DynamicConnectionKeywords.nowhere)
        #expect(parameters["sslcert"] == DynamicConnectionKeywords.nowhere)
        #expect(parameters["sslkey"] == DynamicConnectionKeywords.nowhere)
        #expect(parameters["gssencmode"] == "disable")
        #expect(!parameters.description.contains("password=p"))
        // gssencmode=disable is the one value a client may write.
        #expect(await refusal(policy(["db.example.com"]), "host=db.example.com gssencmode=disable") == nil)
    }

    @Test func aSuffixWildcardMatchesSubdomainsOnly() async throws {
        let parameters = try await policy(["*.internal.example"]).check("host=a.internal.example", resolve: names)
        #expect(parameters["hostaddr"] == "10.2.0.1")
        await expectRefused(policy(["*.internal.example"]), "host=internal.example", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
    }

    @Test func aCIDRRangeAllowsAddressesAndNamesResolvingIntoIt() async throws {
        let range = policy(["10.0.0.0/8"])
        #expect(try await range.check("host=10.1.2.3", resolve: names)["hostaddr"] == "10.1.2.3")
        #expect(try await range.check("host=app.corp", resolve: names)["hostaddr"] == "10.9.9.9")
        #expect(try await range.check("host=app.corp", resolve: names)["host"] == "app.corp")
        // An IPv4-mapped IPv6 literal is the IPv4 address it reaches.
        let mapped = try await range.check("host=::ffff:10.0.0.1", resolve: names)
        #expect(mapped["hostaddr"] == "10.0.0.1")
        await expectRefused(range, "host=11.0.0.1", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        await expectRefused(range, "host=::ffff:11.0.0.1", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        await expectRefused(range, "host=db.example.com port=1", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS", resolver: fakeResolver(["db.example.com": ["11.0.0.1"]]))

        let v6 = try await policy(["fd00::/8"]).check("postgresql://[fd00::5]:5432/app", resolve: names)
        #expect(v6["host"] == "fd00::5")
        #expect(v6["hostaddr"] == "fd00::5")
        #expect(try await policy(["fd00::/8"]).check("host=[FD00:0::5]", resolve: names)["hostaddr"] == "fd00::5")
    }

    @Test func aHostOutsideTheListIsRefused() async {
        await expectRefused(policy(["db.example.com"]), "host=other.example.com", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        await expectRefused(policy(["db.example.com"]), "host=10.0.0.5", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        let refused = await refusal(policy(["db.example.com"]), "host=other.example.com")
        #expect(refused?.message.contains("other.example.com") == true)
    }

    /// A name an attacker controls may point anywhere: into loopback, link-local (the metadata
    /// service) or the unspecified address; a name pattern does not allow that.
    @Test func aNameResolvingIntoAForbiddenRangeIsRefused() async {
        let wildcard = policy(["*.example.com", "10.0.0.0/8"])
        let cases = [
            ("loopback.example.com", "127.0.0.1", "loopback"), ("metadata.example.com", "169.254.169.254", "link-local"),
            ("v6loopback.example.com", "::1", "loopback"), ("mapped.example.com", "127.0.0.1", "loopback"),
            ("linklocal.example.com", "fe80::1", "link-local"), ("zero.example.com", "0.0.0.0", "this network"),
            ("v6zero.example.com", "::", "unspecified"),
        ]
        for (name, address, what) in cases {
            let refused = await refusal(wildcard, "host=\(name) sslmode=require")
            #expect(refused?.rule == "PGMCP_DYNAMIC_ALLOWED_HOSTS", "\(name)")
            #expect(refused?.message.contains(address) == true, "\(refused?.message ?? "accepted")")
            #expect(refused?.message.contains(what) == true, "\(refused?.message ?? "accepted")")
        }
        #expect(DynamicConnectionPolicy.forbiddenRanges.count == 6)
    }

    @Test func anExplicitAddressPatternAllowsAForbiddenAddress() async throws {
        let parameters = try await policy(["*.example.com", "127.0.0.1"]).check("host=loopback.example.com", resolve: names)
        #expect(parameters["hostaddr"] == "127.0.0.1")
        #expect(try await policy(["127.0.0.0/8"]).check("host=loopback.example.com", resolve: names)["hostaddr"] == "127.0.0.1")
    }

    @Test func everyResolvedAddressMustBeAllowed() async {
        await expectRefused(policy(["10.0.0.0/8"]), "host=mixed.corp", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        await expectRefused(policy(["*.example.com"]), "host=two.example.com", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS")
        await expectRefused(policy(["*.example.com"]), "host=nowhere.example.com", rule: "name resolution")
        await expectRefused(policy(["*.example.com"]), "host=junk.example.com", rule: "name resolution")
    }

    @Test func theShapeOfTheStringIsChecked() async {
        let allowed = policy(["*.example.com", "10.0.0.0/8"])
        let cases: [(String, String)] = [
            ("host=/tmp dbname=app", "no unix socket"),
            ("host=@abstract dbname=app", "no unix socket"),
            ("postgresql://u@db.example.com/app?host=%2Ftmp", "no unix socket"),
            ("dbname=app user=u", "one host"),
            ("host='' dbname=app", "one host"),
            ("host= dbname=app", "host name"),  // libpq reads host="dbname=app"
            ("postgresql:///app", "one host"),
            ("postgresql://u:pw@/app", "one host"),
            ("host=a.example.com,b.example.com", "one host"),
            ("postgresql://a.example.com,b.example.com/app", "one host"),
            ("postgresql://a.example.com:1,b.example.com:2/app", "one host"),
            ("host=db.example.com port=5432,5433", "one host"),
            ("host=db.example.com port=99999", "port"),
            ("host=db.example.com port=0", "port"),
            ("host=db.example.com port=x", "port"),
            ("host=bad!host", "host name"),
            ("host=db.example.com.", "host name"),
            ("host=fe80::1%eth0", "host name"),
            ("host=db.example.com dbname='host=evil.example.org'", "dbname"),
            ("host=db.example.com dbname=postgresql://evil.example.org/x", "dbname"),
            ("host=db.example.com sslmode=bogus", "sslmode"),
            ("host=db.example.com frobnicate=1", "connection string"),
            ("host=db.example.com load_balance_hosts=random", "connection string"),
        ]
        for (text, rule) in cases { await expectRefused(allowed, text, rule: rule) }
    }

    @Test func onlyAllowedKeywordsMayAppear() async {
        let allowed = policy(["*.example.com"])
        let refusedKeywords: [(String, String)] = [
            ("hostaddr", "10.0.0.5"), ("service", "prod"), ("passfile", "/tmp/pgpass"), ("options", "'-c default_transaction_read_only=off'"),
            ("sslkey", "/tmp/k"), ("sslcert", "/tmp/c"), ("sslrootcert", "/tmp/r"), ("sslcrl", "/tmp/l"), ("sslcrldir", "/tmp"),
            ("sslpassword", "x"), ("krbsrvname", "postgres"), ("gsslib", "gssapi"), ("gssencmode", "require"), ("gssencmode", "prefer"),
            ("requirepeer", "postgres"), ("target_session_attrs", "any"), ("replication", "database"), ("client_encoding", "LATIN1"),
            ("sslcompression", "1"), ("ssl_min_protocol_version", "TLSv1"), ("fallback_application_name", "x"),
        ]
        for (keyword, value) in refusedKeywords {
            await expectRefused(allowed, "host=db.example.com \(keyword)=\(value) sslmode=require", rule: "option not allowed: \(keyword)")
        }
        await expectRefused(allowed, "postgresql://u@db.example.com/app?passfile=%2Ftmp%2Fp", rule: "option not allowed: passfile")
        let options = await refusal(allowed, "host=db.example.com options='-c default_transaction_read_only=off'")
        #expect(options?.message.contains("default_transaction_read_only=off") == true, "the reason names the danger")
        let accepted = [
            "host=db.example.com port=5432 dbname=d user=u password=p sslmode=require channel_binding=require connect_timeout=3",
            "host=db.example.com application_name=a keepalives=1 keepalives_idle=5 keepalives_interval=5 keepalives_count=2",
            "host=db.example.com tcp_user_timeout=1000 sslsni=0 gssencmode=disable",
        ]
        for text in accepted { #expect(await refusal(allowed, text) == nil, "\(text)") }
    }

    @Test func sslIsRequiredWhenTheSettingSaysSo() async throws {
        let strict = policy(["*.example.com"], requireSSL: true)
        for text in ["host=db.example.com", "host=db.example.com sslmode=disable", "host=db.example.com sslmode=allow", "postgresql://db.example.com/app?sslmode=prefer"] {
            await expectRefused(strict, text, rule: "PGMCP_DYNAMIC_REQUIRE_SSL")
            #expect(await refusal(strict, text)?.message.contains("sslmode=require") == true)
        }
        for mode in ["require", "verify-ca", "verify-full"] {
            #expect(try await strict.check("host=db.example.com sslmode=\(mode)", resolve: names)["sslmode"] == mode)
        }
        #expect(try await strict.check("postgresql://db.example.com/app?ssl=true", resolve: names)["sslmode"] == "require")

        let lax = policy(["*.example.com"], requireSSL: false)
        #expect(await refusal(lax, "host=db.example.com") == nil)
        #expect(await refusal(lax, "host=db.example.com sslmode=disable") == nil)
    }

    @Test func uriAndKeyValueFormsGiveTheSameParameters() async throws {
        let allowed = policy(["db.example.com"])
        let uri = try await allowed.check("postgresql://alice:s%40cret@db.example.com:6543/app?sslmode=require&connect_timeout=4", resolve: names)
        let pairs = try await allowed.check("host=db.example.com port=6543 dbname=app user=alice password=s@cret sslmode=require connect_timeout=4", resolve: names)
        #expect(uri.description == pairs.description)
        #expect(uri["password"] == "s@cret")
        #expect(uri["hostaddr"] == "10.0.0.5")
        #expect(try await allowed.check("postgres://db.example.com", resolve: names)["host"] == "db.example.com")
    }

    /// No refusal's message holds any piece of a password, whichever rule refuses and however
    /// the password is written; nor does a resolver's error that quotes one.
    @Test func refusalsNeverShowThePassword() async throws {
        let open = policy(["*.example.com", "10.0.0.0/8"], requireSSL: true)
        // (policy, key=value text after the password, URI after "@", rule)
        let paths: [(DynamicConnectionPolicy, String, String, String)] = [
            (policy([], enabled: false), "host=db.example.com", "db.example.com/app", "PGMCP_ALLOW_DYNAMIC_CONNECTIONS"),
            (policy([]), "host=db.example.com", "db.example.com/app", "PGMCP_DYNAMIC_ALLOWED_HOSTS"),
            (open, "host=db.example.com frobnicate=1", "db.example.com/app?frobnicate=1", "connection string"),
            (open, "host=db.example.com passfile=/tmp/p sslmode=require", "db.example.com/app?passfile=%2Ftmp&sslmode=require", "option not allowed: passfile"),
            (open, "host=db.example.com options=-cx=y sslmode=require", "db.example.com/app?options=-cx%3Dy&sslmode=require", "option not allowed: options"),
            (open, "host=db.example.com hostaddr=10.0.0.1 sslmode=require", "db.example.com/app?hostaddr=10.0.0.1&sslmode=require", "option not allowed: hostaddr"),
            (open, "dbname=app sslmode=require", "/app?sslmode=require", "one host"),
            (open, "host=a.example.com,b.example.com sslmode=require", "a.example.com,b.example.com/app?sslmode=require", "one host"),
            (open, "host=/tmp sslmode=require", "/app?host=%2Ftmp&sslmode=require", "no unix socket"),
            (open, "host=db.example.com port=0 sslmode=require", "db.example.com:0/app?sslmode=require", "port"),
            (open, "host=db.example.com", "db.example.com/app", "PGMCP_DYNAMIC_REQUIRE_SSL"),
            (open, "host=other.example.org sslmode=require", "other.example.org/app?sslmode=require", "name resolution"),
            (policy(["db.example.com"]), "host=other.example.org", "other.example.org/app", "PGMCP_DYNAMIC_ALLOWED_HOSTS"),
            (open, "host=metadata.example.com sslmode=require", "metadata.example.com/app?sslmode=require", "PGMCP_DYNAMIC_ALLOWED_HOSTS"),
            (open, "host=11.0.0.1 sslmode=require", "11.0.0.1/app?sslmode=require", "PGMCP_DYNAMIC_ALLOWED_HOSTS"),
        ]
        for password in SecretFragments.passwords + [#"p@ss w'rd\"%"#] {
            let leakyResolver = HostResolver { name in throw LeakyError(text: "cannot resolve \(name) for \(password)") }
            let forms: [(String, (String, String) -> String)] = [
                ("key=value", { _, rest in "user=u password=\(SecretFragments.quoted(password)) \(rest)" }),
                ("URI", { uri, _ in "postgresql://u:\(SecretFragments.percentEncoded(password))@\(uri)" }),
            ]
            for (policy, rest, uri, rule) in paths {
                for (form, write) in forms {
                    let text = write(uri, rest)
                    let refused = await refusal(policy, text)
                    #expect(refused != nil, "\(form) \(rule): accepted")
                    guard let refused else { continue }
                    #expect(refused.rule == rule, "\(form) \(rule): \(refused.message)")
                    let context = "user=u password= \(rest) postgresql://u:@\(uri)"
                    let leaked = SecretFragments.leaked(password, written: SecretFragments.percentEncoded(password), in: refused.message, context: context)
                    #expect(leaked.isEmpty, "\(form) \(rule): \(leaked) in \(refused.message)")
                }
            }
            let resolverRefusal = await refusal(open, "host=db.example.com password=\(SecretFragments.quoted(password)) sslmode=require", resolver: leakyResolver)
            #expect(resolverRefusal?.rule == "name resolution")
            #expect(resolverRefusal.map { SecretFragments.leaked(password, in: $0.message, context: "").isEmpty } ?? false)
            // Accepted, the password comes through whole.
            let accepted = try await policy(["db.example.com"]).check(
                "postgresql://u:\(SecretFragments.percentEncoded(password))@db.example.com/app", resolve: names)
            #expect(accepted["password"] == password)
        }
    }

    /// getaddrinfo on its own thread answers for `localhost`.
    @Test func theSystemResolverFindsLocalhost() async throws {
        let addresses = try await HostResolver.system.lookup("localhost")
        #expect(addresses.contains("127.0.0.1") || addresses.contains("::1"), "\(addresses)")
        #expect(Set(addresses).count == addresses.count)
        // A name allowed by name only may not resolve into loopback; listing the addresses allows it.
        await expectRefused(policy(["localhost"]), "host=localhost", rule: "PGMCP_DYNAMIC_ALLOWED_HOSTS", resolver: .system)
        let parameters = try await policy(["localhost", "127.0.0.0/8", "::1"]).check("host=localhost", resolve: .system).description
        #expect(parameters.contains("hostaddr=127.0.0.1") || parameters.contains("hostaddr=::1"), "\(parameters)")
    }

    @Test func theSystemResolverCapsLookupsInFlight() async {
        await #expect(throws: HostLookupError.self) { try await SystemHostLookup(limit: 0).addresses(of: "localhost", deadline: .seconds(5)) }
    }

    /// A lookup stuck in a frozen resolver answers by its deadline, and keeps its place under the
    /// cap until it really ends, so stuck lookups cannot pile up threads.
    @Test(.timeLimit(.minutes(1))) func aLookupThatHangsAnswersByItsDeadlineAndKeepsItsPlace() async throws {
        let frozen = DispatchSemaphore(value: 0)
        let lookup = SystemHostLookup(limit: 1) { _ in
            frozen.wait()
            frozen.signal()
            return .success(["10.0.0.1"])
        }
        let late = await #expect(throws: HostLookupError.self) { try await lookup.addresses(of: "frozen.example", deadline: .milliseconds(20)) }
        #expect(late?.message.contains("took longer than") == true, "\(String(describing: late))")
        let refused = await #expect(throws: HostLookupError.self) { try await lookup.addresses(of: "other.example", deadline: .seconds(5)) }
        #expect(refused?.message.contains("already under way") == true, "\(String(describing: refused))")
        frozen.signal()
        #expect(await eventually { (try? await lookup.addresses(of: "thawed.example", deadline: .seconds(5))) == ["10.0.0.1"] })
    }

    @Test func hostPatternsTellNamesFromAddressRanges() throws {
        #expect(try #require(HostPattern("10.0.0.0/8")).isAddressRange)
        #expect(try #require(HostPattern("::1")).isAddressRange)
        #expect(try #require(HostPattern("db.example.com")).isAddressRange == false)
        #expect(try #require(HostPattern("*.example.com")).isAddressRange == false)
        #expect(try #require(HostPattern("10.0.0.0/8")).matches(address: [10, 1, 2, 3]))
        #expect(try #require(HostPattern("10.0.0.0/8")).matches(address: [11, 1, 2, 3]) == false)
        #expect(try #require(HostPattern("*.0.1")).matches(address: [127, 0, 0, 1]) == false)
        #expect(HostPattern.isHostName("db.example.com"))
        #expect(HostPattern.isHostName("db.example.com.") == false)
        #expect(HostPattern.isHostName("a b") == false)
    }
}

/// A resolver's error that quotes what it was given.
private struct LeakyError: Error { var text: String }
