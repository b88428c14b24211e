import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// An incident declared on Slack gets a channel of its own, with its topic and its people invited,
/// and is worked on from there.
@Suite(.serialized) struct SlackIncidentRoomTests {
    static let yaml = """
        server: { listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["slack:UALICE"] }
          bob: { roles: [ops], identities: ["slack:UBOB"] }
        roles:
          ops: { allow: ["*"] }
        """

    @Test(.requires(.slackSDK)) func aDeclaredIncidentGetsItsOwnChannelWithItsPeople() async throws {
        try await SlackHarness.with(yaml: Self.yaml, users: ["UALICE": "alice", "UBOB": "bob"]) { slack in
            let declare = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1",
                text: #"!incident declare sev1 "Checkout errors on EU!" --commander bob"#,
                ts: "1.000300")
            #expect(try await slack.send("/slack/events", body: declare).status == 200)
            let answer = try #require(try await slack.waitForMessage { $0.shown.contains("INC-1 declared") })
            let channel = try #require(slack.fake.channels.first)
            #expect(channel.name == "inc-1-checkout-errors-on-eu")
            #expect(!channel.isPrivate)
            #expect(channel.topic == "INC-1 (sev1): Checkout errors on EU!")
            #expect(Set(channel.members) == ["UALICE", "UBOB"])
            #expect(answer.channel == "C1")
            #expect(answer.shown.contains("incident room: slack:\(channel.id)"))
            let incident = try #require(try await slack.engine.incidentRecord(1))
            #expect(incident.room == "slack:\(channel.id)")

            // In the new channel, commands mean that incident without naming it.
            let note = SlackHarness.messageEvent(
                user: "UBOB", channel: channel.id, text: "!incident note rolled back the config", ts: "1.000400")
            #expect(try await slack.send("/slack/events", body: note).status == 200)
            #expect(
                try await slack.waitForMessage { $0.channel == channel.id && $0.shown.contains("noted in INC-1") }
                    != nil)
            // A second incident with the same title gets another name, not an error.
            let again = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: #"!incident declare sev2 "Checkout errors on EU!""#,
                ts: "1.000500")
            #expect(try await slack.send("/slack/events", body: again).status == 200)
            #expect(try await slack.waitForMessage { $0.shown.contains("INC-2 declared") } != nil)
            #expect(slack.fake.channels.map(\.name).last == "inc-2-checkout-errors-on-eu")
        }
    }
}
