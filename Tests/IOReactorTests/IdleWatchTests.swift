import IOReactor
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `IOReactor.watchWhileIdle`: a socket armed after its last use tells, without a system call,
/// whether anything arrived since, hands what did to the next wait, and stays armed for that wait.
@Suite("Idle watch") struct IdleWatchTests {
    let reactor = IOReactor.shared
    let owner = ObjectIdentifier(IdleWatchTests.self)

    /// A connected pair of stream sockets: ours and the peer's.
    func socketPair() throws -> (ours: Int32, peer: Int32) {
        var descriptors: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &descriptors) == 0)
        return (descriptors[0], descriptors[1])
    }

    func close(_ pair: (ours: Int32, peer: Int32)) {
        reactor.forget(pair.ours, owner: owner)
        _ = Glibc.close(pair.ours)
        _ = Glibc.close(pair.peer)
    }

    func send(_ byte: UInt8, to socket: Int32) {
        var byte = byte
        _ = Glibc.write(socket, &byte, 1)
    }

    func readAll(_ socket: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(socket, &buffer, buffer.count) > 0 {}
    }

    /// The status once the reactor's thread has seen what the kernel did, or the last one seen.
    func status(of socket: Int32, becomes expected: IOReactor.IdleStatus) async throws -> IOReactor.IdleStatus {
        let deadline = ContinuousClock.now + .seconds(5)
        while reactor.idleStatus(socket, owner: owner) != expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        return reactor.idleStatus(socket, owner: owner)
    }

    /// `wait`, or nil when it has not returned within five seconds (a wait that was never armed,
    /// ended then by forgetting the socket).
    func waitBriefly(on socket: Int32) async -> IOReactor.Readiness? {
        await withTaskGroup(of: IOReactor.Readiness?.self) { group in
            group.addTask { await reactor.wait(socket, owner: owner) }
            group.addTask {
                try? await Task.sleep(for: .seconds(5))
                return nil
            }
            let first = await group.next()!
            if first == nil { reactor.forget(socket, owner: owner) }
            group.cancelAll()
            return first
        }
    }

    @Test func aSocketNeverWatchedIsUnknownAndAQuietOneIsQuiet() throws {
        let pair = try socketPair()
        defer { close(pair) }
        #expect(reactor.idleStatus(pair.ours, owner: owner) == .unknown)
        reactor.watchWhileIdle(pair.ours, owner: owner)
        #expect(reactor.idleStatus(pair.ours, owner: owner) == .quiet)
    }

    @Test func whatArrivesWhileIdleStirsItAndGoesToTheNextWait() async throws {
        let pair = try socketPair()
        defer { close(pair) }
        reactor.watchWhileIdle(pair.ours, owner: owner)
        send(1, to: pair.peer)
        #expect(try await status(of: pair.ours, becomes: .stirred) == .stirred)
        let readiness = await waitBriefly(on: pair.ours)
        #expect(readiness?.readable == true)
        // Handed over once: read, watched again, quiet again.
        readAll(pair.ours)
        reactor.watchWhileIdle(pair.ours, owner: owner)
        #expect(reactor.idleStatus(pair.ours, owner: owner) == .quiet)
    }

    @Test func thePeerClosingStirsAnIdleSocket() async throws {
        let pair = try socketPair()
        defer {
            reactor.forget(pair.ours, owner: owner)
            _ = Glibc.close(pair.ours)
        }
        reactor.watchWhileIdle(pair.ours, owner: owner)
        _ = Glibc.close(pair.peer)
        #expect(try await status(of: pair.ours, becomes: .stirred) == .stirred)
    }

    @Test func aWaitOnASocketWatchedWhileIdleWakesWithoutArmingAgain() async throws {
        let pair = try socketPair()
        defer { close(pair) }
        reactor.watchWhileIdle(pair.ours, owner: owner)
        async let readiness = waitBriefly(on: pair.ours)
        try await Task.sleep(for: .milliseconds(50))
        send(2, to: pair.peer)
        #expect(await readiness?.readable == true)
    }

    @Test func anotherOwnerOfTheNumberSeesNothingAndCannotForgetIt() throws {
        let pair = try socketPair()
        defer { close(pair) }
        let stranger = ObjectIdentifier(SystemRandom.self)
        reactor.watchWhileIdle(pair.ours, owner: owner)
        #expect(reactor.idleStatus(pair.ours, owner: stranger) == .unknown)
        reactor.forget(pair.ours, owner: stranger)
        #expect(reactor.idleStatus(pair.ours, owner: owner) == .quiet)
        reactor.forget(pair.ours, owner: owner)
        #expect(reactor.idleStatus(pair.ours, owner: owner) == .unknown)
    }
}
