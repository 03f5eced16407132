import CPGMCPCommit

/// What this binary is: pgmcp's version, written here and nowhere else (`--version`, the MCP
/// `serverInfo`, and the names of scripts/release's artifacts all come from it), and the commit
/// scripts/release built it from.
public enum BuildInfo {
    /// pgmcp's version.
    public static let version = "0.1.0"

    /// The git commit (full hash, "-dirty" when the work tree had changes), or nil for a build that
    /// was not made by scripts/release.
    public static let commit: String? = {
        let text = String(cString: pgmcp_build_commit())
        return text.isEmpty ? nil : text
    }()

    /// What `pgmcp --version` prints: "0.1.0 (commit 1a2b…)", or "0.1.0 (development build)".
    public static var versionLine: String {
        "\(version) (\(commit.map { "commit \($0)" } ?? "development build"))"
    }
}
