import Foundation
import MCPTestSupport
import TestSupport
import Testing

extension ProcessTests {
    /// Wrappers export `PGMCP_*` variables of their own: pgmcp warns and runs. A slip for a setting stops it, naming the setting.
    @Test func anUnknownPGMCPVariableIsAWarningUnlessItIsASlipForASetting() async throws {
        let wrapped = try ChildProcess([pgmcpBinary, "databases"], environment: try environment(extra: ["PGMCP_BIN": "/x"]))
        let listing = try await readAll(wrapped)
        #expect(try await wrapped.wait() == 0)
        #expect(listing.contains("main"))
        #expect(wrapped.stderr.contains("warning: server settings: environment variable PGMCP_BIN: not a pgmcp setting; ignored"))

        let checked = try ChildProcess([pgmcpBinary, "check"], environment: try environment(extra: ["PGMCP_BIN": "/x"]))
        _ = try await readAll(checked)
        #expect(try await checked.wait() == 0)
        #expect(checked.stderr.contains("environment variable PGMCP_BIN: not a pgmcp setting; ignored"))

        let slip = try ChildProcess([pgmcpBinary, "databases"], environment: try environment(extra: ["PGMCP_MAX_SESSION": "5"]))
        #expect(try await slip.wait() == 2)
        #expect(slip.stderr.contains("environment variable PGMCP_MAX_SESSION: unknown setting; did you mean PGMCP_MAX_SESSIONS?"))
        #expect(!slip.stderr.contains("field"))
    }

    @Test func serveRunsWithAWrappersVariableAndLogsTheWarning() async throws {
        let port = freeLocalPort()
        let child = try ChildProcess([pgmcpBinary, "serve", "--port", String(port)], environment: try environment(extra: ["PGMCP_BIN": "/x"]))
        #expect(await eventually(within: .seconds(10)) { (try? await RawHTTP.send("GET", "http://127.0.0.1:\(port)/healthz", headers: [:]).status) == 200 })
        child.signal(SIGTERM)
        #expect(try await child.wait(timeout: .seconds(10)) == 0)
        #expect(child.stderr.contains("warning pgmcp: [pgmcp] server settings: environment variable PGMCP_BIN: not a pgmcp setting; ignored"))
    }

    /// `demo` checks its settings before it makes a cluster: a bad one fails at once, with nothing to clean up.
    @Test func demoRefusesABadSettingBeforeItCreatesACluster() async throws {
        for (name, value, expected) in [
            ("PGMCP_PORT", "not-a-port", "environment variable PGMCP_PORT: must be a whole number from 0 to 65535"),
            ("PGMCP_MAX_SESSION", "5", "did you mean PGMCP_MAX_SESSIONS?"),
            ("PGMCP_HOST", "0.0.0.0", "requires PGMCP_AUTH_TOKEN"),
        ] {
            var environment = try environment()
            environment[name] = value
            let started = ContinuousClock.now
            let child = try ChildProcess([pgmcpBinary, "demo"], environment: environment)
            let output = try await readAll(child)
            #expect(try await child.wait(timeout: .seconds(10)) == 2)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(!output.contains("creating a throwaway PostgreSQL cluster"), "\(output)")
            #expect(!child.stderr.contains("creating a throwaway PostgreSQL cluster"))
            #expect(child.stderr.contains(expected), "\(child.stderr)")
        }
        let badFlag = try ChildProcess([pgmcpBinary, "demo", "--transport", "grpc"], environment: try environment())
        let output = try await readAll(badFlag)
        #expect(try await badFlag.wait(timeout: .seconds(10)) == 2)
        #expect(!output.contains("creating a throwaway PostgreSQL cluster"))
        #expect(badFlag.stderr.contains("server settings: option --transport: must be one of http, stdio, got \"grpc\""))
    }

    /// A flag stands for its variable, and a problem with it names what the person typed.
    @Test func aBadFlagIsNamedAsTheFlagAndABadVariableAsTheVariable() async throws {
        let flag = try ChildProcess([pgmcpBinary, "serve", "--max-sessions", "lots"], environment: try environment())
        #expect(try await flag.wait() == 2)
        #expect(flag.stderr.contains("server settings: option --max-sessions: must be a whole number from 1 to 1000000, got \"lots\""), "\(flag.stderr)")
        let variable = try ChildProcess([pgmcpBinary, "serve"], environment: try environment(extra: ["PGMCP_MAX_SESSIONS": "lots"]))
        #expect(try await variable.wait() == 2)
        #expect(variable.stderr.contains("server settings: environment variable PGMCP_MAX_SESSIONS: must be a whole number from 1 to 1000000, got \"lots\""), "\(variable.stderr)")
        // The share is a flag too, checked against the total whichever way each is given.
        let share = try ChildProcess(
            [pgmcpBinary, "serve", "--max-sessions", "10", "--max-sessions-per-principal", "11"], environment: try environment())
        #expect(try await share.wait() == 2)
        #expect(share.stderr.contains("server settings: option --max-sessions-per-principal: must be at most PGMCP_MAX_SESSIONS (10), got 11"), "\(share.stderr)")
    }
}
