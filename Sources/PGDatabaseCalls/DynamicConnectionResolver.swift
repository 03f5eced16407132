import Dispatch
import Glibc
import Synchronization

/// Turns a host name into the addresses it names now, as numeric text (`10.1.2.3`, `fd00::7`).
///
/// A value, not a protocol, so that tests hand the dynamic-connection policy a fake one (a name
/// that resolves into the metadata service) without a DNS server.
public struct HostResolver: Sendable {
    public var lookup: @Sendable (String) async throws -> [String]

    public init(lookup: @escaping @Sendable (String) async throws -> [String]) {
        self.lookup = lookup
    }

    /// The system's resolver (`getaddrinfo`: /etc/hosts, DNS, whatever nsswitch says), IPv4 and
    /// IPv6, de-duplicated, in the order getaddrinfo prefers. `getaddrinfo` blocks, so it runs on
    /// a thread of its own, never on Swift's cooperative pool; a lookup that takes longer than
    /// five seconds fails (its thread finishes in the background, its answer unused).
    public static let system = HostResolver { name in
        try await SystemHostLookup.shared.addresses(of: name, deadline: .seconds(5))
    }
}

/// Why a host name gave no address. The message names the host and the resolver's reason, and
/// nothing else of what the client wrote.
public struct HostLookupError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}

/// `getaddrinfo` on a dedicated thread per lookup, with a deadline and a cap on lookups in flight
/// (a thread stuck in a slow resolver counts until it ends, so a flood cannot pile up threads).
final class SystemHostLookup: Sendable {
    static let shared = SystemHostLookup(limit: 16)

    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) { self.limit = limit }

    func addresses(of name: String, deadline: Duration) async throws -> [String] {
        let admitted = inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw HostLookupError(message: "\(limit) host name lookups are already under way; try again shortly")
        }
        let answer = OneAnswer()
        let seconds = Self.secondsText(deadline)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String], any Error>) in
                answer.wait(continuation)
                let started = startThread { [self] in
                    let result = Self.resolve(name)
                    inFlight.withLock { $0 -= 1 }
                    answer.give(result.mapError { $0 as any Error })
                }
                guard started else {
                    inFlight.withLock { $0 -= 1 }
                    answer.give(.failure(HostLookupError(message: "cannot start a thread to look up the host name; try again")))
                    return
                }
                DispatchQueue.global().asyncAfter(deadline: .now() + Self.dispatchInterval(deadline)) {
                    answer.give(.failure(HostLookupError(message: "looking up the host name took longer than \(seconds) s")))
                }
            }
        } onCancel: {
            answer.give(.failure(CancellationError()))
        }
    }

    /// The blocking lookup itself: numeric addresses of every TCP result, first occurrence kept.
    static func resolve(_ name: String) -> Result<[String], HostLookupError> {
        guard !name.isEmpty, !name.utf8.contains(0) else {
            return .failure(HostLookupError(message: "the host name is empty or holds a NUL character"))
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else {
            let reason = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            return .failure(HostLookupError(message: "the host name \(name) does not resolve (\(reason))"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr, let text = numericText(address), !addresses.contains(text) {
                addresses.append(text)
            }
            entry = current.pointee.ai_next
        }
        return .success(addresses)
    }

    /// `inet_ntop` of an IPv4 or IPv6 socket address; `nil` for any other family.
    private static func numericText(_ address: UnsafeMutablePointer<sockaddr>) -> String? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                withUnsafePointer(to: inet.pointee.sin_addr) { ntop(AF_INET, $0) }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { inet6 in
                withUnsafePointer(to: inet6.pointee.sin6_addr) { ntop(AF_INET6, $0) }
            }
        default:
            return nil
        }
    }

    private static func secondsText(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return attoseconds == 0 ? "\(seconds)" : "\(Double(seconds) + Double(attoseconds) / 1e18)"
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
    }
}

/// Numeric text of 4 or 16 address bytes (`inet_ntop`'s canonical form); `nil` for other lengths.
func numericAddressText(_ bytes: [UInt8]) -> String? {
    switch bytes.count {
    case 4:
        var address = in_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: address) { ntop(AF_INET, $0) }
    case 16:
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: address) { ntop(AF_INET6, $0) }
    default:
        return nil
    }
}

private func ntop<Address>(_ family: Int32, _ address: UnsafePointer<Address>) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
    return String(cString: buffer)
}

/// Runs `body` on a new detached thread; false if none could be started.
private func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(
        &thread, nil,
        { context in
            guard let context else { return nil }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().body()
            return nil
        }, box)
    guard created == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return false
    }
    pthread_detach(thread)
    return true
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}

/// One answer for one waiter, whichever comes first (the lookup, the deadline, cancellation);
/// an answer that comes before the waiter is kept for it.
private final class OneAnswer: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<[String], any Error>)
        case answered(Result<[String], any Error>)
        case done
    }

    private let state = Mutex(State.empty)

    func wait(_ continuation: CheckedContinuation<[String], any Error>) {
        let early: Result<[String], any Error>? = state.withLock { state in
            if case .answered(let result) = state {
                state = .done
                return result
            }
            state = .waiting(continuation)
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func give(_ result: Result<[String], any Error>) {
        let waiter: CheckedContinuation<[String], any Error>? = state.withLock { state in
            switch state {
            case .empty:
                state = .answered(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .answered, .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }
}
