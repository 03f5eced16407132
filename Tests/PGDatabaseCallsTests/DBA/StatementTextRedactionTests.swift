import Testing

@testable import PGDatabaseCalls

/// Passwords in other sessions' statements never leave the server.
@Suite("Statement text redaction") struct StatementTextRedactionTests {
    @Test(arguments: [
        ("ALTER ROLE app PASSWORD 'hunter2'", "ALTER ROLE app PASSWORD '…'"),
        ("create user bob with password 'it''s secret' valid until 'infinity'", "create user bob with password '…' valid until 'infinity'"),
        ("ALTER ROLE x PASSWORD E'esc\\'aped'", "ALTER ROLE x PASSWORD '…'"),
        ("ALTER ROLE x PASSWORD $q$dollar$q$ LOGIN", "ALTER ROLE x PASSWORD '…' LOGIN"),
        ("CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password = 'pw')", "CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'u', password = '…')"),
        ("SELECT dblink_connect('host=db user=u password=s3cret dbname=x')", "SELECT dblink_connect('host=db user=u password=… dbname=x')"),
        ("SELECT dblink('postgresql://u:s3cret@db/x', 'SELECT 1')", "SELECT dblink('postgresql://u:…@db/x', 'SELECT 1')"),
        ("SELECT password_hash FROM users WHERE id = $1", "SELECT password_hash FROM users WHERE id = $1"),
        ("SELECT 1", "SELECT 1"),
    ])
    func redacts(_ text: String, _ expected: String) {
        #expect(StatementTextRedaction.redact(text) == expected)
    }
}
