import HTTPTypes
import Hummingbird
import NIOCore
import PGMCPJSON

/// The door of the routes that say anything about the databases, in front of their handlers: the
/// bearer token (`PGMCP_AUTH_TOKEN`, or OAuth's `OAuthGate`), and Origin and Host (DNS-rebinding
/// protection). What it learns of the caller goes into the request context (`MCPRequestContext.caller`).
/// `HTTPServer` adds it for every route but the few it lists as open before it, so a new route
/// cannot forget it.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = MCPRequestContext

    /// How much a route needs.
    enum Level: Sendable {
        /// Origin and Host alone: `/readyz` names the default database and its error, which a
        /// rebound page must not read, while an orchestrator's probe carries no token.
        case originAndHost
        /// A caller: the token, Origin and Host (`/mcp`).
        case caller
        /// The operator: as `caller`, and under OAuth only the static token (`/metrics`, whose
        /// series name every database, hidden ones too).
        case `operator`
    }

    let level: Level
    let validation: RequestValidation
    /// The OAuth resource server, when `PGMCP_OAUTH_ISSUER` is set.
    let oauth: OAuthGate?

    // `@concurrent` as Hummingbird declares it (this module's async functions default to running on
    // their caller's executor).
    @concurrent
    func handle(_ request: Request, context: Context, next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let headers = RequestHeaders(request.headers)
        do throws(RequestValidation.Rejection) {
            if level == .originAndHost {
                try validation.checkOriginAndHost(headers, authority: request.head.authority)
            } else {
                // One place decides how the bearer is checked: OAuth's gate when there is one.
                let caller: Caller
                if let oauth {
                    try validation.checkOriginAndHost(headers, authority: request.head.authority)
                    caller = try await oauth.authenticate(authorization: headers.authorization)
                } else {
                    try validation.checkStaticToken(headers)
                    try validation.checkOriginAndHost(headers, authority: request.head.authority)
                    // The token's holder is the principal `token` of a database's `roles`.
                    caller = validation.settings.authToken == nil ? .anyone : .tokenHolder
                }
                if level == .operator, caller.identities != nil {
                    throw RequestValidation.Rejection(status: .forbidden, message: "/metrics needs PGMCP_AUTH_TOKEN (the operator's token), not a user's access token")
                }
                context.admitted = .init(caller: caller, headers: headers)
            }
        } catch {
            return error.response
        }
        return try await next(request, context)
    }
}

extension RequestValidation.Rejection {
    /// The refusal as a JSON-RPC error (-32600) with its status; a 401 or 403 with its
    /// `WWW-Authenticate` challenge (plain `Bearer` for the static token).
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let wwwAuthenticate {
            headers[.wwwAuthenticate] = wwwAuthenticate
        } else if status == .unauthorized {
            headers[.wwwAuthenticate] = "Bearer"
        }
        var writer = JSONWriter()
        writer.write(JSONRPCError(.invalidRequest, message).response)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
