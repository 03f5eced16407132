import HTTPTypes
import Testing

@testable import PGMCPServer

/// The headers the checks read, found in one pass: by name whatever its case, several fields of one
/// name joined as `HTTPFields` joins them, and the names the checks use (`RequestValidation`) the
/// ones matched.
@Suite("Request headers") struct RequestHeadersTests {
    @Test func everyCheckedHeaderIsFoundWhateverTheCaseOfItsName() throws {
        var fields = HTTPFields()
        fields[try #require(HTTPField.Name("ORIGIN"))] = "http://localhost:3000"
        fields[try #require(HTTPField.Name("Authorization"))] = "Bearer t"
        fields[try #require(HTTPField.Name("content-TYPE"))] = "application/json"
        fields[try #require(HTTPField.Name("accept"))] = "application/json, text/event-stream"
        fields[RequestValidation.protocolVersion] = "2025-06-18"
        fields[RequestValidation.sessionID] = "abc"
        fields.append(HTTPField(name: RequestValidation.host, value: "127.0.0.1"))
        fields.append(HTTPField(name: try #require(HTTPField.Name("x-other")), value: "ignored"))
        let headers = RequestHeaders(fields)
        #expect(headers.origin == fields[.origin])
        #expect(headers.authorization == fields[.authorization])
        #expect(headers.contentType == fields[.contentType])
        #expect(headers.accept == fields[.accept])
        #expect(headers.protocolVersion == "2025-06-18")
        #expect(headers.sessionID == "abc")
        #expect(headers.hostFields == 1)
    }

    @Test func severalFieldsOfOneNameAreJoinedAsHTTPFieldsJoinsThem() throws {
        var fields = HTTPFields()
        fields.append(HTTPField(name: .accept, value: "application/json"))
        fields.append(HTTPField(name: try #require(HTTPField.Name("Accept")), value: "text/event-stream"))
        fields.append(HTTPField(name: RequestValidation.sessionID, value: "a"))
        fields.append(HTTPField(name: RequestValidation.sessionID, value: "b"))
        let headers = RequestHeaders(fields)
        #expect(headers.accept == fields[.accept])
        #expect(headers.accept == "application/json, text/event-stream")
        #expect(headers.sessionID == fields[RequestValidation.sessionID])
        #expect(headers.origin == nil && headers.authorization == nil && headers.hostFields == 0)
    }
}
