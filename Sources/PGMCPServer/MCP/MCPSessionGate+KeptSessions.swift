import PGMCPJSON
import PGRegistry

/// MCP 2026-07-28 over HTTP keeps no session between calls. A tool that changes a work session's
/// state (`select_database`, `begin_transaction`, `connect_database`) called without a handle would
/// change a session that ends with the call, which no client expects. Such a call runs in a work
/// session that is kept, and its result returns the handle as `session`, with a sentence saying to
/// pass it on: the workflow a 2025 client has, with one value to carry.
extension MCPSessionGate {
    /// Whether a call of `params` changes a work session's state and names no handle.
    func keepsItsSession(_ params: JSONObject) -> Bool {
        guard let tool = tool(params), tool.definition.keepsSessionState else { return false }
        return Self.handle(in: params) == nil
    }

    /// Runs the call in a new work session of `caller`'s. A call that succeeds keeps it and returns
    /// its handle; one that fails (a commit with nothing open) leaves nothing behind.
    func callKeepingSession(_ params: JSONObject, id: JSONRPCID, label: String?, caller: Caller) async -> OutgoingMessage {
        let session: WorkSession
        do { session = try registry.createSession(label: label, ownedBy: caller) } catch {
            return .value(JSONRPCError(.serverBusy, error.message, id: id).response)
        }
        let outcome = await dispatcher.callTool(params, in: session)
        guard case .success(.structured(var result)) = outcome else {
            await registry.endSession(session.handle, reason: "its first call failed")
            return dispatcher.modernAnswer(outcome, id: id)
        }
        let handle = session.handle.rawValue
        result["session"] = .string(handle)
        result["note"] = .string(
            "This work session keeps what the call did (the active database, a transaction, a connection): pass \"\(handle)\" as 'session' in the calls that follow."
        )
        return dispatcher.modernAnswer(.success(.structured(result)), id: id)
    }
}
