import HTTPTypes

/// The request headers every request behind `AccessMiddleware` is checked against, found once, in
/// one pass over its fields, and passed on to the route in the request context.
///
/// `HTTPFields`' subscript scans every field and joins what it finds into a new string on each
/// lookup; the checks of one request made seven such lookups (and they showed in the profile of
/// the call path). A value given in several fields is joined with ", " as that subscript joins it,
/// so every check sees what it saw before.
struct RequestHeaders: Sendable {
    var origin: String?
    var authorization: String?
    var contentType: String?
    var accept: String?
    var protocolVersion: String?
    var sessionID: String?
    /// `Host` fields left among the fields (HTTPTypes moves the first `Host` into the authority).
    var hostFields = 0

    init(_ fields: HTTPFields) {
        // By the lowercased name, which is what `HTTPField.Name` compares: matching the names as
        // values built each one (and ran a global's initializer check) for every field.
        for field in fields {
            switch field.name.canonicalName {
            case "origin": Self.add(field.value, to: &origin)
            case "authorization": Self.add(field.value, to: &authorization)
            case "content-type": Self.add(field.value, to: &contentType)
            case "accept": Self.add(field.value, to: &accept)
            case "mcp-protocol-version": Self.add(field.value, to: &protocolVersion)
            case "mcp-session-id": Self.add(field.value, to: &sessionID)
            case "host": hostFields += 1
            default: continue
            }
        }
    }

    private static func add(_ value: String, to header: inout String?) {
        if let earlier = header { header = earlier + ", " + value } else { header = value }
    }
}
