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
        /// The text itself (a request is capped at 4 MiB before it gets here).
        public static let maxBytes = 8 << 20
        /// Texts of at most this many bytes are scanned, and with at most `inlineNestingTokens`
        /// parsed, on the calling thread (which has at least 512 KiB of stack). Anything larger runs
        /// on a parser thread of its own: scanning a MiB of `1+1+…` takes about 0.15 s, which must
        /// not hold a thread of Swift's pool.
        static let inlineBytes = 16 << 10
        static let inlineNestingTokens = 400
        static let parserStackBytes = 64 << 20
        /// Parser threads at once; more large texts wait for one.
        static let parserThreads = 2
    }

    static let cache = StatementCache(capacity: 4096, maxTextBytes: 16 << 10)
    static let threads = ParserThread(limit: Limits.parserThreads, stackBytes: Limits.parserStackBytes)

    /// The facts of `sql`, from the cache or the parser.
    public static func parse(_ sql: String) async -> Result<ParsedStatement, ParseFailure> {
        if let known = cache[sql] { return known }
        let outcome = await parseUncached(sql)
        if case .failure(.unavailable) = outcome { return outcome }  // may work once a thread is free
        cache[sql] = outcome
        return outcome
    }

    /// The facts of `sql`, always from the parser (for measuring what the cache saves).
    public static func parseUncached(_ sql: String) async -> Result<ParsedStatement, ParseFailure> {
        if sql.utf8.contains(0) { return .failure(.syntax(message: "the statement holds a NUL character", position: nil)) }
        let bytes = sql.utf8.count
        if bytes > Limits.maxBytes { return .failure(.tooLarge(what: "bytes", count: bytes, limit: Limits.maxBytes)) }
        // A token is at least a byte: a text this short cannot nest deeper than the inline limit.
        if bytes <= Limits.inlineNestingTokens { return run(sql) }
        if bytes > Limits.inlineBytes { return await onParserThread { checkedParse(sql, inline: false) } }
        switch checkedParse(sql, inline: true) {
        case .some(let outcome): return outcome
        case .none: return await onParserThread { run(sql) }
        }
    }

    private static func onParserThread(_ work: @escaping @Sendable () -> Result<ParsedStatement, ParseFailure>?) async -> Result<ParsedStatement, ParseFailure> {
        switch await threads.run(work) {
        case .some(.some(let outcome)): return outcome
        default: return .failure(.unavailable("no thread could be started to parse it (the process is at its thread limit)"))
        }
    }

    /// Scans `sql`, refuses it past the limits, and parses it unless `inline` and it nests too deep
    /// for the calling thread (nil: parse it on a parser thread).
    static func checkedParse(_ sql: String, inline: Bool) -> Result<ParsedStatement, ParseFailure>? {
        // The scanner refuses nothing the parser would not refuse with a better message.
        guard let size = sql.withCString({ StatementSize.of($0) }) else { return run(sql) }
        if size.tokens > Limits.maxTokens { return .failure(.tooLarge(what: "tokens", count: size.tokens, limit: Limits.maxTokens)) }
        if size.nestingTokens > Limits.maxNestingTokens {
            return .failure(.tooLarge(what: "operators, keywords and brackets", count: size.nestingTokens, limit: Limits.maxNestingTokens))
        }
        return inline && size.nestingTokens > Limits.inlineNestingTokens ? nil : run(sql)
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
