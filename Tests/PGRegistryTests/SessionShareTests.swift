import PGConfig
import PGRegistry
import TestSupport
import Testing

/// PGMCP_MAX_SESSIONS and each owner's share of it (PGMCP_MAX_SESSIONS_PER_PRINCIPAL), counted over
/// sessions in the table and calls running in sessions of their own; handles found for their owner
/// only; client-chosen labels cut on the way in.
@Suite("Session places, shares and labels") struct SessionShareTests {
    static let alice = SessionOwner(credential: "sub:alice", identities: ["sub:alice", "group:dba"])

    @Test func oneOwnerHoldsAtMostItsShareAndOthersKeepTheirPlaces() async throws {
        let (registry, _) = try testRegistry {
            $0.maxSessions = 5
            $0.maxSessionsPerPrincipal = 2
        }
        let first = try registry.createSession(ownedBy: Self.alice)
        try await registry.withCallSession(label: nil, ownedBy: Self.alice) { _ in
            // A running call of alice's holds her second place: no third, session or call.
            let error = try #require(throws: RegistryError.self) { try registry.createSession(ownedBy: Self.alice) }
            #expect(error.kind == .tooManySessions)
            #expect(error.message.hasPrefix("too many sessions for sub:alice: it holds 2 of PGMCP_MAX_SESSIONS_PER_PRINCIPAL=2"), "\(error.message)")
            #expect(error.message.contains("close_session"))
            #expect(error.message.contains("DELETE /mcp"))
            #expect(error.message.contains("PGMCP_SESSION_IDLE_TIMEOUT"))
            await #expect(throws: RegistryError.self) {
                try await registry.withCallSession(label: nil, ownedBy: Self.alice) { _ in }
            }
            // A call that holds no place (it names a handle) still runs.
            try await registry.withCallSession(label: nil, ownedBy: Self.alice, holdsPlace: false) { _ in }
            // Others, and sessions without an owner (no OAuth, the operator's token), are not held back.
            _ = try registry.createSession(ownedBy: SessionOwner(credential: "sub:bob", identities: nil))
            _ = try registry.createSession()
            _ = try registry.createSession()
        }
        // The call ended: its place is free again, for alice or anyone.
        let second = try registry.createSession(ownedBy: Self.alice)
        #expect(throws: RegistryError.self) { try registry.createSession(ownedBy: Self.alice) }
        await registry.endSession(first.handle)
        _ = try registry.createSession(ownedBy: Self.alice)
        _ = second
        await registry.shutdown()
    }

    @Test func theDefaultShareIsATenthOfTheTotal() {
        var settings = ServerSettings()
        #expect(settings.sessionsPerPrincipal == 100)
        settings.maxSessions = 5
        #expect(settings.sessionsPerPrincipal == 1)
        settings.maxSessionsPerPrincipal = 3
        #expect(settings.sessionsPerPrincipal == 3)
    }

    @Test func aHandleIsFoundOnlyForTheCallerThatMadeIt() async throws {
        let (registry, _) = try testRegistry()
        let session = try registry.createSession(ownedBy: Self.alice)
        #expect(try registry.session(session.handle, ownedBy: SessionOwner(credential: Self.alice.credential, identities: Self.alice.identities?.reversed())) === session)
        for (owner, identities) in [("sub:alice", ["sub:alice"]), ("sub:mallory", Self.alice.identities), (nil, nil)] as [(String?, [String]?)] {
            let error = try #require(throws: RegistryError.self) { try registry.session(session.handle, ownedBy: SessionOwner(credential: owner, identities: identities)) }
            #expect(error.message == "unknown or expired session handle; open_session mints a new one")
        }
        await registry.shutdown()
    }

    @Test func labelsAreCutShortAndCleanOnTheWayIn() async throws {
        let (registry, _) = try testRegistry()
        func label(_ text: String) throws -> String? { try registry.createSession(label: text).label }
        #expect(try label("claude-code") == "claude-code")
        let huge = try #require(try label(String(repeating: "é", count: 1_000_000)))
        #expect(huge == String(repeating: "é", count: 63) + "…")
        #expect(try label("a\nb\r\u{1B}[31mc\u{202E}d\u{2028}e\u{0}") == "ab[31mcde")
        // Bytes are bounded too, and a cut never splits a character.
        let wide = try #require(try label(String(repeating: "👩‍👩‍👧‍👦", count: 100)))
        #expect(wide.utf8.count <= 256, "\(wide.utf8.count)")
        #expect(wide.hasSuffix("…"))
        #expect(try label("\u{1B}\u{7}") == nil)
        #expect(try label(String(repeating: "x", count: 64)) == String(repeating: "x", count: 64))
        #expect(try label(String(repeating: "x", count: 65)) == String(repeating: "x", count: 63) + "…")
        await registry.shutdown()
    }
}
