/// Quoting for the few places where a name or text must be part of a statement's text (no
/// parameter is allowed there: `CREATE DATABASE name`, `COMMENT … IS 'text'`, a `CREATE INDEX` shown
/// to a person). Everything else is sent as a parameter.
public enum SQLQuoting {
    /// `"name"` with embedded quotes doubled: any identifier is safe in SQL, whatever it holds.
    public static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `'text'` with embedded quotes doubled (standard_conforming_strings, on since 9.1).
    public static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
