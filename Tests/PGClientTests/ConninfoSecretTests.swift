import PGClient
import TestSupport
import Testing

/// A connection string's password never gets out, however it is written: not in a parse error,
/// not in the host, port, database or user libpq reads from it, not in what the parameters print.
@Suite("Secrets in connection strings") struct ConninfoSecretTests {
    /// A connection string form: the text around the password, and how the password is written in it.
    struct Form: Sendable, CustomStringConvertible {
        let description: String
        let before: String
        let after: String
        let write: @Sendable (String) -> String
        /// Written as the form requires: libpq must read exactly the password.
        let proper: Bool

        func text(_ password: String) -> String { before + write(password) + after }
        var context: String { before + after }
    }

    static let forms: [Form] = [
        Form(description: "URL, as typed", before: "postgresql://app:", after: "@db.example:5432/orders?sslmode=disable", write: { $0 }, proper: false),
        Form(
            description: "URL, percent-encoded", before: "postgresql://app:", after: "@db.example:5432/orders?sslmode=disable", write: SecretFragments.percentEncoded, proper: true),
        Form(description: "URL parameter, as typed", before: "postgres://app@db.example/orders?password=", after: "&sslmode=disable", write: { $0 }, proper: false),
        Form(
            description: "URL parameter, percent-encoded", before: "postgres://app@db.example/orders?password=", after: "&sslmode=disable", write: SecretFragments.percentEncoded,
            proper: true),
        Form(description: "key=value, as typed", before: "host=db.example port=5432 user=app password=", after: " dbname=orders", write: { $0 }, proper: false),
        Form(description: "key=value, quoted", before: "host=db.example port=5432 user=app password=", after: " dbname=orders", write: SecretFragments.quoted, proper: true),
        Form(description: "key=value, in quotes as typed", before: "host=db.example user=app password='", after: "' dbname=orders", write: { $0 }, proper: false),
        Form(description: "key=value, last", before: "host=db.example dbname=orders password=", after: "", write: { $0 }, proper: false),
        Form(description: "sslpassword, as typed", before: "host=db.example sslpassword=", after: " dbname=orders", write: { $0 }, proper: false),
    ]

    @Test(arguments: forms) func noPieceOfThePasswordGetsOut(form: Form) throws {
        for password in SecretFragments.passwords {
            let text = form.text(password)
            var shown: [String] = []
            do {
                let parameters = try PGConnectionParameters(conninfo: text)
                shown =
                    [parameters.description, parameters.maskedTarget]
                    + parameters.pairs.filter { $0.keyword != "password" && $0.keyword != "sslpassword" }.map(\.value)
                if form.proper { #expect(parameters["password"] == password, "\(form): \(text)") }
            } catch {
                #expect(!form.proper, "\(form): \(text) refused: \(error.message)")
                #expect(error.kind == .invalidParameters)
                #expect(error.message.hasPrefix("invalid connection string: "))
                shown = [error.message, error.description]
            }
            for output in shown {
                let leaked = SecretFragments.leaked(password, written: form.write(password), in: output, context: form.context)
                #expect(leaked.isEmpty, "\(form): \(text.debugDescription) → \(output.debugDescription) shows \(leaked)")
            }
        }
    }

    /// The issue's case: libpq's message quotes the password's percent-decoding, cut at a `"`.
    @Test func aQuoteInAPasswordNoLongerCutsTheMasking() throws {
        let error = try #require(throws: PGError.self) { _ = try PGConnectionParameters(conninfo: #"postgresql://u:ab"LeakTail%@h/d"#) }
        #expect(!error.message.contains("LeakTail"))
        #expect(error.message == "invalid connection string: the password is not valid URL text: a '%' must begin a %XX escape (write '%' itself as %25), and %00 is not allowed")
    }

    /// libpq reads `u:p@ss@h` as host `ss@h` and `u:pa/ss@h/d` as host `u`, port `pa`: a password
    /// with '@' or '/' would be shown by every listing and quoted by every connection error.
    @Test func aURLWhosePasswordWouldSpillIntoTheHostIsRefused() throws {
        for text in ["postgresql://u:p@ssHidden@h/d", "postgresql://u:pa/ssHidden@h/d", "postgresql://u:p/wHid?sslmode=den@h/d", "postgresql://h/d?user=me@corp"] {
            let error = try #require(throws: PGError.self, "\(text)") { _ = try PGConnectionParameters(conninfo: text) }
            #expect(error.message.hasPrefix("invalid connection string: an '@' may appear in a URL only once"))
            #expect(!error.message.contains("Hid"))
        }
        // Written as a URL must be, they are fine.
        let encoded = try PGConnectionParameters(conninfo: "postgresql://u:p%40ss%2Fw@h/d?user=me%40corp")
        #expect(encoded["password"] == "p@ss/w")
        #expect(encoded["host"] == "h")
        #expect(encoded["user"] == "me@corp")
    }

    /// What libpq says about the rest of the string is still shown, with the password masked.
    @Test func libpqsReasonIsShownWithThePasswordMasked() throws {
        func reason(_ text: String) throws -> String {
            try #require(throws: PGError.self, "\(text)") { _ = try PGConnectionParameters(conninfo: text) }.message
        }
        #expect(
            try reason("postgresql://u:Hunter22@[::1/db")
                == #"invalid connection string: end of string reached when looking for matching "]" in IPv6 host address in URI: "postgresql://u:•••@[::1/db""#)
        #expect(try reason("postgresql://u:Hunter22@h/d?sslmode=require&nosuchoption=1") == #"invalid connection string: invalid URI query parameter: "nosuchoption""#)
        #expect(try reason("host=db nosuchoption=1 password=Hunter22") == #"invalid connection string: invalid connection option "nosuchoption""#)
        #expect(try reason("host=db password Sup3rS3cret") == #"invalid connection string: missing "=" after "password" in connection info string"#)
        // A word where a keyword belongs may be anything: a password typed without `password=`, a URL
        // that is not one (a leading space, a JDBC prefix).
        #expect(try reason("host=db Sup3rS3cret") == #"invalid connection string: missing "=" after "•••" in connection info string"#)
        #expect(
            try reason(" postgresql://u:Sup3rS3cret@h/d")
                == #"invalid connection string: missing "=" after "•••" in connection info string (a URL must begin with postgresql:// or postgres://)"#)
        #expect(
            try reason("jdbc:postgresql://h/d?user=u&password=Sup3rS3cret")
                == #"invalid connection string: invalid connection option "•••" (a URL must begin with postgresql:// or postgres://)"#)
        #expect(
            try reason("host=db password='Sup3r S3cret")
                == "invalid connection string: the password's opening quote is never closed: write it as password='…', with ' and \\ inside written \\' and \\\\")
        // A password is read on over what is no keyword libpq knows: `horse` in `password=correct horse=battery` may be either.
        let early =
            "invalid connection string: the password is followed by text that is no keyword=value libpq knows: if the password holds a space or a quote, write it as password='…', with ' and \\ inside written \\' and \\\\; else check the keywords after it"
        #expect(try reason("host=db password=Sup3r S3cret") == early)
        #expect(try reason("host=db password=correct horse=battery") == early)
        #expect(try reason("host=db password='Sup3r'S3cret") == early)
        #expect(
            try reason("postgres://h/d?password=Sup3r&S3cret")
                == "invalid connection string: the password parameter is not valid URL text, or is followed by a parameter libpq does not know: write '&' in it as %26, '=' as %3D and '%' as %25"
        )
    }

    /// A password that is also ordinary text does not mask that text.
    @Test func aShortOrCommonPasswordLeavesTheMessageReadable() throws {
        for password in ["a", "db", "postgres", "connection"] {
            let error = try #require(throws: PGError.self) {
                _ = try PGConnectionParameters(conninfo: "host=db user=postgres nosuchoption=1 password=\(password) dbname=postgres")
            }
            #expect(error.message == #"invalid connection string: invalid connection option "nosuchoption""#)
            let parameters = try PGConnectionParameters(conninfo: "host=db user=postgres password=\(password) dbname=db")
            let message = #"connection to server at "db" failed: FATAL:  password authentication failed for user "postgres""#
            #expect(parameters.redact(message) == message)
        }
        let parameters = try PGConnectionParameters(conninfo: "host=db user=app password=Hunter22")
        #expect(parameters.redact(#"proxy said: bad password "Hunter22""#) == #"proxy said: bad password "•••""#)
    }

    @Test func everySecretKeywordPrintsMasked() throws {
        let parameters = try PGConnectionParameters(conninfo: "host=db password=Hunter22 sslpassword=KeyPass33 sslkey=/k")
        #expect(parameters.description.contains("password=•••"))
        #expect(parameters.description.contains("sslpassword=•••"))
        #expect(!parameters.description.contains("Hunter22") && !parameters.description.contains("KeyPass33"))
    }
}

/// Against the test cluster: a role whose password holds every special character connects in every
/// form written as it should be, and a wrong one fails without a piece of it in the error.
@Suite("Secrets in connection errors", .serialized) struct ConnectionSecretTests {
    @Test func aHostilePasswordConnectsWhenWrittenProperlyAndNeverShowsWhenWrong() async throws {
        let password = try #require(SecretFragments.passwords.last)
        try await TestDatabase.withRole(password: password) { role in
            let host = try TestDatabase.host, port = try TestDatabase.port

            func forms(_ secret: String) throws -> [(String, PGConnectionParameters)] {
                var fields = PGConnectionParameters()
                fields["host"] = host
                fields["port"] = String(port)
                fields["user"] = role
                fields["dbname"] = "postgres"
                fields["password"] = secret
                return [
                    ("fields", fields),
                    ("URL", try PGConnectionParameters(conninfo: "postgresql://\(role):\(SecretFragments.percentEncoded(secret))@\(host):\(port)/postgres")),
                    ("key=value", try PGConnectionParameters(conninfo: "host=\(host) port=\(port) user=\(role) password=\(SecretFragments.quoted(secret)) dbname=postgres")),
                ]
            }
            for (form, parameters) in try forms(password) {
                let connection = try await PGConnection.connect(parameters)
                #expect(try await connection.query("SELECT current_user").rows == [[.string(role)]], "\(form)")
                await connection.close()
            }
            let wrong = password + "Wrong9"
            for (form, parameters) in try forms(wrong) {
                let error = try await #require(throws: PGError.self, "\(form)") { _ = try await PGConnection.connect(parameters) }
                #expect(error.message.contains("password authentication failed for user \"\(role)\""), "\(form): \(error.message)")
                for output in [error.message, error.description, parameters.description, parameters.maskedTarget] {
                    #expect(SecretFragments.leaked(wrong, in: output, context: "postgresql://\(role)@\(host):\(port)/postgres").isEmpty, "\(form): \(output)")
                }
            }
        }
    }

    /// A wrong password that is also the user name leaves the user name in the message (masking it
    /// would hide whose login failed, and tell that the two are the same).
    @Test func aPasswordLikeOtherTextDoesNotMaskThatText() async throws {
        let user = try TestDatabase.user
        let parameters = try TestDatabase.parameters(password: user)
        let error = try await #require(throws: PGError.self) { _ = try await PGConnection.connect(parameters) }
        #expect(error.message.contains("password authentication failed for user \"\(user)\""), "\(error.message)")
        #expect(!error.message.contains("•••"))
    }
}
