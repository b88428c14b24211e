import Foundation
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@testable import ParleyAdapters

/// Defects found by attacking the Slack adapter from outside: each test failed before its fix.
@Suite(.serialized) struct SlackHardeningTests {
    static let yaml = """
        server: { listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["slack:UALICE"] }
        roles:
          ops: { allow: ["*"] }
        commands:
          angle:
            usage: "angle {count:int(1..5000)}"
            action: { exec: ["sh", "-c", "printf '%*s' \\"$0\\" '' | tr ' ' '<'; echo", "{{count}}"] }
          say:
            usage: "say {words:text}"
            action: { exec: ["printf", "%s\\\\n", "{{words}}"] }
        """

    func withSlack(_ body: (SlackHarness) async throws -> Void) async throws {
        try await SlackHarness.with(yaml: Self.yaml, users: ["UALICE": "alice"], body)
    }

    @Test func extremeTimestampsAreRefusedWithoutOverflow() {
        let signer = SlackSignature(secret: "s")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        for stamp in ["-9223372036854775808", "9223372036854775807", "-1", "0"] {
            let request = PlatformRequest(
                method: "POST", path: "/slack/events",
                headers: ["X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": stamp], body: [])
            guard case .failure(.stale) = signer.verify(request, now: now) else {
                Issue.record("timestamp \(stamp) was not refused as stale")
                continue
            }
        }
        for stamp in ["99999999999999999999", "1e9", " 17", "", "0x10"] {
            let request = PlatformRequest(
                method: "POST", path: "/slack/events",
                headers: ["X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": stamp], body: [])
            guard case .failure(.badTimestamp) = signer.verify(request, now: now) else {
                Issue.record("timestamp '\(stamp)' was not refused as not a number")
                continue
            }
        }
    }

    @Test(.requires(.slackSDK)) func anUnauthenticatedOverflowingTimestampDoesNotStopTheServer() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!ping", ts: "2.000100")
            for stamp in ["-9223372036854775808", "9223372036854775807"] {
                let refused = try await slack.send("/slack/events", body: event, rawTimestamp: stamp)
                #expect(refused.status == 401)
                #expect(refused.body.contains("5-minute window"))
            }
            // Still alive, and still answering.
            #expect(try await slack.send("/slack/events", body: event).status == 200)
            #expect(try await slack.waitForMessage { $0.shown.contains("pong") } != nil)
        }
    }

    @Test(.requires(.slackSDK)) func outputThatGrowsWhenEscapedStillFitsBlockKit() async throws {
        try await withSlack { slack in
            // 2,990 `<` are 11,960 characters once escaped as `&lt;`: four times a section's limit.
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!angle 2990", ts: "2.000200")
            try await slack.send("/slack/events", body: event)
            let done = try await slack.waitForMessage { $0.shown.contains("succeeded") }
            #expect(done != nil, "the reply was lost: \(slack.fake.calls("chat.postMessage").map(\.status))")
            let shown = slack.fake.messages.map(\.shown).joined()
            #expect(shown.components(separatedBy: "&lt;").count - 1 == 2990, "not every < arrived")
            for message in slack.fake.messages {
                #expect(FakeSlack.blockProblem(message.blocks) == nil)
            }
        }
    }

    @Test(.requires(.slackSDK)) func aReplySlackRefusesIsPostedAsPlainTextSayingWhy() async throws {
        try await withSlack { slack in
            slack.fake.refuseBlocks(count: 10)
            let event = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: "!say the &lt;important&gt; part &amp; more", ts: "2.000300")
            try await slack.send("/slack/events", body: event)
            let fallback = try #require(await slack.waitForMessage { $0.blocks.isEmpty && $0.text.contains("refused") })
            #expect(fallback.text.contains("invalid_blocks"))
            #expect(fallback.text.contains("the &lt;important&gt; part &amp; more"))
        }
    }

    @Test(.requires(.slackSDK)) func slashCommandTextIsReadBackLikeEventsAndEscapedOnce() async throws {
        try await withSlack { slack in
            let text = FormBody.escape("say sl&lt;1&gt; &amp; <@UALICE|alice>")
            let form =
                "command=%2Fparley&user_id=UALICE&user_name=alice&channel_id=C9&text=\(text)"
                + "&response_url=\(FormBody.escape("http://127.0.0.1:\(slack.fakeServer.port)/respond/7"))"
                + "&trigger_id=1.2.3"
            let response = try await slack.send(
                "/slack/commands", body: form, contentType: "application/x-www-form-urlencoded")
            #expect(response.status == 200)
            // The acknowledgement shows the command once escaped, not twice.
            #expect(response.body.contains("sl&lt;1&gt; &amp;"))
            #expect(!response.body.contains("&amp;lt;"))
            let deadline = ContinuousClock.now + .seconds(10)
            while slack.fake.responses.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(30))
            }
            let answer = try #require(slack.fake.responses.first)
            let shown = answer.body["blocks"].array?.compactMap { $0["text"]["text"].string }.joined() ?? ""
            // The program received `sl<1> & @alice`; Slack shows it escaped exactly once.
            #expect(shown.contains("sl&lt;1&gt; &amp; @alice"), "\(shown)")
            #expect(!shown.contains("&amp;lt;"))
        }
    }

    @Test func splittingMeasuresTheEscapedText() {
        let messages = SlackRenderer.messages(for: Reply([.code(String(repeating: "<", count: 760))]))
        for message in messages {
            #expect(FakeSlack.blockProblem(message.blocks) == nil)
        }
        let text = messages.flatMap(\.blocks).compactMap { $0["text"]["text"].string }.joined()
        #expect(text.components(separatedBy: "&lt;").count - 1 == 760)
        // A cut never splits an entity or a character.
        for chunk in SlackRenderer.chunks(String(repeating: "a&", count: 2000) + "🚀", limit: 3000) {
            #expect(SlackRenderer.escapedLength(chunk) <= 3000)
        }
    }
}
