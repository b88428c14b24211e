import Foundation
import ParleyCore
import Testing

/// Random strings for the JSON writers: plain ASCII, the characters JSON escapes, every control
/// character, accents, emoji and other scalars beyond the Basic Multilingual Plane. (Not U+FEFF:
/// Foundation's JSONSerialization on Linux drops it from inside strings, which JSONDecoder does not.)
struct RandomText {
    var generator: SeededGenerator

    static let pieces: [String] =
        (0x20...0x7E).map { String(UnicodeScalar(UInt8($0))) }
        + (0x00..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        + ["\u{7F}", "é", "ß", "Grüße", "日本", "🚨", "👩‍💻", "\u{2028}", "\u{10FFFF}", "\r\n"]

    mutating func text(maximumLength: Int) -> String {
        let length = Int(generator.next() % UInt64(maximumLength + 1))
        return (0..<length).map { _ in Self.pieces[Int(generator.next() % UInt64(Self.pieces.count))] }.joined()
    }

    mutating func map(maximumCount: Int = 7) -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<Int(generator.next() % UInt64(maximumCount + 1)) {
            map[text(maximumLength: 8)] = text(maximumLength: 16)
        }
        return map
    }
}

@Suite struct JSONTextTests {
    /// Held to Foundation's two JSON readers: whatever the writer writes, they read back as the map.
    @Test func aThousandRandomMapsReadBackThroughFoundationsParsers() throws {
        var random = RandomText(generator: SeededGenerator(seed: 14))
        for _ in 0..<1000 {
            let map = random.map()
            let text = JSONText.object(map)
            let decoded = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
            #expect(decoded == map, "\(text)")
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
            #expect(parsed == map, "\(text)")
        }
    }

    @Test func controlCharactersAreEscapedAndSlashesAreNot() throws {
        let text = JSONText.object(["control": "\u{01}\u{1F}", "slash": "a/b"])
        #expect(text == #"{"control":"\u0001\u001f","slash":"a/b"}"#)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8))["control"] == "\u{01}\u{1F}")
    }

    @Test func keysAreSortedAndEmptyIsAnObject() {
        #expect(JSONText.object(["b": "2", "a": "1", "C": "3"]) == #"{"C":"3","a":"1","b":"2"}"#)
        #expect(JSONText.object([:]) == "{}")
    }
}

@Suite struct CanonicalJSONTests {
    /// On text that needs no escaping, the direct writer gives exactly what the encoder gives.
    @Test func theDirectWriterMatchesTheEncoderOnPlainText() {
        var generator = SeededGenerator(seed: 8)
        let alphabet = Array(
            (0x20...0x7E).map { Character(UnicodeScalar(UInt8($0))) }.filter { $0 != "\"" && $0 != "\\" })
        func text(_ length: UInt64) -> String {
            String(
                (0..<Int(generator.next() % length)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))]
                })
        }
        for _ in 0..<1000 {
            var map: [String: String] = [:]
            for _ in 0..<Int(generator.next() % 7) { map[text(8)] = text(12) }
            #expect(JSONText.object(map) == AuditEntry.canonicalJSON(map), "\(map)")
        }
    }

    /// The audit's canonical text reads back through the decoder, whatever the arguments hold.
    @Test func canonicalTextReadsBackThroughTheDecoder() throws {
        var random = RandomText(generator: SeededGenerator(seed: 9))
        for _ in 0..<1000 {
            let map = random.map()
            let text = AuditEntry.canonicalJSON(map)
            #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == map, "\(text)")
        }
    }
}
