import PGClient
import Testing

@Suite("A statement's leading keywords") struct PGReadStatementTests {
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
}
