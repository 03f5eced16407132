/// What a pool needs of the connections it holds: how to open one, tell whether an idle one still
/// works, check it, close it, and say in one line why one could not be opened. The pool itself
/// knows nothing of libpq (`LibpqConnectionFactory`); its unit tests use a fake.
public protocol PoolConnectionFactory: Sendable {
    /// A reference, so that a pool's tables hold pointers and nothing more.
    associatedtype Connection: AnyObject & Sendable

    /// Opens a connection ready to serve (any check a new connection must pass included), or throws.
    func connect() async throws -> Connection

    /// A cheap check, without a round trip, that a connection that sat idle was not dropped: run on
    /// every lease, so it must not wait on the network.
    func isAlive(_ connection: Connection) async -> Bool

    /// The periodic health check of an idle connection: what is wrong with it, or `nil`. Bounded.
    func check(_ connection: Connection) async -> String?

    /// Closes the connection; returns once it is closed. Bounded.
    func close(_ connection: Connection) async

    /// Why a connect failed, in one line without secrets; `lasting` when the refusal will not pass
    /// by itself (a role with more power than its entry allows).
    func failure(_ error: any Error) -> (reason: String, lasting: Bool)

    /// What the log says of a connection (a backend's process id), and the server version it reports.
    func facts(_ connection: Connection) -> (processID: Int, serverVersion: Int?)
}
