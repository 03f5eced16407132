import Logging
import Testing

@testable import PGMCPServer

/// One log record is one line whatever its text: `LogText` and the line `StandardErrorLogHandler` writes.
@Suite("Log text") struct LogTextTests {
    @Test func lineBreaksAndControlsAreEscaped() {
        #expect(LogText.escaped("plain text, ünïcödé ✓") == "plain text, ünïcödé ✓")
        #expect(LogText.escaped("evil\nlevel=critical forged") == #"evil\nlevel=critical forged"#)
        #expect(LogText.escaped("a\r\nb\tc") == #"a\r\nb\tc"#)
        #expect(LogText.escaped("\u{1B}[31mred") == #"\u{1B}[31mred"#)
        #expect(LogText.escaped("nul\u{0}bell\u{7}del\u{7F}") == #"nul\u{0}bell\u{7}del\u{7F}"#)
        #expect(LogText.escaped("nel\u{85}csi\u{9B}") == #"nel\u{85}csi\u{9B}"#)
        #expect(LogText.escaped("ls\u{2028}ps\u{2029}") == #"ls\u{2028}ps\u{2029}"#)
        #expect(LogText.escaped("bidi\u{202E}txt\u{2066}") == #"bidi\u{202E}txt\u{2066}"#)
        // A backslash is doubled, so the two characters `\n` a client sends cannot pass for an escape of ours.
        #expect(LogText.escaped(#"already\nescaped"#) == #"already\\nescaped"#)
    }

    @Test func escapedTextNeverHoldsALineBreakOrControl() {
        var every = ""
        for value in Array(0...0x2100) + [0x2028, 0x2029, 0x202E, 0xFEFF] {
            if let scalar = Unicode.Scalar(value) { every.unicodeScalars.append(scalar) }
        }
        let escaped = LogText.escaped(every)
        #expect(!escaped.unicodeScalars.contains { LogText.needsEscape($0) })
        #expect(!escaped.contains { $0.isNewline })
    }

    @Test func fieldsAreQuotedWhenTheyCouldPoseAsMorePairs() {
        #expect(LogText.field("abc") == "abc")
        #expect(LogText.field("x level=critical") == #""x level=critical""#)
        #expect(LogText.field(#"say "hi""#) == #""say \"hi\"""#)
        #expect(LogText.field("") == #""""#)
        #expect(LogText.field("evil\nlevel=critical forged") == #""evil\nlevel=critical forged""#)
    }

    @Test func aRecordIsOneLineWhateverItsMessageAndMetadata() {
        let line = StandardErrorLogHandler.line(
            timestamp: "2025-01-01T00:00:00+0000", level: .info, label: "pgmcp",
            metadata: ["client": "evil\nlevel=critical forged", "key\nx": .array(["a\u{1B}[31m", .dictionary(["k": "v\r\n"])])],
            source: "PGMCPServer", message: "session \u{2028}initialized\nfake record")
        #expect(line.filter(\.isNewline).count == 1)
        #expect(line.hasSuffix("\n"))
        #expect(line.contains(#"client="evil\nlevel=critical forged""#))
        #expect(line.contains(#"key\nx="#))
        #expect(line.contains(#"\u{1B}[31m"#))
        #expect(line.contains(#"session \u{2028}initialized\nfake record"#))
        #expect(!line.contains("\u{1B}"))
    }

    /// A logger stores its handler in an existential: a handler within its three-word buffer is
    /// copied (every request's logger is a copy with a request id) without a box of its own.
    @Test func theHandlerFitsInsideALoggersExistential() {
        #expect(MemoryLayout<StandardErrorLogHandler>.size <= 3 * MemoryLayout<Int>.size)
        var handler = StandardErrorLogHandler(label: "pgmcp", level: .info, metadataProvider: nil)
        handler[metadataKey: "hb.request.id"] = "1"
        #expect(handler.metadata == ["hb.request.id": "1"])
        #expect(handler.label == "pgmcp")
    }
}
