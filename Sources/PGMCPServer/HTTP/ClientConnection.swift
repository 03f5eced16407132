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
    /// A task to cancel when the client goes. `UnsafeCurrentTask.cancel()` is safe from any thread
    /// while the task lives, and it lives while it is here: it leaves (`forget`), under the lock
    /// the cancel takes, before it ends.
    private struct Watcher: @unchecked Sendable {
        let task: UnsafeCurrentTask
    }

    private struct State {
        var gone = false
        var nextToken = 0
        var watchers: [Int: Watcher] = [:]
    }

    private let state = Mutex(State())

    /// The connection carrying the answer of the request the current task serves, if it is HTTP.
    @TaskLocal static var current: ClientConnection?

    /// Cancels `task` when the client goes away — at once if it already has. Returns a token for
    /// `forget(_:)`, which `task` must call before it ends; `nil` when it was cancelled already.
    func cancelWhenGone(_ task: UnsafeCurrentTask) -> Int? {
        state.withLock { state -> Int? in
            guard !state.gone else {
                task.cancel()
                return nil
            }
            defer { state.nextToken += 1 }
            state.watchers[state.nextToken] = Watcher(task: task)
            return state.nextToken
        }
    }

    func forget(_ token: Int) {
        state.withLock { _ = $0.watchers.removeValue(forKey: token) }
    }

    var isGone: Bool { state.withLock { $0.gone } }

    /// The client went away: cancels every watching task, once.
    func markGone() {
        state.withLock { state in
            guard !state.gone else { return }
            state.gone = true
            for watcher in state.watchers.values { watcher.task.cancel() }
            state.watchers = [:]
        }
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
