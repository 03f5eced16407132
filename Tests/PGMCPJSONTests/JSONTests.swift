import PGMCPJSON
import Testing

@Suite("JSON") struct JSONTests {
    @Test func roundTripsEveryKind() throws {
        let text = #"{"n":null,"t":true,"f":false,"i":-42,"big":9223372036854775807,"d":1.5,"e":2.5e-8,"s":"a\"b\\c\n\u0001é✓","a":[1,[2,{}],[]],"o":{"k":"v"}}"#
        let value = try JSONParser.parse(text)
        #expect(value["i"] == .int(-42))
        #expect(value["big"] == .int(Int64.max))
        #expect(value["e"] == .double(2.5e-8))
        #expect(value["s"] == .string("a\"b\\c\n\u{01}é✓"))
        #expect(try JSONParser.parse(value.jsonText) == value)
        #expect(value.objectValue?.keys == ["n", "t", "f", "i", "big", "d", "e", "s", "a", "o"])
    }

    @Test func writesCompactlyInKeyOrder() {
        let value: JSONValue = ["b": 1, "a": [true, nil, "x"], "c": 0.25]
        #expect(value.jsonText == #"{"b":1,"a":[true,null,"x"],"c":0.25}"#)
        #expect(JSONValue.double(.nan).jsonText == #""NaN""#)
        #expect(JSONValue.double(-.infinity).jsonText == #""-Infinity""#)
        #expect(JSONValue.double(3).jsonText == "3")
        #expect(JSONValue.string("\u{1F}\t").jsonText == #""\u001f\t""#)
    }

    @Test func numbersAreWrittenAndMeasuredAlike() throws {
        let values: [JSONValue] = [
            .int(0), .int(7), .int(-7), .int(10), .int(-10), .int(99), .int(100), .int(1_234_567), .int(Int64.max), .int(Int64.min),
            .double(2), .double(-2), .double(0.5), .double(-1e300), .double(123_456_789_012_345), .double(1e15), .double(.nan), .double(-.infinity),
            .double(.infinity), .double(0.1 + 0.2), .double(-0.000_001_5), .double(1.5e-300),
        ]
        for value in values {
            let written = String(decoding: value.serialized(), as: UTF8.self)
            #expect(value.serializedSize == written.utf8.count, "\(written)")
            if case .int(let integer) = value { #expect(written == String(integer)) }
        }
    }

    @Test func surrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ud83d""#) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(#""\ude00""#) }
    }

    @Test func integersTooLargeBecomeDoubles() throws {
        #expect(try JSONParser.parse("18446744073709551616") == .double(18446744073709551616))
        #expect(try JSONParser.parse("-0") == .int(0))
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "[01]", "1.", ".5", "-", "1e", "tru", "nul", "\"abc", "\"a\u{01}\"",
        "\"\\x\"", "[1 2]", "{\"a\" 1}", "{1:2}", "1 2", "[", "\"\\u12\"", "NaN", "Infinity", "'a'",
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func errorsSayWhere() {
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse("{\n  \"a\": tru\n}") }
        #expect(error?.line == 2)
        #expect(error?.column == 8)
        #expect(error?.description == "invalid literal, expected 'true' at line 2, column 8")
    }

    @Test func depthIsLimitedSoHostileInputCannotExhaustTheStack() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        #expect(error?.reason == "nesting deeper than 256 levels")
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        _ = try JSONParser.parse(fine)
    }

    @Test func duplicateKeys() throws {
        #expect(try JSONParser.parse(#"{"a":1,"a":2}"#) == ["a": 2])
        #expect(throws: JSONParseError.self) {
            try JSONParser.parse(#"{"a":1,"a":2}"#, options: .init(rejectDuplicateKeys: true))
        }
    }

    /// Requests refuse a key named twice at any depth, and the error names it (cut: a key may be
    /// megabytes long).
    @Test func requestsRefuseAKeyTwiceAtAnyDepthAndTheErrorNamesIt() throws {
        let nested = #"{"params":{"arguments":{"params":[{"x":{"sql":1,"sql":2}}]}}}"#
        let error = #expect(throws: JSONParseError.self) { try JSONParser.parse(nested, options: .request) }
        #expect(error?.duplicateKey == "sql")
        #expect(error?.reason == #"duplicate key "sql""#)
        #expect(try JSONParser.parse(nested)["params"]?["arguments"]?["params"] == [["x": ["sql": 2]]])
        let long = String(repeating: "k", count: 100_000)
        let longError = #expect(throws: JSONParseError.self) { try JSONParser.parse(#"{"\#(long)":1,"\#(long)":2}"#, options: .request) }
        #expect(longError?.duplicateKey == String(repeating: "k", count: 64) + "…")
        #expect((longError?.reason.count ?? .max) < 100)
        // Not a duplicate: keys that differ only after an escape, or in case.
        #expect(try JSONParser.parse(#"{"a":1,"A":2,"a\u0000":3}"#, options: .request).objectValue?.count == 3)
    }

    /// Past a few members the parser keeps an object's keys in a set (a hostile object of 300,000
    /// keys must not cost 300,000² comparisons): duplicates are found there too, early or late.
    @Test func largeObjectsFindDuplicatesToo() throws {
        let keys = (0..<40).map { "\"k\($0)\":\($0)" }
        for repeated in ["k0", "k15", "k16", "k39"] {
            let text = "{" + keys.joined(separator: ",") + ",\"\(repeated)\":-1}"
            let error = #expect(throws: JSONParseError.self, "\(repeated)") { try JSONParser.parse(text, options: .request) }
            #expect(error?.duplicateKey == repeated)
            let lastWins = try JSONParser.parse(text)
            #expect(lastWins[repeated] == -1)
            #expect(lastWins.objectValue?.count == 40)
        }
        let distinct = try JSONParser.parse("{" + (0..<50_000).map { "\"k\($0)\":0" }.joined(separator: ",") + "}", options: .request)
        #expect(distinct.objectValue?.count == 50_000)
        // Where the last one wins (a json column's text), a repeated key is replaced in place: 50,000
        // repeats of the last of 50,000 keys scanned every member each (2.5 billion comparisons).
        let repeats = Array(repeating: "\"k49999\":1", count: 50_000)
        let replaced = try JSONParser.parse("{" + ((0..<50_000).map { "\"k\($0)\":0" } + repeats).joined(separator: ",") + "}")
        #expect(replaced.objectValue?.count == 50_000)
        #expect(replaced["k49999"] == 1)
    }
}

@Suite("JSON object equality") struct JSONObjectEqualityTests {
    @Test func objectsCompareWithoutRegardToKeyOrder() {
        let a: JSONValue = ["x": 1, "y": [true]]
        let b: JSONValue = ["y": [true], "x": 1]
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(a != ["x": 1, "y": [false]])
        #expect(a != ["x": 1])
        // Output keeps the order it was built in.
        #expect(b.jsonText == #"{"y":[true],"x":1}"#)
    }
}
