import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL cluster in a folder of its own, made from the system's server binaries.
/// PostgreSQL refuses to run as root, so as root the cluster belongs to an unprivileged user
/// (`pgmcp-postgres`, created when missing). Listens on 127.0.0.1 only.
public final class LocalPostgres: Sendable {
    public let directory: String
    public let port: Int
    public let binaries: String
    public let superuser: String
    /// The superuser's password (TCP uses scram-sha-256); `nil` means trust authentication.
    public let password: String?
    let osUser: String?

    public var dataDirectory: String { directory + "/data" }
    public var logFile: String { directory + "/postgres.log" }

    /// The newest server binaries: `/usr/lib/postgresql/<n>/bin` (Debian), else `initdb` on PATH.
    public static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { Int($0) }.sorted(by: >)
        for version in versions where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/initdb"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().deletingLastPathComponent().path
            }
        }
        throw Missing()
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian/Ubuntu: apt-get install postgresql), or run scripts/demo, which does"
        }
    }

    /// The server's major version, e.g. "15".
    public var version: String {
        URL(fileURLWithPath: binaries).deletingLastPathComponent().lastPathComponent
    }

    /// Creates the folder (mode 700, owned by the cluster's user) and runs initdb. Blocking.
    public init(directory: String? = nil, port: Int? = nil, superuser: String = "postgres", password: String?) throws {
        binaries = try Self.findBinaries()
        self.directory = try directory ?? Self.makeTemporaryDirectory()
        self.port = port ?? freeLocalPort()
        self.superuser = superuser
        self.password = password
        osUser = getuid() == 0 ? try Self.unprivilegedUser() : nil
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        if let osUser { try ProgramRunner.check(["chown", osUser, self.directory]) }
        chmod(self.directory, 0o700)
        var arguments = ["\(binaries)/initdb", "-D", dataDirectory, "-U", superuser, "-E", "UTF8", "--no-locale", "--no-sync"]
        if let password {
            let passwordFile = self.directory + "/.pw"
            try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
            if let osUser { try ProgramRunner.check(["chown", osUser, passwordFile]) }
            defer { unlink(passwordFile) }
            arguments += ["--pwfile=\(passwordFile)", "--auth-local=trust", "--auth-host=scram-sha-256"]
            try asClusterUser(arguments)
        } else {
            arguments += ["--auth=trust"]
            try asClusterUser(arguments)
        }
    }

    static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "pgmcp-pg-XXXXXX").utf8CString)
        guard mkdtemp(&template) != nil else { throw ProgramRunner.Failure(command: "mkdtemp", status: errno, output: "") }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `pgmcp-postgres`, created (system user, no home, no shell) if it does not exist.
    static func unprivilegedUser() throws -> String {
        let name = "pgmcp-postgres"
        if getpwnam(name) == nil {
            try ProgramRunner.check(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        }
        return name
    }

    @discardableResult
    func asClusterUser(_ arguments: [String]) throws -> String {
        try ProgramRunner.check(osUser.map { ["runuser", "-u", $0, "--"] + arguments } ?? arguments)
    }

    /// Starts the server on 127.0.0.1:`port` and waits until it accepts connections. Blocking.
    public func start() throws {
        try asClusterUser([
            "\(binaries)/pg_ctl", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60",
            "-o", "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off\(preloads)", "start",
        ])
    }

    /// pg_stat_statements, loaded at start where the server has it (Debian's server package does):
    /// the DBA tools read the workload from it.
    var preloads: String {
        let library = URL(fileURLWithPath: binaries).deletingLastPathComponent().path + "/lib/pg_stat_statements.so"
        return FileManager.default.fileExists(atPath: library) ? " -c shared_preload_libraries=pg_stat_statements" : ""
    }

    /// Whether `extension` can be created in this cluster's databases (its control file is installed).
    public func hasExtension(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: "/usr/share/postgresql/\(version)/extension/\(name).control")
    }

    /// Turns TLS on with a throwaway self-signed certificate (takes effect at the next start).
    /// Needs the `openssl` command. Blocking.
    public func enableTLS() throws {
        try asClusterUser([
            "openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout",
            dataDirectory + "/server.key", "-out", dataDirectory + "/server.crt",
        ])
        try asClusterUser(["chmod", "600", dataDirectory + "/server.key"])
        try asClusterUser(["sh", "-c", "echo 'ssl = on' >> \"$0\"", dataDirectory + "/postgresql.conf"])
    }

    /// Stops the server (fast: sessions are terminated). Blocking.
    public func stop() throws {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") else { return }
        try asClusterUser(["\(binaries)/pg_ctl", "-D", dataDirectory, "-m", "fast", "-w", "-t", "30", "stop"])
    }

    /// Stops the server if it runs and deletes the folder. Blocking; never throws.
    public func destroy() {
        if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") {
            _ = try? asClusterUser(["\(binaries)/pg_ctl", "-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A libpq URI for `database` as the superuser (password included when there is one).
    public func url(database: String = "postgres", user: String? = nil, password: String? = nil) -> String {
        let user = user ?? superuser
        let secret = password ?? (user == superuser ? self.password : nil)
        let credentials = secret.map { "\(user):\(percentEncoded($0))" } ?? user
        return "postgresql://\(credentials)@127.0.0.1:\(port)/\(database)"
    }

    func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
