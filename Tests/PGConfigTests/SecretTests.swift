import PGConfig
import Testing

@Suite("Secrets") struct SecretTests {
    @Test func secretPrintsMaskedEverywhere() {
        let secret = Secret("p@ss-w0rd")
        #expect("\(secret)" == "•••")
        #expect(String(describing: secret) == "•••")
        #expect(String(reflecting: secret) == "•••")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("p@ss-w0rd"))
        #expect(secret.reveal() == "p@ss-w0rd")
    }

    @Test func configuredDatabasesNeverPrintTheirPassword() throws {
        let configuration = try Configuration.load(environment: [
            "DB_CONFIGS": #"[{"id": "a", "url": "postgresql://u:Pw-In-Url-77@h/d"}, {"id": "b", "host": "h", "password": "Pw-Field-88"}]"#
        ])
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in [dumped, String(describing: configuration), configuration.databases.map(\.summary).joined()] {
            #expect(!text.contains("Pw-In-Url-77"))
            #expect(!text.contains("Pw-Field-88"))
        }
        #expect(configuration.databases[0].maskedTarget == "postgresql://u:•••@h/d")
    }
}
