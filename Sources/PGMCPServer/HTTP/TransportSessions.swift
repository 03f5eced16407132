import PGRegistry
import Synchronization

/// The Streamable HTTP sessions: `Mcp-Session-Id` → transport session. Entries leave when their
/// work session ends, however it ends (DELETE, idle timeout, shutdown), so a later request with
/// the id gets 404.
final class TransportSessions: Sendable {
    private let byID = Mutex<[String: TransportSession]>([:])
    private let idByHandle = Mutex<[SessionHandle: String]>([:])

    init(registry: ConnectionPoolRegistry) {
        registry.onSessionEnded { [weak self] handle in self?.forget(handle) }
    }

    func add(_ session: TransportSession) {
        idByHandle.withLock { $0[session.workSession.handle] = session.id }
        byID.withLock { $0[session.id] = session }
    }

    func find(_ id: String) -> TransportSession? {
        guard let session = byID.withLock({ $0[id] }), session.workSession.isActive else { return nil }
        return session
    }

    private func forget(_ handle: SessionHandle) {
        guard let id = idByHandle.withLock({ $0.removeValue(forKey: handle) }) else { return }
        byID.withLock { _ = $0.removeValue(forKey: id) }
    }
}
