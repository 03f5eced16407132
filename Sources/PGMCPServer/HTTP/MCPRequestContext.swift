import Hummingbird
import NIOCore

/// The request context of pgmcp's routes: Hummingbird's, plus the channel the request came on (for
/// its `ClientConnection`) and what `AccessMiddleware` let through.
struct MCPRequestContext: RequestContext {
    /// A request `AccessMiddleware` let through: who sent it, and the headers its checks read (found
    /// once, for the route behind it).
    struct Admission: Sendable {
        let caller: Caller
        let headers: RequestHeaders
    }

    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Set by `AccessMiddleware`; nil on a route it does not guard.
    var admitted: Admission?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The request as `AccessMiddleware` let it through. A route that reads it without the
    /// middleware in front fails closed (500) instead of serving an unchecked caller.
    var admission: Admission {
        get throws(HTTPError) {
            guard let admitted else { throw HTTPError(.internalServerError) }
            return admitted
        }
    }

    /// Who sent the request (see `admission`).
    var caller: Caller {
        get throws(HTTPError) { try admission.caller }
    }
}
