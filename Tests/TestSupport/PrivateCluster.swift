@_exported import IOReactor
@_exported import PGCluster

/// A PostgreSQL cluster of one test's own, for tests that stop or restart the server (which
/// would disturb every other test on the shared cluster). Trust authentication on 127.0.0.1.
public final class PrivateCluster: Sendable {
    let cluster: LocalPostgres

    /// initdb + start; a second or two. With `tls`, the server also accepts TLS (self-signed).
    public static func start(tls: Bool = false) async throws -> PrivateCluster {
        let cluster = try await offPool { try LocalPostgres(password: nil) }
        if tls { try await offPool { try cluster.enableTLS() } }
        try await offPool { try cluster.start() }
        return PrivateCluster(cluster: cluster)
    }

    private init(cluster: LocalPostgres) { self.cluster = cluster }

    public var url: String { cluster.url() }

    /// Stops the server (fast shutdown: sessions are terminated).
    public func stop() async throws { try await offPool { try self.cluster.stop() } }

    public func startAgain() async throws { try await offPool { try self.cluster.start() } }

    /// Stops the server and deletes its folder.
    public func destroy() async { _ = try? await offPool { self.cluster.destroy() } }
}
