import Foundation
import ParleyCore
import Testing

@Suite struct JSONTextTests {
    @Test func writesWhatAJSONParserReadsBack() throws {
        let map = [
            "alertname": "HighCPU", "quote": #"say "hi""#, "back\\slash": #"C:\temp\"#, "lines": "a\nb\r\tc",
            "control": "\u{01}\u{1F}", "unicode": "Grüße 🚨", "slash": "a/b", "": "",
        ]
        let text = JSONText.object(map)
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed == map)
        #expect(text.contains(#""control":"\u0001\u001f""#))
        #expect(text.contains(#""slash":"a/b""#))
    }

    @Test func keysAreSortedAndEmptyIsAnObject() {
        #expect(JSONText.object(["b": "2", "a": "1", "C": "3"]) == #"{"C":"3","a":"1","b":"2"}"#)
        #expect(JSONText.object([:]) == "{}")
    }
}

@Suite struct CanonicalJSONTests {
    /// The audit hash covers this text: the direct writer must give exactly what the encoder gives.
    @Test func theDirectWriterMatchesTheEncoderOnPlainText() {
        var generator = SeededGenerator(seed: 8)
        let alphabet = Array(" !#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~")
        for _ in 0..<500 {
            var map: [String: String] = [:]
            for _ in 0..<Int(generator.next() % 6) {
                let key = String(
                    (0..<Int(generator.next() % 8)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    })
                map[key] = String(
                    (0..<Int(generator.next() % 12)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))]
                    })
            }
            #expect(AuditEntry.canonicalJSON(map) == AuditEntry.encoderJSON(map), "\(map)")
        }
    }

    @Test func textThatNeedsEscapingGoesThroughTheEncoder() {
        for map in [["q": #"a"b"#], ["b": #"a\b"#], ["n": "a\nb"], ["u": "Grüße"], ["k\"": "v"]] {
            #expect(AuditEntry.canonicalJSON(map) == AuditEntry.encoderJSON(map))
        }
    }
}
