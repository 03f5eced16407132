import PGClient
import PGMCPJSON
import TestSupport
import Testing

/// Every case of CONTRACT.md's value mapping, decoded from a real PostgreSQL.
@Suite("Value mapping") struct ValueMappingTests {
    /// Runs `SELECT <expression>` and returns the single value.
    func value(_ expression: String) async throws -> JSONValue {
        try await TestDatabase.withConnection { connection in
            try await connection.query("SELECT \(expression)").rows[0][0]
        }
    }

    @Test func nullIsJSONNull() async throws {
        #expect(try await value("NULL::int4") == .null)
        #expect(try await value("NULL::text") == .null)
    }

    @Test func integersAreNumbers() async throws {
        #expect(try await value("32767::int2") == .int(32767))
        #expect(try await value("(-2147483648)::int4") == .int(-2_147_483_648))
        #expect(try await value("9007199254740992::int8") == .int(9_007_199_254_740_992))
        #expect(try await value("(-9007199254740992)::int8") == .int(-9_007_199_254_740_992))
        #expect(try await value("42::oid") == .int(42))
    }

    @Test func int8BeyondTwoToThe53IsAString() async throws {
        #expect(try await value("9007199254740993::int8") == .string("9007199254740993"))
        #expect(try await value("(-9007199254740993)::int8") == .string("-9007199254740993"))
        #expect(try await value("9223372036854775807::int8") == .string("9223372036854775807"))
    }

    @Test func floatsAreNumbersExceptNaNAndInfinity() async throws {
        #expect(try await value("1.5::float8") == .double(1.5))
        #expect(try await value("0.1::float4") == .double(0.1))
        #expect(try await value("'NaN'::float8") == .string("NaN"))
        #expect(try await value("'Infinity'::float8") == .string("Infinity"))
        #expect(try await value("'-Infinity'::float4") == .string("-Infinity"))
    }

    @Test func numericIsAString() async throws {
        #expect(try await value("123456789012345678901234567890.123::numeric") == .string("123456789012345678901234567890.123"))
        #expect(try await value("'NaN'::numeric") == .string("NaN"))
    }

    @Test func boolIsBool() async throws {
        #expect(try await value("true") == .bool(true))
        #expect(try await value("false") == .bool(false))
    }

    @Test func jsonAndJSONBAreParsed() async throws {
        #expect(
            try await value(#"'{"a": [1, 2.5, null, "x"], "b": {"c": true}}'::jsonb"#)
                == ["a": [1, 2.5, nil, "x"], "b": ["c": true]])
        #expect(try await value(#"'[1,"two"]'::json"#) == [1, "two"])
        #expect(try await value(#"'"just a string"'::jsonb"#) == "just a string")
    }

    @Test func arraysAreJSONArraysWithNullElements() async throws {
        #expect(try await value("ARRAY[1, NULL, 3]::int4[]") == [1, nil, 3])
        #expect(try await value("ARRAY[[1,2],[3,4]]::int8[]") == [[1, 2], [3, 4]])
        #expect(
            try await value(#"ARRAY['a b', 'c"d', NULL, 'NULL', 'e\f', '{x}', '']::text[]"#)
                == ["a b", "c\"d", nil, "NULL", "e\\f", "{x}", ""])
        #expect(try await value("ARRAY[true, false]") == [true, false])
        #expect(try await value("ARRAY[1.5, 'NaN']::float8[]") == [1.5, "NaN"])
        #expect(try await value("ARRAY[1.10]::numeric[]") == ["1.10"])
        #expect(try await value(#"ARRAY['{"k":1}']::jsonb[]"#) == [["k": 1]])
        #expect(try await value("'{}'::int4[]") == [])
        #expect(try await value("'[0:1]={7,8}'::int4[]") == [7, 8])
        #expect(try await value("ARRAY['2024-01-02'::date]") == ["2024-01-02"])
    }

    @Test func byteaIsHexText() async throws {
        #expect(try await value(#"'\xdeadbeef'::bytea"#) == .string(#"\xdeadbeef"#))
        #expect(try await value("''::bytea") == .string(#"\x"#))
    }

    @Test func byteaIsHexEvenWhenTheServerSendsEscapeFormat() async throws {
        let decoded = try await TestDatabase.withConnection { connection in
            try await connection.command("SET bytea_output = 'escape'")
            return try await connection.query(#"SELECT '\x00ff41'::bytea"#).rows[0][0]
        }
        #expect(decoded == .string(#"\x00ff41"#))
    }

    @Test func datesAndTimesArePostgreSQLISOText() async throws {
        #expect(try await value("'2024-02-29'::date") == "2024-02-29")
        #expect(try await value("'13:45:01.5'::time") == "13:45:01.5")
        #expect(try await value("'2024-02-29 13:45:01'::timestamp") == "2024-02-29 13:45:01")
        let timestamptz = try await TestDatabase.withConnection { connection in
            try await connection.command("SET TIME ZONE 'UTC'")
            return try await connection.query("SELECT '2024-02-29 13:45:01+02'::timestamptz").rows[0][0]
        }
        #expect(timestamptz == "2024-02-29 11:45:01+00")
        #expect(try await value("'1 day 02:00:00'::interval") == "1 day 02:00:00")
    }

    @Test func everythingElseIsItsText() async throws {
        #expect(try await value("'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid") == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        #expect(try await value("'192.168.0.1/24'::inet") == "192.168.0.1/24")
        #expect(try await value("'(1,2)'::point") == "(1,2)")
        #expect(try await value("'héllo ✓'::text") == "héllo ✓")
        #expect(try await value("12.50::money") == "$12.50")
    }

    @Test func columnsCarryNamesAndTypes() async throws {
        let result = try await TestDatabase.withConnection { connection in
            try await connection.query("SELECT 1::int4 AS a, 'x'::text AS b, ARRAY[1]::int8[] AS c, now() AS d")
        }
        #expect(result.columns.map(\.name) == ["a", "b", "c", "d"])
        #expect(result.columns.map(\.typeName) == ["integer", "text", "bigint[]", "timestamp with time zone"])
    }
}
