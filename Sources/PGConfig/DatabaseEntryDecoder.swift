import PGClient
import PGMCPJSON

/// Builds a `DatabaseConfig` from one JSON database object (CONTRACT.md, "A database object"),
/// logging every problem with its database and field.
struct DatabaseEntryDecoder {
    let environment: [String: String]
    let files: FileAccess

    static let fields = [
        "id", "name", "description", "url", "host", "port", "database", "user", "password", "passwordEnv",
        "passwordFile", "sslmode", "sslrootcert", "readOnly", "statementTimeoutMs", "maxRows", "pool", "isolation",
        "pooling", "privilegeCheck", "allowedPrincipals", "writePrincipals", "roles",
    ]
    static let roleFields = ["principal", "user", "password", "passwordEnv", "passwordFile", "maxConnections"]
    static let poolFields = ["min", "max", "idleTimeoutSeconds", "maxLifetimeSeconds"]
    static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

    /// Valid ids: `[a-z0-9_-]{1,63}`.
    static func isValidID(_ id: String) -> Bool {
        (1...63).contains(id.utf8.count)
            && id.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2D }
    }

    func decode(_ value: JSONValue, log: ProblemLog) -> DatabaseConfig? {
        guard case .object(let object) = value else {
            log.add("must be a database object, got \(value.typeName)")
            return nil
        }
        let before = log.problems.count
        let fields = FieldReader(object: object, log: log)

        let id = fields.string("id")
        if let id {
            if Self.isValidID(id) {
                log.database = id
            } else {
                log.add("must match [a-z0-9_-]{1,63} (lower-case letters, digits, '_' and '-'), got \"\(id)\"", field: "id")
            }
        } else if !fields.has("id") {
            log.add("is required", field: "id")
        }
        fields.rejectUnknown(Self.fields)

        let title = fields.string("name")
        let description = fields.string("description", nonEmpty: false)
        let connection = connectionParameters(fields, log: log)
        let password = passwordSecret(fields, urlHasPassword: connection?["password"] != nil, log: log)

        let readOnly = fields.bool("readOnly") ?? true
        let statementTimeout = fields.integer("statementTimeoutMs", in: 0...86_400_000) ?? 30_000
        let maxRows = fields.integer("maxRows", in: 1...1_000_000) ?? 1_000
        let pool = poolSettings(fields, log: log)
        let isolation = fields.choice("isolation", as: DatabaseConfig.Isolation.self) ?? .shared
        let pooling = fields.choice("pooling", as: DatabaseConfig.Pooling.self) ?? .direct
        if pooling == .transaction && isolation == .clone {
            log.add(
                "\"clone\" needs a direct connection to PostgreSQL, but pooling is \"transaction\": CREATE DATABASE … TEMPLATE fails while a pooler keeps connections to the template open, and each copy would need an entry of its own in the pooler. Point this entry at PostgreSQL itself (pooling \"direct\"), or use isolation \"shared\"",
                field: "isolation")
        }
        let privilegeCheck = fields.choice("privilegeCheck", as: DatabaseConfig.PrivilegeCheck.self) ?? .warn
        let allowedPrincipals = fields.strings("allowedPrincipals")
        let writePrincipals = fields.strings("writePrincipals")
        for (key, list) in [("allowedPrincipals", allowedPrincipals), ("writePrincipals", writePrincipals)] {
            for entry in list ?? [] where !DatabaseConfig.isPrincipalPattern(entry) {
                log.add("\"\(entry)\" is not sub:<subject>, group:<group>, scope:<scope> or *", field: key)
            }
        }
        let roles = roleMappings(fields, pool: pool, log: log)

        guard log.problems.count == before, let id, var connection else { return nil }
        // A password given in the url stays out of `connection`, held as a Secret like the others.
        let urlPassword = connection["password"].map(Secret.init)
        connection["password"] = nil
        return DatabaseConfig(
            id: id, title: title, description: description, connection: connection, password: password ?? urlPassword,
            readOnly: readOnly, statementTimeoutMs: statementTimeout, maxRows: maxRows, pool: pool,
            isolation: isolation, pooling: pooling, privilegeCheck: privilegeCheck, allowedPrincipals: allowedPrincipals, writePrincipals: writePrincipals,
            roles: roles)
    }

    private func connectionParameters(_ fields: FieldReader, log: ProblemLog) -> PGConnectionParameters? {
        let separate = ["host", "port", "database", "user"].filter(fields.has)
        var parameters: PGConnectionParameters
        if fields.has("url") {
            if !separate.isEmpty {
                log.add("cannot be combined with \(separate.joined(separator: ", ")); put them in the url, or drop the url", field: "url")
                return nil
            }
            guard let url = fields.string("url") else { return nil }
            do {
                parameters = try PGConnectionParameters(conninfo: url)
            } catch {
                log.add(error.message, field: "url")
                return nil
            }
        } else {
            guard fields.has("host") else {
                log.add("needs either 'url' or 'host' (with 'port', 'database', 'user')")
                return nil
            }
            parameters = PGConnectionParameters()
            if let host = fields.string("host") { parameters["host"] = host }
            if let port = fields.integer("port", in: 1...65535) { parameters["port"] = String(port) }
            if let database = fields.string("database") { parameters["dbname"] = database }
            if let user = fields.string("user") { parameters["user"] = user }
        }
        if let sslmode = fields.string("sslmode") { parameters["sslmode"] = sslmode }
        // libpq parses but does not check values; a bad sslmode would only fail at connect time.
        if let sslmode = parameters["sslmode"], !Self.sslModes.contains(sslmode) {
            let field = fields.has("sslmode") ? "sslmode" : "url"
            log.add("sslmode must be one of \(Self.sslModes.joined(separator: ", ")), got \"\(sslmode)\"", field: field)
        }
        if let root = fields.string("sslrootcert") {
            if files.exists(root) { parameters["sslrootcert"] = root } else { log.add("file not found: \(root)", field: "sslrootcert") }
        }
        return parameters
    }

    private func passwordSecret(_ fields: FieldReader, urlHasPassword: Bool, log: ProblemLog) -> Secret? {
        let given = ["password", "passwordEnv", "passwordFile"].filter(fields.has)
        if given.count > 1 {
            log.add("give only one of password, passwordEnv, passwordFile (got \(given.joined(separator: " and ")))", field: fields.path + given[1])
            return nil
        }
        if urlHasPassword, let field = given.first {
            log.add("the url already holds a password; remove it from the url or drop '\(field)'", field: fields.path + field)
            return nil
        }
        if fields.has("password") {
            return fields.string("password", nonEmpty: false).map(Secret.init)
        }
        if let variable = fields.string("passwordEnv") {
            guard let value = environment[variable] else {
                log.add("environment variable \(variable) is not set", field: fields.path + "passwordEnv")
                return nil
            }
            return Secret(value)
        }
        if let path = fields.string("passwordFile") {
            do {
                var text = try files.readText(path)
                while let last = text.last, last.isNewline { text.removeLast() }
                return Secret(text)
            } catch {
                log.add("cannot read \(path): \(readableReason(error))", field: fields.path + "passwordFile")
                return nil
            }
        }
        return nil
    }

    /// `roles`: each item's principal, user and password, and the connection budget: the roles'
    /// pools together open at most `pool.max` connections. A role without `maxConnections` gets an
    /// equal share of what the roles that set theirs leave.
    private func roleMappings(_ fields: FieldReader, pool: PoolSettings, log: ProblemLog) -> [RoleMapping]? {
        guard let value = fields.object["roles"] else { return nil }
        guard case .array(let items) = value else {
            log.add("must be a list of {principal, user, password | passwordEnv | passwordFile} objects, got \(value.typeName)", field: "roles")
            return nil
        }
        guard !items.isEmpty else {
            log.add("must list at least one role; drop 'roles' to run every caller as the entry's user", field: "roles")
            return nil
        }
        var mappings: [(principal: String, user: String, password: Secret?, maxConnections: Int?)] = []
        var firstByPrincipal: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let path = "roles[\(index + 1)]"
            guard case .object(let object) = item else {
                log.add("must be an object {principal, user, password | passwordEnv | passwordFile}, got \(item.typeName)", field: path)
                continue
            }
            let role = FieldReader(object: object, log: log, path: path + ".")
            role.rejectUnknown(Self.roleFields)
            let principal = role.string("principal")
            if let principal {
                if !RoleMapping.isPrincipal(principal) {
                    log.add("\"\(principal)\" is not sub:<subject>, group:<group>, scope:<scope>, token or *", field: path + ".principal")
                } else if let first = firstByPrincipal[principal] {
                    log.add("\"\(principal)\" is already mapped by roles[\(first)], which wins: this item would never apply", field: path + ".principal")
                } else {
                    firstByPrincipal[principal] = index + 1
                }
            } else if !role.has("principal") {
                log.add("is required", field: path + ".principal")
            }
            let user = role.string("user")
            if user == nil, !role.has("user") { log.add("is required (the PostgreSQL role these callers log in as)", field: path + ".user") }
            let password = passwordSecret(role, urlHasPassword: false, log: log)
            let maxConnections = role.integer("maxConnections", in: 1...1000)
            if let principal, let user { mappings.append((principal, user, password, maxConnections)) }
        }
        guard mappings.count == items.count else { return nil }
        // The budget: what the roles that set their maximum take, the rest shared by the others.
        let given = mappings.compactMap(\.maxConnections).reduce(0, +)
        let unset = mappings.filter { $0.maxConnections == nil }.count
        let share = unset == 0 ? 0 : (pool.max - given) / unset
        if given > pool.max || (unset > 0 && share < 1) {
            let asked = unset == 0 ? "\(given)" : "\(given) set by maxConnections and at least 1 for each of the \(unset) other roles"
            log.add(
                "the roles' pools together open at most pool.max (\(pool.max)) connections, but they ask for \(asked); raise pool.max or lower the roles' maxConnections",
                field: "pool.max")
            return nil
        }
        return mappings.map { RoleMapping(principal: $0.principal, user: $0.user, password: $0.password, maxConnections: $0.maxConnections ?? share) }
    }

    private func poolSettings(_ fields: FieldReader, log: ProblemLog) -> PoolSettings {
        var pool = PoolSettings()
        guard let object = fields.object("pool") else { return pool }
        let nested = FieldReader(object: object, log: log, path: "pool.")
        nested.rejectUnknown(Self.poolFields)
        pool.min = nested.integer("min", in: 0...1000) ?? pool.min
        pool.max = nested.integer("max", in: 1...1000) ?? pool.max
        pool.idleTimeoutSeconds = nested.integer("idleTimeoutSeconds", in: 1...86_400) ?? pool.idleTimeoutSeconds
        pool.maxLifetimeSeconds = nested.integer("maxLifetimeSeconds", in: 0...604_800) ?? pool.maxLifetimeSeconds
        if pool.min > pool.max {
            log.add("must not exceed pool.max (\(pool.max)), got \(pool.min)", field: "pool.min")
        }
        return pool
    }
}

/// A file error as a short phrase ("no such file", "permission denied").
func readableReason(_ error: any Error) -> String {
    let text = String(describing: error)
    if text.contains("NSFileReadNoSuchFileError") || text.contains("Code=260") || text.contains("No such file") { return "no such file" }
    if text.contains("NSFileReadNoPermissionError") || text.contains("Code=257") || text.contains("ermission") { return "permission denied" }
    return "unreadable"
}
