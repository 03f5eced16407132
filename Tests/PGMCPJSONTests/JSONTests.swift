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
