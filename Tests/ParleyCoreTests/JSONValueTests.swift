import ParleyCore
import Testing

/// `JSON`, the Sendable value for platforms' free-form payloads, read and written without I/O.
@Suite struct JSONValueTests {
    @Test func aPayloadReadsBackAsWrittenWithSortedKeys() throws {
        let text = #"{"b":[1,2.5,"x",null,true],"a":{"nested":"é ✓ /"}}"#
        let value = try #require(JSON(parsing: Array(text.utf8)))
        #expect(value["a"]["nested"].string == "é ✓ /")
        #expect(value["b"][0].int == 1)
        #expect(value["b"][1].int == nil)
        #expect(value["b"][3] == .null)
        #expect(value["missing"]["deeper"] == .null)
        #expect(
            String(decoding: value.encoded, as: UTF8.self) == #"{"a":{"nested":"é ✓ /"},"b":[1,2.5,"x",null,true]}"#)
        #expect(JSON(parsing: value.encoded) == value)
        #expect(JSON(parsing: Array("{".utf8)) == nil)
    }
}
