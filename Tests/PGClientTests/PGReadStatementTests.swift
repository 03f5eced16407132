import PGClient
import Testing

@Suite("Which statements a read-only call runs") struct PGReadStatementTests {
    @Test func theFirstWordAfterCommentsWhiteSpaceAndParentheses() {
        #expect(PGReadStatement.leadingKeyword(of: "select 1") == "SELECT")
        #expect(PGReadStatement.leadingKeyword(of: "  \n\t(( SELECT 1))") == "SELECT")
        #expect(PGReadStatement.leadingKeyword(of: "-- a\n-- b\r\nlock t") == "LOCK")
        #expect(PGReadStatement.leadingKeyword(of: "/* a /* nested */ still comment */ DO $$ $$") == "DO")
        #expect(PGReadStatement.leadingKeyword(of: "/* unterminated") == nil)
        #expect(PGReadStatement.leadingKeyword(of: "") == nil)
        #expect(PGReadStatement.leadingKeyword(of: "$1") == "$1")
        #expect(PGReadStatement.leadingKeyword(of: "'text'") == nil)
        #expect(PGReadStatement.leadingKeyword(of: "Ｓelect 1") == "ＳELECT")  // not ASCII: no match, refused
    }

    @Test func onlyReadingStatementsPass() throws {
        for sql in ["SELECT 1", "with x as (select 1) select * from x", "VALUES (1)", "TABLE t", "SHOW all", "EXPLAIN SELECT 1"] {
            try PGReadStatement.check(sql)
        }
        for sql in ["LOCK t", "DO $$ $$", "CLUSTER t", "REINDEX TABLE t", "ANALYZE t", "CALL p()", "SET x = 1", "COMMIT", "'x'", "Ｓelect 1"] {
            #expect(throws: PGError.self, "\(sql)") { try PGReadStatement.check(sql) }
        }
    }
}
