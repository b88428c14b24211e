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
            // A pinned message and a :pushpin: reaction join the incident's timeline, each once.
            func callback(_ event: JSON, id: String) -> String {
                let payload: JSON = [
                    "token": "legacy", "team_id": "T061EG9R6", "api_app_id": "A0PNCHHK2", "type": "event_callback",
                    "event_id": .string(id), "event_time": .number(Date().timeIntervalSince1970.rounded()),
                    "event": event,
                ]
                return String(decoding: payload.encoded, as: UTF8.self)
            }
            let pinned = callback(
                [
                    "type": "pin_added", "user": "UBOB", "channel_id": .string(channel.id), "event_ts": "1.000410",
                    "item": [
                        "type": "message", "message": ["ts": "1.000401", "text": "the primary is back <b>up</b>"],
                    ],
                ], id: "EvPIN1")
            #expect(try await slack.send("/slack/events", body: pinned).status == 200)
            #expect(try await slack.send("/slack/events", body: pinned).status == 200)
            let noted = try #require(
                slack.fake.messages.first { $0.channel == channel.id && $0.shown.contains("noted in INC-1") })
            let reacted = callback(
                [
                    "type": "reaction_added", "user": "UALICE", "reaction": "pushpin", "event_ts": "1.000420",
                    "item": ["type": "message", "channel": .string(channel.id), "ts": .string(noted.ts)],
                ], id: "EvREACT1")
            #expect(try await slack.send("/slack/events", body: reacted).status == 200)
            let other = callback(
                [
                    "type": "reaction_added", "user": "UALICE", "reaction": "eyes", "event_ts": "1.000430",
                    "item": ["type": "message", "channel": .string(channel.id), "ts": .string(noted.ts)],
                ], id: "EvREACT2")
            #expect(try await slack.send("/slack/events", body: other).status == 200)
            await slack.settle()
            let store = try SQLiteStore(dataDirectory: slack.engine.config.dataDirectory)
            let pins = try await store.incidentEvents(number: 1).filter { $0.kind == .pin }
            #expect(pins.map(\.text) == ["📌 the primary is back <b>up</b>", "📌 \(noted.text)"])
            #expect(pins.map(\.actor) == ["bob", "alice"])
            for pin in pins {
                let seq = try #require(pin.auditSeq)
                let entry = try #require(try await store.auditEntry(seq: seq))
                #expect(entry.kind == "pinned")
            }

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
