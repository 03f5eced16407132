import PGMCPJSON

/// `PGMCP_MAX_RESULT_BYTES` for every tool: the dispatcher passes each tool's result (its
/// structured content, serialized) through `fit`, which cuts it to the cap and says so with
/// `truncated: true`. In order, until it fits:
/// 1. The result's lists (its top-level arrays) lose items from their end, levelled: each is cut to
///    at most the same size, so the largest lose most; each keeps at least one item.
/// 2. A table (`rows` of arrays beside `columns`: query, execute) loses columns from its end, every
///    row cut to the same prefix so that rows and columns stay aligned; then rows fill the room left.
///    Rows go before columns: `rows` is one of the lists of step 1. `rowCount` follows the rows kept.
/// 3. Strings anywhere are cut to the longest common length that fits, each with a marker saying
///    how much was cut; every column is kept if that can fit (a long value is cut, not its neighbours).
/// A result that still does not fit (a huge plan) is `tooLarge`, for an error that says what to do.
enum ResultBudget {
    enum Outcome {
        case fits(JSONObject)
        case tooLarge(bytes: Int)
    }

    static func fit(_ result: JSONObject, maxBytes: Int) -> Outcome {
        let size = JSONValue.object(result).serializedSize
        if size <= maxBytes { return .fits(result) }
        var marked = result
        marked["truncated"] = true
        if let fitted = fitLists(marked, maxBytes: maxBytes) { return .fits(fitted) }
        // Step 3, keeping every column if it can: a long value is better cut than its neighbours dropped.
        if let fitted = longestStrings(marked, maxBytes: maxBytes, fitting: { levelLists($0, maxBytes: maxBytes) }) { return .fits(fitted) }
        if let fitted = longestStrings(marked, maxBytes: maxBytes, fitting: { fitLists($0, maxBytes: maxBytes) }) { return .fits(fitted) }
        return .tooLarge(bytes: size)
    }

    /// Step 3: strings cut to the longest common length at which `fits` succeeds.
    static func longestStrings(_ result: JSONObject, maxBytes: Int, fitting fits: (JSONObject) -> JSONObject?) -> JSONObject? {
        guard var best = fits(cutStrings(result, to: 0)) else { return nil }
        var low = 0
        // No string needs to be longer than the whole budget allows.
        var high = min(longestString(in: .object(result)), maxBytes)
        while low < high {
            let middle = (low + high + 1) / 2
            if let fitted = fits(cutStrings(result, to: middle)) {
                best = fitted
                low = middle
            } else {
                high = middle - 1
            }
        }
        return best
    }

    // MARK: - Steps 1 and 2: lists and tables

    /// Steps 1 and 2, or `nil` when even one item per list (and one column) is too much.
    static func fitLists(_ result: JSONObject, maxBytes: Int) -> JSONObject? {
        if let fitted = levelLists(result, maxBytes: maxBytes) { return fitted }
        guard let columns = table(in: result)?.columns, columns.count > 1 else { return nil }
        // The most columns with which one row per list fits.
        var low = 0
        var high = columns.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if levelLists(keepColumns(middle, of: result), maxBytes: maxBytes) != nil { low = middle } else { high = middle - 1 }
        }
        return low == 0 ? nil : levelLists(keepColumns(low, of: result), maxBytes: maxBytes)
    }

    /// Step 1: every top-level list cut to the largest size `limit` at which the result fits.
    static func levelLists(_ result: JSONObject, maxBytes: Int) -> JSONObject? {
        let total = JSONValue.object(result).serializedSize
        if total <= maxBytes { return result }
        let isTable = table(in: result) != nil
        let lists = result.members.compactMap { member -> CuttableList? in
            guard case .array(let items) = member.value, !(isTable && member.key == "columns") else { return nil }
            return CuttableList(key: member.key, items: items)
        }
        func size(at limit: Int) -> Int {
            lists.reduce(total) { $0 - $1.size(keeping: $1.count) + $1.size(keeping: $1.kept(within: limit)) }
        }
        guard size(at: 0) <= maxBytes else { return nil }
        var low = 0
        var high = lists.map { $0.size(keeping: $0.count) }.max() ?? 0
        while low < high {
            let middle = low + (high - low + 1) / 2
            if size(at: middle) <= maxBytes { low = middle } else { high = middle - 1 }
        }
        var fitted = result
        for list in lists { fitted[list.key] = .array(Array(list.items.prefix(list.kept(within: low)))) }
        if isTable, fitted["rowCount"] != nil, let rows = fitted["rows"]?.arrayValue { fitted["rowCount"] = .int(Int64(rows.count)) }
        return fitted
    }

    /// A list with the serialized sizes of its prefixes, to cut it without serializing it again.
    struct CuttableList {
        let key: String
        let items: [JSONValue]
        /// `sums[k]`: the items before `k`, serialized, commas included.
        private let sums: [Int]

        init(key: String, items: [JSONValue]) {
            self.key = key
            self.items = items
            var sums = [0]
            sums.reserveCapacity(items.count + 1)
            for (index, item) in items.enumerated() { sums.append(sums[index] + item.serializedSize + (index > 0 ? 1 : 0)) }
            self.sums = sums
        }

        var count: Int { items.count }

        /// `[` + the first `count` items + `]`.
        func size(keeping count: Int) -> Int { 2 + sums[count] }

        /// The most items that fit in `limit` bytes, but at least one (when there is one).
        func kept(within limit: Int) -> Int {
            var low = min(1, count)
            var high = count
            while low < high {
                let middle = (low + high + 1) / 2
                if size(keeping: middle) <= limit { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }

    /// The table of a query or execute result: `rows`, each an array, beside a `columns` array.
    static func table(in result: JSONObject) -> (columns: [JSONValue], rows: [JSONValue])? {
        guard case .array(let columns)? = result["columns"], case .array(let rows)? = result["rows"],
            rows.allSatisfy({ $0.arrayValue != nil })
        else { return nil }
        return (columns, rows)
    }

    /// Step 2: the first `count` columns, and the same cells of every row.
    static func keepColumns(_ count: Int, of result: JSONObject) -> JSONObject {
        guard let (columns, rows) = table(in: result) else { return result }
        var cut = result
        cut["columns"] = .array(Array(columns.prefix(count)))
        cut["rows"] = .array(rows.map { .array(Array(($0.arrayValue ?? []).prefix(count))) })
        return cut
    }

    // MARK: - Step 3: strings

    static func longestString(in value: JSONValue) -> Int {
        switch value {
        case .string(let text): text.utf8.count
        case .array(let items): items.reduce(0) { max($0, longestString(in: $1)) }
        case .object(let object): object.members.reduce(0) { max($0, longestString(in: $1.value)) }
        default: 0
        }
    }

    /// Every string value longer than `length` bytes (as JSON) cut to it, with its marker.
    static func cutStrings(_ result: JSONObject, to length: Int) -> JSONObject {
        var cut = result
        for member in result.members where member.key != "truncated" { cut[member.key] = member.value.cuttingStrings(to: length) }
        return cut
    }

}
