/// The column references of one expression as `EXPLAIN (VERBOSE)` prints it (`"((o.customer_id = $1)
/// AND (o.total > 100::numeric))"`), each with what the expression does with it: compares it for
/// equality, compares it as a range, or something an index on the plain column does not serve.
///
/// The text is PostgreSQL's own deparse, so its shapes are few: under VERBOSE every column is
/// qualified by its range table alias (`alias.column`, either part double-quoted when it must be),
/// constants are literals with their casts, operators are symbols (`~~` for LIKE). The reader only
/// finds `alias.column` pairs outside string literals and the operator beside each; it never
/// evaluates anything, and nothing it finds is ever put into SQL (names are matched against the
/// catalog afterwards, see `IndexCandidates`).
struct PlanExpression {
    enum Use: Equatable {
        /// `col = …`, `… = col`, `col = ANY (…)`.
        case equality
        /// `<`, `<=`, `>`, `>=` (and BETWEEN, printed as two of them).
        case range
        /// Anything else: inside a function call, `<>`, `IS NULL`, arithmetic, LIKE. An index on
        /// the bare column does not serve it, or not in a way worth a candidate.
        case other
    }

    struct Reference: Equatable {
        var alias: String
        var column: String
        var use: Use
    }

    /// The qualified column references in `text`, in order.
    static func references(in text: String) -> [Reference] {
        let tokens = tokenize(text)
        var found: [Reference] = []
        var index = 0
        while index < tokens.count {
            guard case .name(let alias) = tokens[index], index + 2 < tokens.count, tokens[index + 1] == .symbol("."),
                case .name(let column) = tokens[index + 2]
            else {
                index += 1
                continue
            }
            // `schema.function(` is a call; a name after `::` is a type (`::public.mood`).
            let isCall = index + 3 < tokens.count && tokens[index + 3] == .open
            let isType = index > 0 && tokens[index - 1] == .symbol("::")
            if !isCall && !isType { found.append(Reference(alias: alias, column: column, use: use(of: index, through: index + 2, in: tokens))) }
            index += 3
        }
        return found
    }

    /// What the operator beside a reference (tokens `start...end`) does with it. Parentheses and
    /// casts around the reference are looked through (`((o.code)::text = 'x'::text)`), as many
    /// closing as opening ones; a `(` right after a name before it means the reference is a
    /// function's argument.
    private static func use(of start: Int, through end: Int, in tokens: [Token]) -> Use {
        var before = start - 1
        var opened = 0
        while before >= 0, tokens[before] == .open {
            before -= 1
            opened += 1
        }
        if opened > 0, before >= 0, case .name(let word) = tokens[before], !keywords.contains(word.uppercased()) { return .other }
        var after = end + 1
        var closed = 0
        while after < tokens.count {
            if tokens[after] == .close, closed < opened {
                after += 1
                closed += 1
            } else if tokens[after] == .symbol("::") {
                // The type: names, dots, `[]`, and a parenthesised modifier (`character varying(20)`).
                after += 1
                while after < tokens.count, tokens[after].isTypePart { after += 1 }
            } else {
                break
            }
        }
        if after < tokens.count, case .symbol(let symbol) = tokens[after], symbol != "." { return classify(symbol) }
        if after < tokens.count, case .name = tokens[after] { return .other }  // IS NULL, IS DISTINCT FROM…
        if before >= 0, case .symbol(let symbol) = tokens[before] { return classify(symbol) }
        return .other
    }

    private static func classify(_ symbol: String) -> Use {
        switch symbol {
        case "=": .equality
        case "<", "<=", ">", ">=": .range
        default: .other
        }
    }

    /// Words that may stand before `(` without being a function's name.
    private static let keywords: Set<String> = ["AND", "OR", "NOT", "ANY", "ALL", "SOME", "IN", "CASE", "WHEN", "THEN", "ELSE", "IS", "ARRAY"]

    enum Token: Equatable {
        case name(String)
        case symbol(String)
        case literal
        case open, close

        var isTypePart: Bool {
            switch self {
            case .name, .symbol("."), .symbol("["), .symbol("]"): true
            default: false
            }
        }
    }

    /// Names (plain, lower-cased as PostgreSQL folds them; or double-quoted, kept as written),
    /// string literals (skipped whole, doubled quotes included), numbers and `$n` (as literals),
    /// parentheses, and runs of operator characters.
    static func tokenize(_ text: String) -> [Token] {
        let characters = Array(text.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic || c.value >= 0x80 }
        func isNamePart(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) || c == "$" }
        while index < characters.count {
            let c = characters[index]
            switch c {
            case " ", "\n", "\t", "\r", ",":
                index += 1
            case "(":
                tokens.append(.open)
                index += 1
            case ")":
                tokens.append(.close)
                index += 1
            case "'", "\"":
                var body = ""
                index += 1
                while index < characters.count {
                    if characters[index] == c {
                        if index + 1 < characters.count, characters[index + 1] == c {
                            body.unicodeScalars.append(c)
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    body.unicodeScalars.append(characters[index])
                    index += 1
                }
                tokens.append(c == "'" ? .literal : .name(body))
            case _ where isNameStart(c):
                var name = ""
                while index < characters.count, isNamePart(characters[index]) {
                    name.unicodeScalars.append(characters[index])
                    index += 1
                }
                // E'…' (a string with escapes) is a literal, not a name followed by one.
                if (name == "E" || name == "e"), index < characters.count, characters[index] == "'" { continue }
                tokens.append(.name(name.lowercased()))
            case _ where ("0"..."9").contains(c) || c == "$":
                index += 1
                while index < characters.count, ("0"..."9").contains(characters[index]) || characters[index] == "." || characters[index] == "e" {
                    index += 1
                }
                tokens.append(.literal)
            case ".", "[", "]":
                tokens.append(.symbol(String(c)))
                index += 1
            default:
                var symbol = ""
                while index < characters.count, "+-*/<>=~!@#%^&|`?:".unicodeScalars.contains(characters[index]) {
                    symbol.unicodeScalars.append(characters[index])
                    index += 1
                }
                if symbol.isEmpty {
                    symbol = String(c)
                    index += 1
                }
                tokens.append(.symbol(symbol))
            }
        }
        return tokens
    }
}
