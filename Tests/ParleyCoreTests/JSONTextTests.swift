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
