import Hummingbird
import NIOCore
import PGRegistry

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
    /// The calls computing this connection's answers, cancelled together when the client goes
    /// (never one by key).
    private let calls = CancellableCalls<Never>()

    /// The connection carrying the answer of the request the current task serves, if it is HTTP.
    @TaskLocal static var current: ClientConnection?

    /// Runs `body` in the current task, which is cancelled if the client goes away meanwhile, or at
    /// once if it has already.
    func run<R>(_ body: () async -> R) async -> R {
        if let result = await calls.run(nil, body) { return result }
        withUnsafeCurrentTask { $0?.cancel() }
        return await body()
    }

    var isGone: Bool { calls.isClosed }

    /// The client went away: cancels every call, once, and every later one at its start.
    func markGone() { calls.close() }
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
