import Testing

@testable import PGConfig

/// When an unknown name is a slip for a known one: the rule behind "did you mean …?", and behind
/// which unknown `PGMCP_*` variables stop the server and which only get a warning.
@Suite("Closest name") struct ClosestNameTests {
    let settings = ServerSettings.variables

    @Test func slipsAreClose() {
        #expect(closest(to: "PGMCP_MAX_SESSION", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_MAX_SESSIONS")
        #expect(closest(to: "PGMCP_PROT", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_PORT")
        #expect(closest(to: "PGMCP_PORTS", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_PORT")
        #expect(closest(to: "PGMCP_HOTS", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_HOST")
        #expect(closest(to: "PGMCP_TRASNPORT", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_TRANSPORT")
        #expect(closest(to: "PGMCP_LOG_LEVL", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_LOG_LEVEL")
        #expect(closest(to: "pgmcp_auth_token", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_AUTH_TOKEN")
        #expect(closest(to: "PGMCP_AUTHTOKEN", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_AUTH_TOKEN")
        #expect(closest(to: "PGMCP_SESION_IDLE_TIMOUT", in: settings, ignoringPrefix: "PGMCP_") == "PGMCP_SESSION_IDLE_TIMEOUT")
        #expect(closest(to: "read_only", in: ["readOnly", "maxRows"]) == "readOnly")
        #expect(closest(to: "maxx", in: ["min", "max"]) == "max")
    }

    @Test func otherNamesAreNot() {
        // A shared prefix does not make short names alike, nor do two changes in four letters.
        for name in ["PGMCP_BIN", "PGMCP_HOME", "PGMCP_DIR", "PGMCP_VERSION", "PGMCP_CONFIG", "PGMCP_OPTS", "PGMCP_PATH", "PGMCP_LOG", "PGMCP_PID", "PGMCP_DATA", "PGMCP_ARGS"] {
            #expect(closest(to: name, in: settings, ignoringPrefix: "PGMCP_") == nil, "\(name)")
        }
    }

    @Test func distanceCountsASwapOfNeighboursAsOne() {
        #expect(editDistance(Array("port"), Array("prot")) == 1)
        #expect(editDistance(Array("host"), Array("home")) == 2)
        #expect(editDistance(Array(""), Array("abc")) == 3)
        #expect(editDistance(Array("sessions"), Array("session")) == 1)
    }
}
