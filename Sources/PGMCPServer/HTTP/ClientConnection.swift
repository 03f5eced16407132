import Hummingbird
import NIOCore
import Synchronization

/// The HTTP connection a request arrived on, as its calls need to know it: whether the client is
/// still there. pgmcp offers no resumption, so an answer whose connection is gone can never be
/// delivered; `RequestTracker.run` cancels the call computing it (and so its statement),
/// instead of letting it run to the statement timeout — or forever without one — for nobody.
///
/// Gone means the channel closed, or its input ended: a client that closes its socket is seen as
/// end of input (Hummingbird allows half-closure, so the channel itself stays open until a write
/// fails). A client that only half-closes after its request is taken as gone too, as Go's
/// net/http and nginx take it: no HTTP client library does that while waiting for an answer.
final class ClientConnection: Sendable {
    private struct State {
        var gone = false
        var nextToken = 0
        var onGone: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// The connection carrying the answer of the request the current task serves, if it is HTTP.
    @TaskLocal static var current: ClientConnection?

    /// Runs `action` when the client goes away — at once if it already has. Returns a token for
    /// `forget(_:)`, or `nil` when `action` already ran.
    func whenGone(_ action: @escaping @Sendable () -> Void) -> Int? {
        let token = state.withLock { state -> Int? in
            guard !state.gone else { return nil }
            defer { state.nextToken += 1 }
            state.onGone[state.nextToken] = action
            return state.nextToken
        }
        if token == nil { action() }
        return token
    }

    func forget(_ token: Int) {
        state.withLock { _ = $0.onGone.removeValue(forKey: token) }
    }

    var isGone: Bool { state.withLock { $0.gone } }

    /// The client went away: runs every waiting action, once.
    func markGone() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.gone else { return [] }
            state.gone = true
            defer { state.onGone = [:] }
            return Array(state.onGone.values)
        }
        for action in actions { action() }
    }
}

/// Watches one HTTP/1 channel for its client going away (end of input, or the channel closing),
/// for the `ClientConnection` its requests look up. Added to every connection's pipeline
/// (`HTTPServer`); passes everything through untouched.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    let connection = ClientConnection()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { connection.markGone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.markGone()
        context.fireChannelInactive()
    }

    /// The connection of `channel`, from its pipeline: directly on the channel's event loop (where
    /// requests normally run), else by a hop to it. `nil` for a channel without the handler.
    static func connection(of channel: any Channel) async -> ClientConnection? {
        if channel.eventLoop.inEventLoop {
            return try? channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self).connection
        }
        return try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self).connection
        }.get()
    }
}
