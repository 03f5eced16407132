import PGClient
import PGMCPJSON

/// A tool's arguments, read by name with errors that name the argument and what it should be.
/// Unknown arguments are refused too: a misspelled `max_row` silently ignored would surprise.
public struct ToolArguments: Sendable {
    public let values: JSONObject

    init(_ values: JSONObject, allowed: [String]) throws(ToolError) {
        for key in values.keys where !allowed.contains(key) {
            throw ToolError("unknown argument '\(key)'; this tool takes: \(allowed.map { "'\($0)'" }.joined(separator: ", "))")
        }
        self.values = values
    }

    func string(_ name: String) throws(ToolError) -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw ToolError("argument '\(name)' must be a string, got \(other.typeName)")
        }
    }

    func requiredString(_ name: String) throws(ToolError) -> String {
        guard let text = try string(name), !text.allSatisfy(\.isWhitespace) else {
            throw ToolError("argument '\(name)' is required and must be a non-empty string")
        }
        return text
    }

    func bool(_ name: String) throws(ToolError) -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw ToolError("argument '\(name)' must be true or false, got \(other.typeName)")
        }
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ToolError) -> Int? {
        switch values[name] {
        case nil, .null?: return nil
        case let value? where value.exactInt.map(range.contains) == true: return value.exactInt
        case let other?:
            throw ToolError("argument '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(other.jsonText)")
        }
    }

    /// `params`: values for `$1…$n`, in PostgreSQL's text form. JSON null is SQL NULL; numbers and
    /// booleans are written as PostgreSQL reads them; an array of scalars becomes an array literal
    /// (for `= ANY($1)`); an object becomes its JSON text (for json/jsonb).
    func parameters(_ name: String = "params") throws(ToolError) -> [String?] {
        switch values[name] {
        case nil, .null?: return []
        case .array(let items)?:
            var texts: [String?] = []
            for (index, item) in items.enumerated() {
                do { texts.append(try Self.parameterText(item)) } catch {
                    throw ToolError("argument '\(name)' item \(index + 1): \(error.message)")
                }
            }
            return texts
        case let other?: throw ToolError("argument '\(name)' must be an array of values for $1, $2, …, got \(other.typeName)")
        }
    }

    static func parameterText(_ value: JSONValue) throws(ToolError) -> String? {
        switch value {
        case .null: return nil
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .object: return value.jsonText
        case .array(let elements):
            var parts: [String] = []
            for element in elements {
                switch element {
                case .null: parts.append("NULL")
                case .array: parts.append(try parameterText(element) ?? "NULL")
                case .object: parts.append(PGArrayLiteral.quote(element.jsonText))
                default: parts.append(PGArrayLiteral.quote(try parameterText(element) ?? ""))
                }
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }
}
