import ParleyAdapters
import Testing

/// The one form decoder the platforms' requests go through (Slack's slash commands and buttons,
/// Mattermost's commands and webhooks).
@Suite struct FormBodyTests {
    @Test func fieldsAreDecodedWithPlusAsSpaceAndTheLastOfARepeatedName() throws {
        let form = try FormBody.decode(
            "command=%2Fparley&text=deploy+api%20to+prod&empty=&bare&text2=%E2%9C%93&a=1&a=2")
        #expect(form["command"] == "/parley")
        #expect(form["text"] == "deploy api to prod")
        #expect(form["empty"] == "")
        #expect(form["bare"] == "")
        #expect(form["text2"] == "✓")
        #expect(form["a"] == "2")
        #expect(try FormBody.decode("") == [:])
        #expect(try FormBody.decode("x=a%3Db%26c") == ["x": "a=b&c"])
    }

    @Test func badPercentEscapesAreRefusedWithTheFieldAndTheEscape() {
        #expect(throws: FormBody.Failure.badEscape(field: "text", escape: "%zz")) {
            try FormBody.decode("user_id=U1&text=100%zz")
        }
        #expect(throws: FormBody.Failure.badEscape(field: "text", escape: "%")) { try FormBody.decode("text=100%") }
        #expect(throws: FormBody.Failure.badEscape(field: "text", escape: "%4")) { try FormBody.decode("text=%4") }
        #expect(throws: FormBody.Failure.badEscape(field: "na%g", escape: "%g")) { try FormBody.decode("na%g=1") }
        #expect(throws: FormBody.Failure.notUTF8(field: "text")) { try FormBody.decode("text=%FF%FE") }
        #expect(
            "\(FormBody.Failure.badEscape(field: "text", escape: "%of"))"
                == "the form field 'text' has a bad escape '%of': % must be followed by two hex digits (%25 is a % sign)"
        )
    }

    @Test func encodedFormsDecodeToWhatWasEncoded() throws {
        let fields = ["text": "deploy api & web = 100% ✓ +", "user": "U1", "": "", "ç": "a b"]
        let body = FormBody.encode(fields)
        #expect(!body.contains(" ") && !body.contains("+"))
        #expect(try FormBody.decode(body).filter { !$0.key.isEmpty } == fields.filter { !$0.key.isEmpty })
        #expect(FormBody.encode(["b": "2", "a": "x~y.z-_"]) == "a=x~y.z-_&b=2")
    }
}
