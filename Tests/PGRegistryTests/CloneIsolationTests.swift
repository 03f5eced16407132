import PGClient
import PGConfig
import PGMCPJSON
import PGRegistry
import TestSupport
import Testing

/// `"isolation": "clone"`: a fresh, writable copy of the database per work session, dropped at its end.
@Suite("Clone isolation") struct CloneIsolationTests {
    @Test func eachSessionWritesToItsOwnCopyWhichIsDroppedAtItsEnd() async throws {
        let template = try await TestDatabase.createScratchDatabase(prefix: "tpl")
        try await TestDatabase.withConnection(database: template) { c in
            try await c.command("CREATE TABLE notes (id serial PRIMARY KEY, body text)")
            try await c.command("INSERT INTO notes (body) VALUES ('from the template')")
        }
        var entry = try TestDatabase.config(id: "fresh", database: template)
        entry.isolation = .clone
        let (registry, _) = try testRegistry(databases: [entry])
        #expect(registry.visibleDatabases(for: try registry.createSession())[0].config.readOnly == false)
        let first = try registry.createSession()
        let second = try registry.createSession()
        for (session, body) in [(first, "first"), (second, "second")] {
            try await registry.withConnection(session: session) { c, _ in
                try await c.command("INSERT INTO notes (body) VALUES ($1)", parameters: [body])
            }
        }
        let seenByFirst = try await registry.withConnection(session: first) { c, _ in
            try await c.query("SELECT body FROM notes ORDER BY id").rows
        }
        let seenBySecond = try await registry.withConnection(session: second) { c, _ in
            try await c.query("SELECT current_database(), (SELECT array_agg(body ORDER BY id) FROM notes)").rows[0]
        }
        #expect(seenByFirst == [["from the template"], ["first"]])
        #expect(seenBySecond[1] == ["from the template", "second"])
        let copy = try #require(seenBySecond[0].stringValue)
        #expect(copy.hasPrefix("pgmcp_clone_fresh_"))
        #expect(try await TestDatabase.rows("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmcp_clone_fresh_%'") == [[2]])
        // The template is untouched.
        let original = try await TestDatabase.withConnection(database: template) { try await $0.query("SELECT count(*) FROM notes").rows }
        #expect(original == [[1]])
        await registry.endSession(first.handle)
        await registry.endSession(second.handle)
        #expect(try await TestDatabase.rows("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmcp_clone_fresh_%'") == [[0]])
        await registry.shutdown()
        try await TestDatabase.dropDatabase(template)
    }

    @Test func concurrentFirstCallsShareOneCopy() async throws {
        let template = try await TestDatabase.createScratchDatabase(prefix: "tpl")
        var entry = try TestDatabase.config(id: "racy", database: template)
        entry.isolation = .clone
        let (registry, _) = try testRegistry(databases: [entry])
        let session = try registry.createSession()
        async let a = registry.withConnection(session: session) { c, _ in try await c.query("SELECT current_database()").rows[0][0] }
        async let b = registry.withConnection(session: session) { c, _ in try await c.query("SELECT current_database()").rows[0][0] }
        let (one, two) = try await (a, b)
        #expect(one == two)
        await registry.shutdown()
        #expect(try await TestDatabase.rows("SELECT count(*) FROM pg_database WHERE datname LIKE 'pgmcp_clone_racy_%'") == [[0]])
        try await TestDatabase.dropDatabase(template)
    }

    @Test func aCopysPoolGetsHousekeepingLikeAnyOther() async throws {
        let template = try await TestDatabase.createScratchDatabase(prefix: "tpl")
        var entry = try TestDatabase.config(id: "kept", database: template, pool: PoolSettings(min: 0, max: 2, idleTimeoutSeconds: 1))
        entry.isolation = .clone
        let (registry, _) = try testRegistry(databases: [entry])
        let session = try registry.createSession()
        let copy = try await registry.withConnection(session: session) { c, _ in try await c.query("SELECT current_database()").rows[0][0] }
        let name = try #require(copy.stringValue)
        let backends = "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(name)'"
        #expect(try await TestDatabase.rows(backends) == [[1]])
        // The idle connection of the copy's pool closes at its idle timeout, as a configured pool's would.
        let housekeeping = Task { await registry.run(interval: .milliseconds(200)) }
        #expect(try await eventually(within: .seconds(5)) { try await TestDatabase.rows(backends) == [[0]] })
        housekeeping.cancel()
        await registry.endSession(session.handle)
        await registry.shutdown()
        try await TestDatabase.dropDatabase(template)
    }
}
