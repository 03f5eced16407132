/// Built-in PostgreSQL type OIDs that decoding and naming care about (from `pg_type.dat`).
/// OIDs of built-in types are fixed across PostgreSQL versions.
public enum PGType {
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let oid: UInt32 = 26
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let numeric: UInt32 = 1700
    public static let jsonb: UInt32 = 3802

    /// The element type of a built-in array type, e.g. `int4[]` (1007) → `int4` (23).
    public static func elementType(ofArray oid: UInt32) -> UInt32? { arrayElements[oid] }

    /// `format_type`-style name of a built-in type (`integer`, `text[]`); `nil` for others,
    /// which the caller can resolve through the catalog.
    public static func name(of oid: UInt32) -> String? {
        if let name = names[oid] { return name }
        if let element = arrayElements[oid], let name = names[element] { return name + "[]" }
        return nil
    }

    static let arrayElements: [UInt32: UInt32] = [
        1000: 16, 1001: 17, 1002: 18, 1003: 19, 1005: 21, 1007: 23, 1009: 25, 1014: 1042, 1015: 1043,
        1016: 20, 1021: 700, 1022: 701, 1028: 26, 1115: 1114, 1182: 1082, 1183: 1083, 1185: 1184,
        1187: 1186, 1231: 1700, 1270: 1266, 199: 114, 3807: 3802, 2951: 2950, 1041: 869, 651: 650,
        1040: 829, 1561: 1560, 1563: 1562, 143: 142, 791: 790, 1013: 30, 1006: 22, 1010: 27, 1011: 28,
        1012: 29, 3643: 3614, 1263: 2275, 3221: 3220,
    ]

    static let names: [UInt32: String] = [
        16: "boolean", 17: "bytea", 18: "\"char\"", 19: "name", 20: "bigint", 21: "smallint", 22: "int2vector",
        23: "integer", 24: "regproc", 25: "text", 26: "oid", 27: "tid", 28: "xid", 29: "cid", 30: "oidvector",
        114: "json", 142: "xml", 194: "pg_node_tree", 600: "point", 601: "lseg", 602: "path", 603: "box",
        604: "polygon", 628: "line", 650: "cidr", 700: "real", 701: "double precision", 705: "unknown",
        718: "circle", 774: "macaddr8", 790: "money", 829: "macaddr", 869: "inet", 1033: "aclitem",
        1042: "character", 1043: "character varying", 1082: "date", 1083: "time without time zone",
        1114: "timestamp without time zone", 1184: "timestamp with time zone", 1186: "interval",
        1266: "time with time zone", 1560: "bit", 1562: "bit varying", 1700: "numeric", 1790: "refcursor",
        2202: "regprocedure", 2203: "regoper", 2204: "regoperator", 2205: "regclass", 2206: "regtype",
        2249: "record", 2275: "cstring", 2278: "void", 2950: "uuid", 3220: "pg_lsn", 3614: "tsvector",
        3615: "tsquery", 3734: "regconfig", 3769: "regdictionary", 3802: "jsonb", 3904: "int4range",
        3906: "numrange", 3908: "tsrange", 3910: "tstzrange", 3912: "daterange", 3926: "int8range",
        4089: "regnamespace", 4096: "regrole", 4072: "jsonpath", 5038: "pg_snapshot",
    ]
}
