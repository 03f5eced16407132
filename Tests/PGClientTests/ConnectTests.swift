import Foundation
import PGClient
import TestSupport
import Testing

@Suite("Connecting") struct ConnectTests {
    @Test func connectTimesOutAgainstASocketThatNeverAnswers() async throws {
        let listener = SilentListener()
        let parameters = try PGConnectionParameters(conninfo: "host=127.0.0.1 port=\(listener.port) user=x dbname=y password=hunter22")
        let started = ContinuousClock.now
        let error = try await #require(throws: PGError.self) {
            _ = try await PGConnection.connect(parameters, timeout: .milliseconds(300))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error.kind == .timeout)
        #expect(error.message == "timed out after 300 ms connecting to 127.0.0.1:\(listener.port)")
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(2))
    }

    @Test func cancellingTheTaskEndsAPendingConnect() async throws {
        let listener = SilentListener()
        let parameters = try PGConnectionParameters(conninfo: "host=127.0.0.1 port=\(listener.port) user=x dbname=y")
        let task = Task { try await PGConnection.connect(parameters, timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let error = try await #require(throws: PGError.self) { _ = try await task.value }
        #expect(error.kind == .cancelled)
    }

    @Test func wrongPasswordIsAnAuthenticationErrorWithoutThePassword() async throws {
        let wrong = "Wr0ng-Secret-\(UInt32.random(in: 0...UInt32.max))"
        let parameters = try TestDatabase.parameters(password: wrong)
        let error = try await #require(throws: PGError.self) { _ = try await PGConnection.connect(parameters) }
        #expect(error.kind == .connection)
        #expect(error.message.contains("password authentication failed"))
        #expect(!error.description.contains(wrong))
        #expect(!String(describing: parameters).contains(wrong))
        #expect(!parameters.maskedTarget.contains(wrong))
        #expect(parameters.maskedTarget.contains(":•••@"))
    }

    @Test func refusedConnectionFailsFastWithTheReason() async throws {
        let listener = SilentListener()
        let port = listener.port
        listener.close()  // nothing listens there now
        let parameters = try PGConnectionParameters(conninfo: "host=127.0.0.1 port=\(port) user=x dbname=y")
        let error = try await #require(throws: PGError.self) { _ = try await PGConnection.connect(parameters) }
        #expect(error.kind == .connection)
        #expect(error.message.contains("Connection refused"))
    }

    @Test func unknownDatabaseIsAClearError() async throws {
        let parameters = try TestDatabase.parameters(database: "no_such_db_here")
        let error = try await #require(throws: PGError.self) { _ = try await PGConnection.connect(parameters) }
        #expect(error.message.contains(#"database "no_such_db_here" does not exist"#))
    }

    @Test func keywordValueConnectionStringsWork() async throws {
        let conninfo = "host=\(try TestDatabase.host) port=\(try TestDatabase.port) user=\(try TestDatabase.user) password='\(try TestDatabase.password)' dbname=postgres"
        let connection = try await PGConnection.connect(try PGConnectionParameters(conninfo: conninfo))
        #expect(try await connection.query("SELECT current_database()").rows == [["postgres"]])
        await connection.close()
    }

    @Test func parseErrorsNeverEchoTheInput() throws {
        let error = try #require(throws: PGError.self) {
            _ = try PGConnectionParameters(conninfo: "host=db password Sup3rS3cret")
        }
        #expect(error.kind == .invalidParameters)
        #expect(!error.message.contains("Sup3rS3cret"))
        #expect(error.message.hasPrefix("invalid connection string: "))
        let uriError = try #require(throws: PGError.self) {
            _ = try PGConnectionParameters(conninfo: "postgresql://u:Sup3rS3cret@[::1/db")
        }
        #expect(!uriError.message.contains("Sup3rS3cret"))
        // A keyword is shown (it is no secret, and naming it helps); what a secret may be is not (ConninfoSecretTests).
        let optionError = try #require(throws: PGError.self) {
            _ = try PGConnectionParameters(conninfo: "host=db nosuchoption=1")
        }
        #expect(optionError.message == #"invalid connection string: invalid connection option "nosuchoption""#)
    }

    @Test func maskedTargetShowsWhereNotTheSecret() throws {
        let parameters = try PGConnectionParameters(conninfo: "postgresql://app:pa55word@db.internal:6543/orders?sslmode=require")
        #expect(parameters.maskedTarget == "postgresql://app:•••@db.internal:6543/orders?sslmode=require")
        #expect(!parameters.description.contains("pa55word"))
        #expect(parameters.redact(#"oops "pa55word" leaked"#) == #"oops "•••" leaked"#)
    }
}
