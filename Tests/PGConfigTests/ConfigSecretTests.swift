import PGConfig
import TestSupport
import Testing

/// A password holding any special character, in any place the configuration takes one, never shows
/// in a problem the loader reports nor in what a loaded database prints.
@Suite("Secrets in the configuration") struct ConfigSecretTests {

    struct Place: Sendable, CustomStringConvertible {
        let description: String
        /// The environment holding the password, written as this place writes it, and the text around it.
        let environment: @Sendable (String) -> [String: String]
        let context: String
        let written: @Sendable (String) -> String
        let proper: Bool
    }

    static let url = (before: "postgresql://app:", after: "@db.example:5432/orders")
    static let places: [Place] = [
        Place(
            description: "DB_CONFIGS url, as typed", environment: { ["DB_CONFIGS": #"[{"id": "a", "url": "\#(SecretFragments.jsonContents(url.before + $0 + url.after))"}]"#] },
            context: url.before + url.after, written: { $0 }, proper: false),
        Place(
            description: "DB_CONFIGS url, percent-encoded",
            environment: { ["DB_CONFIGS": #"[{"id": "a", "url": "\#(SecretFragments.jsonContents(url.before + SecretFragments.percentEncoded($0) + url.after))"}]"#] },
            context: url.before + url.after, written: SecretFragments.percentEncoded, proper: true),
        Place(
            description: "DB_CONFIGS url, key=value quoted",
            environment: { ["DB_CONFIGS": #"[{"id": "a", "url": "\#(SecretFragments.jsonContents("host=db.example user=app password=" + SecretFragments.quoted($0)))"}]"#] },
            context: "host=db.example user=app password=", written: SecretFragments.quoted, proper: true),
        Place(
            description: "DB_CONFIGS url, key=value as typed",
            environment: { ["DB_CONFIGS": #"[{"id": "a", "url": "\#(SecretFragments.jsonContents("host=db.example user=app password=" + $0 + " dbname=orders"))"}]"#] },
            context: "host=db.example user=app password= dbname=orders", written: { $0 }, proper: false),
        Place(
            description: "DB_CONFIGS password field",
            environment: { ["DB_CONFIGS": #"[{"id": "a", "host": "db.example", "user": "app", "password": "\#(SecretFragments.jsonContents($0))"}]"#] },
            context: "db.example app", written: { $0 }, proper: true),
        Place(
            description: "DB_CONFIGS JSON, as typed", environment: { ["DB_CONFIGS": #"[{"id": "a", "host": "db.example", "password": "\#($0)"}]"#] },
            context: #"[{"id": "a", "host": "db.example", "password": ""}]"#, written: { $0 }, proper: false),
        Place(
            description: "DB_CONFIGS passwordEnv", environment: { ["DB_CONFIGS": #"[{"id": "a", "host": "db.example", "passwordEnv": "PW"}]"#, "PW": $0] },
            context: "db.example PW", written: { $0 }, proper: true),
        Place(
            description: "DB_CONFIG_A_URL, as typed", environment: { ["DB_CONFIG_A_URL": url.before + $0 + url.after] },
            context: url.before + url.after, written: { $0 }, proper: false),
        Place(
            description: "DB_CONFIG_A_URL, percent-encoded", environment: { ["DB_CONFIG_A_URL": url.before + SecretFragments.percentEncoded($0) + url.after] },
            context: url.before + url.after, written: SecretFragments.percentEncoded, proper: true),
        Place(
            description: "DB_CONFIG_A_PASSWORD", environment: { ["DB_CONFIG_A_HOST": "db.example", "DB_CONFIG_A_PASSWORD": $0] },
            context: "db.example", written: { $0 }, proper: true),
        Place(
            description: "DATABASE_URL, as typed", environment: { ["DATABASE_URL": url.before + $0 + url.after] },
            context: url.before + url.after, written: { $0 }, proper: false),
        Place(
            description: "DATABASE_URL, percent-encoded", environment: { ["DATABASE_URL": url.before + SecretFragments.percentEncoded($0) + url.after] },
            context: url.before + url.after, written: SecretFragments.percentEncoded, proper: true),
    ]

    @Test func noPieceOfAPasswordShowsWhereverItIsConfigured() {
        for place in Self.places {
            for password in SecretFragments.passwords {
                var shown: [String]
                do {
                    let configuration = try Configuration.load(environment: place.environment(password))
                    let database = configuration.databases[0]
                    shown = [database.maskedTarget, database.summary, String(describing: database.connection), String(describing: configuration)]
                    if place.proper { #expect(database.password?.reveal() == password, "\(place)") }
                } catch {
                    #expect(!place.proper, "\(place): \(password.debugDescription) refused: \(error)")
                    shown = [error.description]
                }
                for output in shown {
                    let leaked = SecretFragments.leaked(password, written: place.written(password), in: output, context: place.context)
                    #expect(leaked.isEmpty, "\(place): \(password.debugDescription) → \(output.debugDescription) shows \(leaked)")
                }
            }
        }
    }

    /// The issue's message, now: the database and field named, the password's place explained, no piece of it.
    @Test func theIssuesCase() {
        #expect(
            problems(["DB_CONFIGS": #"[{"id": "prod", "url": "postgresql://u:ab\"LeakTail%@h/d"}]"#]) == [
                "DB_CONFIGS: database 'prod': field 'url': invalid connection string: the password is not valid URL text: a '%' must begin a %XX escape (write '%' itself as %25), and %00 is not allowed"
            ])
        #expect(
            problems(["DATABASE_URL": "postgresql://u:p@ssLeakTail@h/d"]) == [
                "DATABASE_URL: database 'default': environment variable DATABASE_URL: invalid connection string: an '@' may appear in a URL only once, ending the user name and password before the host; write '@' and '/' in a user name or password as %40 and %2F, and any other '@' as %40"
            ])
    }
}
