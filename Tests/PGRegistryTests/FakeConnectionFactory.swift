import PGRegistry
import Synchronization

/// A connection that is only a number, and whether it was dropped or closed.
final class FakeConnection: Sendable {
    let number: Int
    private let flags = Mutex((dropped: false, closed: false))

    init(number: Int) { self.number = number }

    /// The server went away while it sat idle: the next lease finds it dead.
    func drop() { flags.withLock { $0.dropped = true } }
    var isDropped: Bool { flags.withLock { $0.dropped } }
    var isClosed: Bool { flags.withLock { $0.closed } }
    fileprivate func close() { flags.withLock { $0.closed = true } }
}

struct FakeConnectError: Error, CustomStringConvertible {
    let description: String
}

/// Connections without a database, for the pool's unit tests: connects succeed at once unless told
/// to fail (`failConnects`) or to wait (`holdConnects`), and every connection made is kept.
final class FakeConnectionFactory: PoolConnectionFactory {
    private let state = Mutex(State())

    private struct State {
        var made: [FakeConnection] = []
        var failure: String?
        var checkProblem: String?
        var holding = false
        var held: [CheckedContinuation<Void, Never>] = []
        var attempts = 0
    }

    /// Connections opened so far, in order.
    var made: [FakeConnection] { state.withLock { $0.made } }
    /// Connects attempted so far, failed ones included.
    var attempts: Int { state.withLock { $0.attempts } }
    var open: [FakeConnection] { made.filter { !$0.isClosed } }

    /// From now on connects fail with `reason` (`nil`: they succeed again).
    func failConnects(_ reason: String?) { state.withLock { $0.failure = reason } }
    /// From now on health checks report `problem` (`nil`: they pass).
    func failChecks(_ problem: String?) { state.withLock { $0.checkProblem = problem } }
    /// Connects wait until `releaseConnects()`.
    func holdConnects() { state.withLock { $0.holding = true } }
    func releaseConnects() {
        let held = state.withLock { state in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for waiter in held { waiter.resume() }
    }
    /// Connects waiting in `holdConnects`.
    var heldConnects: Int { state.withLock { $0.held.count } }

    func connect() async throws -> FakeConnection {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let hold = state.withLock { state in
                state.attempts += 1
                if state.holding { state.held.append(continuation) }
                return state.holding
            }
            if !hold { continuation.resume() }
        }
        return try state.withLock { state in
            if let failure = state.failure { throw FakeConnectError(description: failure) }
            let connection = FakeConnection(number: state.made.count + 1)
            state.made.append(connection)
            return connection
        }
    }

    func isAlive(_ connection: FakeConnection) async -> Bool { !connection.isDropped && !connection.isClosed }

    func check(_ connection: FakeConnection) async -> String? { state.withLock { $0.checkProblem } }

    func close(_ connection: FakeConnection) async { connection.close() }

    func failure(_ error: any Error) -> (reason: String, lasting: Bool) { (String(describing: error), false) }

    func facts(_ connection: FakeConnection) -> (processID: Int, serverVersion: Int?) { (connection.number, 170_000) }
}
