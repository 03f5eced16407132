import PGClient
import PGMCPJSON
import PGRegistry

/// open_session, close_session, server_status.
enum SessionTools {
    static let openSession = ToolDefinition(
        name: "open_session", title: "Open a work session",
        description:
            "Mints an isolated work session (its own active database, transactions and connections) and returns its handle: pass it as 'session' to any tool. It ends on close_session or when left idle.",
        inputSchema: JSONSchema.object([
            ("database", JSONSchema.string()),
            ("label", JSONSchema.string("Shown in logs.")),
        ]),
        outputSchema: JSONSchema.output(
            [("session", ["type": "string"]), ("database", ["type": "string"]), ("expiresAfterIdleSeconds", ["type": "number"])],
            required: ["session", "database", "expiresAfterIdleSeconds"]),
        annotations: ToolAnnotations(readOnly: false, destructive: false, idempotent: false, openWorld: false),
        usesCallerOnly: true, mintsHandle: true,
        handler: { call throws(ToolError) in
            let database = try call.arguments.string("database")
            let label = try call.arguments.string("label")
            let session: WorkSession
            do {
                session = try await call.server.registry.openSession(
                    database: database, label: label, ownedBy: call.session.ownedBy)
            } catch { throw ToolError.from(error) }
            return JSONObject([
                ("session", .string(session.handle.rawValue)), ("database", .string(session.activeDatabase)),
                ("expiresAfterIdleSeconds", .double(call.server.settings.sessionIdleTimeout.timeInterval)),
            ])
        })

    static let closeSession = ToolDefinition(
        name: "close_session", title: "Close a work session",
        description: "Ends a work session now: its statements are cancelled, its transactions rolled back, its connections returned.",
        inputSchema: JSONSchema.object([("session", JSONSchema.session)], required: ["session"]),
        outputSchema: JSONSchema.output([("closed", ["type": "string"])], required: ["closed"]),
        annotations: ToolAnnotations(readOnly: false, destructive: true, idempotent: true, openWorld: false),
        routesBySessionArgument: false, usesCallerOnly: true,
        handler: { call throws(ToolError) in
            let handle = SessionHandle(rawValue: try call.arguments.requiredString("session"))
            // Owned as every other path checks it: a narrower token of the same subject cannot end
            // a session it could not use.
            do { _ = try call.server.registry.session(handle, ownedBy: call.session.ownedBy) } catch {
                throw ToolError.from(error)
            }
            await call.server.registry.endSession(handle, reason: "close_session")
            return JSONObject([("closed", .string(handle.rawValue))])
        })

    static let poolSchema: JSONValue = [
        "type": "object",
        "properties": [
            "name": ["type": "string"], "open": ["type": "integer"], "idle": ["type": "integer"], "inUse": ["type": "integer"],
            "waiting": ["type": "integer"], "max": ["type": "integer"],
            "status": ["type": "string", "enum": ["healthy", "unhealthy", "unknown"]], "lastError": JSONSchema.stringOrNull,
        ],
        "required": ["name", "open", "idle", "inUse", "waiting", "max", "status"],
    ]

    static let serverStatus = ToolDefinition(
        name: "server_status", title: "Server status",
        description:
            "Shows each connection pool you can see (open, idle, in use, waiting, health, last error), how many sessions are open, and the security posture.",
        inputSchema: JSONSchema.object([]),
        outputSchema: JSONSchema.output(
            [("pools", JSONSchema.array(of: poolSchema)), ("sessions", ["type": "integer"]), ("posture", ["type": "object"])],
            required: ["pools", "sessions", "posture"]),
        annotations: ToolAnnotations(readOnly: true, destructive: false, idempotent: true, openWorld: false),
        handler: { call throws(ToolError) in
            let targets = call.server.registry.visibleDatabases(for: call.session)
            let snapshots = await call.server.registry.probedSnapshots(of: targets)
            let pools = zip(targets, snapshots).map { target, snapshot -> JSONValue in
                .object(
                    JSONObject([
                        ("name", .string(target.poolName)), ("open", .int(Int64(snapshot.open))), ("idle", .int(Int64(snapshot.idle))),
                        ("inUse", .int(Int64(snapshot.inUse))), ("waiting", .int(Int64(snapshot.waiting))),
                        ("max", .int(Int64(snapshot.maximum))), ("status", .string(snapshot.health.rawValue)),
                        ("lastError", snapshot.lastError.map(JSONValue.string) ?? .null),
                    ]))
            }
            let posture = SecurityPosture.json(settings: call.server.settings, databases: targets.map { (name: $0.name, readOnly: $0.config.readOnly) })
            return JSONObject([("pools", .array(pools)), ("sessions", .int(Int64(call.server.registry.sessionCount))), ("posture", posture)])
        })
}
