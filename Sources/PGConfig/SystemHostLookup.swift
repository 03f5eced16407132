import Glibc
import IOReactor
import PGClient
import Synchronization

/// `getaddrinfo` with a deadline and a cap on lookups in flight, never on Swift's cooperative pool.
///
/// `getaddrinfo` blocks and cannot be interrupted, so it runs as blocking work off the pool
/// (`startOffPool`, where all of pgmcp's blocking work goes), and the caller does not wait for it
/// to return: it is answered by whichever comes first, the lookup, the deadline (a watch of
/// `ConnectionWatchdog`'s, the one deadline mechanism) or the task's cancellation. A lookup stuck
/// in a frozen resolver keeps its thread and its place under `limit` until `getaddrinfo` returns,
/// so a flood of names a frozen DNS server never answers cannot pile up threads beyond `limit`.
final class SystemHostLookup: Sendable {
    static let shared = SystemHostLookup(limit: 16)

    let limit: Int
    /// The blocking lookup (`getaddrinfo`; a stand-in that hangs, in tests).
    private let resolve: @Sendable (String) -> Result<[String], HostLookupError>
    private let inFlight = Mutex(0)

    init(limit: Int, resolve: @escaping @Sendable (String) -> Result<[String], HostLookupError> = SystemHostLookup.getaddrinfo) {
        self.limit = limit
        self.resolve = resolve
    }

    func addresses(of name: String, deadline: Duration) async throws -> [String] {
        let admitted = inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw HostLookupError(message: "\(limit) host name lookups are already under way; try again shortly")
        }
        let answer = OneAnswer<[String]>()
        let watch = ConnectionWatchdog.shared.watch(limit: deadline) {
            answer.give(.failure(HostLookupError(message: "looking up the host name took longer than \(deadline.readable)")))
        }
        defer { ConnectionWatchdog.shared.unwatch(watch) }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String], any Error>) in
                answer.wait(continuation)
                startOffPool { [self] in
                    let result = resolve(name)
                    inFlight.withLock { $0 -= 1 }
                    answer.give(result.mapError { $0 as any Error })
                }
            }
        } onCancel: {
            answer.give(.failure(CancellationError()))
        }
    }

    /// The blocking lookup itself: numeric addresses of every TCP result, first occurrence kept.
    static func getaddrinfo(_ name: String) -> Result<[String], HostLookupError> {
        guard !name.isEmpty, !name.utf8.contains(0) else {
            return .failure(HostLookupError(message: "the host name is empty or holds a NUL character"))
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = Glibc.getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else {
            let reason = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            return .failure(HostLookupError(message: "the host name \(name) does not resolve (\(reason))"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, let text = IPAddress.text(of: address), !addresses.contains(text) {
                addresses.append(text)
            }
            entry = current.pointee.ai_next
        }
        return .success(addresses)
    }
}
