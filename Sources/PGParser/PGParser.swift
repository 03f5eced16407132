import CPGQuery

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL's own parser (libpg_query, the server's grammar outside the server), asked what a
/// statement text is. The answer depends on the text alone, so it is kept per text
/// (`StatementCache`): a statement sent again costs a dictionary look-up.
public enum PGParser {
    /// What the parser is run on. Past them a text is `ParseFailure.tooLarge`: the counts bound
    /// the parse tree's depth (and so the stack its writer needs) and its size.
    public enum Limits {
        /// Tokens that can nest (operators, keywords, brackets); each costs at most ~256 bytes of
        /// the parser thread's stack, half of `parserStackBytes / maxNestingTokens`.
        public static let maxNestingTokens = 100_000
        /// All tokens: the tree's JSON is about a hundred bytes a token.
        public static let maxTokens = 250_000
        /// The text itself, checked before the scanner runs (which takes about 0.15 s and 13 MB a MiB).
        public static let maxBytes = 512 << 10
        /// Texts with at most this many nesting tokens are parsed on the calling thread (which has at
        /// least 512 KiB of stack); larger ones on a thread of their own with `parserStackBytes`.
        static let inlineNestingTokens = 400
        static let parserStackBytes = 64 << 20
    }

    static let cache = StatementCache(capacity: 4096, maxTextBytes: 16 << 10)

    /// The facts of `sql`, from the cache or the parser.
    public static func parse(_ sql: String) async -> Result<ParsedStatement, ParseFailure> {
        if let known = cache[sql] { return known }
        let outcome = await parseUncached(sql)
        if case .failure(.tooLarge) = outcome { return outcome }  // may fit once a thread is free
        cache[sql] = outcome
        return outcome
    }

    /// The facts of `sql`, always from the parser (for measuring what the cache saves).
    public static func parseUncached(_ sql: String) async -> Result<ParsedStatement, ParseFailure> {
        if sql.utf8.contains(0) { return .failure(.syntax(message: "the statement holds a NUL character", position: nil)) }
        let bytes = sql.utf8.count
        if bytes > Limits.maxBytes { return .failure(.tooLarge(what: "bytes", count: bytes, limit: Limits.maxBytes)) }
        let size = sql.withCString { StatementSize.of($0) }
        // The scanner refused the text: the parser says why, and stops before building any tree.
        let nesting = size?.nestingTokens ?? 0
        if let size, size.tokens > Limits.maxTokens {
            return .failure(.tooLarge(what: "tokens", count: size.tokens, limit: Limits.maxTokens))
        }
        if nesting > Limits.maxNestingTokens {
            return .failure(.tooLarge(what: "operators, keywords and brackets", count: nesting, limit: Limits.maxNestingTokens))
        }
        if nesting <= Limits.inlineNestingTokens { return run(sql) }
        return await ParserThread.run(stackBytes: Limits.parserStackBytes) { run(sql) }
            ?? .failure(.tooLarge(what: "operators, keywords and brackets (no thread could be started to parse them)", count: nesting, limit: Limits.inlineNestingTokens))
    }

    /// Parses `sql` and reads its facts off the tree; blocking CPU work, bounded by `Limits`.
    static func run(_ sql: String) -> Result<ParsedStatement, ParseFailure> {
        let result = pg_query_parse(sql)
        defer { pg_query_free_parse_result(result) }
        if let error = result.error?.pointee {
            let message = error.message.map { String(cString: $0) } ?? "syntax error"
            return .failure(.syntax(message: message, position: error.cursorpos > 0 ? Int(error.cursorpos) : nil))
        }
        guard let tree = result.parse_tree else { return .failure(.syntax(message: "the parser returned nothing", position: nil)) }
        let length = strlen(tree)
        return tree.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            .success(ParseTreeFacts.read(UnsafeBufferPointer(start: bytes, count: length)))
        }
    }
}
