import Synchronization

/// Where a query's cursor (`nextCursor`) stands between pages: its id, its page size (the first
/// call's effective `max_rows`) and how many rows it has handed out. Only the call that has the
/// cursor's turn reads or moves it.
public final class CursorPlace: Sendable {
    /// Unguessable, like a session handle (and prefixed by the replica id, for routers).
    public let id: String
    public let pageSize: Int
    private let handedOut: Mutex<Int>

    init(id: String, pageSize: Int, handedOut: Int) {
        self.id = id
        self.pageSize = pageSize
        self.handedOut = Mutex(handedOut)
    }

    /// Rows handed out so far: the next page starts after the row at this position.
    public var position: Int { handedOut.withLock { $0 } }

    /// `count` more rows were handed out.
    public func advance(by count: Int) { handedOut.withLock { $0 += count } }
}

/// Every open cursor's way back to its work session and database, so that a call passing only
/// `cursor` (no `session`, as an MCP 2026-07-28 call without a handle does) finds it. An entry goes
/// when its cursor closes, whatever closes it.
final class CursorRoutes: Sendable {
    struct Route {
        let session: WorkSession
        let database: String
    }

    private let routes = Mutex<[String: Route]>([:])

    subscript(id: String) -> Route? { routes.withLock { $0[id] } }

    func add(_ id: String, _ route: Route) { routes.withLock { $0[id] = route } }

    func remove(_ ids: [String]) {
        guard !ids.isEmpty else { return }
        routes.withLock { routes in for id in ids { routes[id] = nil } }
    }

    var count: Int { routes.withLock { $0.count } }
}
