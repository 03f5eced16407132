import CPGQuery

/// How large a statement is for the parser, counted by PostgreSQL's own scanner before it is parsed.
///
/// libpg_query writes its parse tree recursively, and a tree can nest once per operator: `1+1+…+1`
/// with 70,000 `+` overflows an 8 MiB stack and kills the process. Its scanner is a loop, so the
/// tokens are counted first: a tree nests at most once per token that is not a name, a constant,
/// a comma or a closing bracket (measured: at most about 256 bytes of stack each), and is about a
/// hundred bytes of JSON per token.
struct StatementSize {
    var tokens = 0
    /// Tokens that can open a level of the tree: operators, keywords, opening brackets.
    var nestingTokens = 0

    /// libpg_query's token numbers (`pg_query.proto`, enum Token) that never open a level.
    private static let flatTokens: Set<UInt64> = [
        41, 44, 59, 93,  // ) , ; ]
        258, 259, 260, 261, 262, 263, 264, 266, 267,  // IDENT UIDENT FCONST SCONST USCONST BCONST XCONST ICONST PARAM
    ]

    /// Counts `sql`'s tokens; nil when the scanner itself refuses the text (the parser then reports why).
    static func of(_ sql: UnsafePointer<CChar>) -> StatementSize? {
        let result = pg_query_scan(sql)
        defer { pg_query_free_scan_result(result) }
        guard result.error == nil, let data = result.pbuf.data else { return nil }
        let bytes = UnsafeRawBufferPointer(start: data, count: result.pbuf.len).bindMemory(to: UInt8.self)
        return count(ScanResultMessage(bytes))
    }

    /// `ScanResult { repeated ScanToken tokens = 2; }`, `ScanToken { Token token = 4; … }`.
    private static func count(_ message: ScanResultMessage) -> StatementSize? {
        var size = StatementSize()
        var reader = message
        while let (field, token) = reader.nextField() {
            guard field == 2, case .bytes(let range) = token else { continue }
            var inner = ScanResultMessage(UnsafeBufferPointer(rebasing: reader.bytes[range]))
            size.tokens += 1
            while let (innerField, value) = inner.nextField() {
                if innerField == 4, case .varint(let number) = value, !flatTokens.contains(number) { size.nestingTokens += 1 }
            }
        }
        return reader.failed ? nil : size
    }
}

/// Just enough of the protocol-buffers wire format to read a `ScanResult`: varints and
/// length-delimited fields (the only wire types it holds), anything else ends the read as failed.
struct ScanResultMessage {
    enum Value { case varint(UInt64), bytes(Range<Int>) }

    let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private(set) var failed = false

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func nextField() -> (UInt64, Value)? {
        guard index < bytes.count, let tag = varint() else { return nil }
        switch tag & 7 {
        case 0:
            guard let value = varint() else { return fail() }
            return (tag >> 3, .varint(value))
        case 2:
            guard let length = varint(), length <= UInt64(bytes.count - index) else { return fail() }
            let range = index..<index + Int(length)
            index += Int(length)
            return (tag >> 3, .bytes(range))
        default:
            return fail()
        }
    }

    private mutating func fail() -> (UInt64, Value)? {
        failed = true
        return nil
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
