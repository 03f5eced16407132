import Hummingbird
import NIOCore

/// The request context of pgmcp's routes: Hummingbird's, plus the channel the request came on (for
/// its `ClientConnection`) and who sent it (set by `AccessMiddleware`).
struct MCPRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// The caller `AccessMiddleware` let through; nil on a route it does not guard.
    var authenticated: Caller?
    /// The headers the checks read, found once by `AccessMiddleware` for the route behind it.
    var headers: RequestHeaders?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Who sent the request. A route that reads it without `AccessMiddleware` in front fails closed
    /// (500) instead of serving an unchecked caller.
    var caller: Caller {
        get throws(HTTPError) {
            guard let authenticated else { throw HTTPError(.internalServerError) }
            return authenticated
        }
    }
}
