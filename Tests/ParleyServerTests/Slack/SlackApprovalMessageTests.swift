import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine
import Testing

/// An approval request's message in Slack once the request is decided: its buttons give way to the
/// outcome (`chat.update`), and the refusal of a self-approval is shown to the requester alone
/// (`chat.postEphemeral`). Requests are signed by Parley's own signer, so these run without the SDK.
@Suite(.serialized) struct SlackApprovalMessageTests {
    /// `expire` is how long a request waits for its approval.
    func withSlack(expire: String = "15m", _ body: (SlackHarness) async throws -> Void) async throws {
        try await SlackHarness.withOwnSigner(
            yaml: SlackTests.yaml + "\napprovals: { expire: \(expire) }\n", users: ["UALICE": "alice", "UBOB": "bob"],
            body)
    }

    /// Alice asks for a prod deploy; returns the approval request's message.
    func request(_ slack: SlackHarness, ts: String) async throws -> FakeSlack.Posted {
        let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!deploy api to prod", ts: ts)
        try await slack.send("/slack/events", body: event)
        return try #require(await slack.waitForMessage { $0.hasButtons && $0.thread == nil })
    }

    func press(
        _ slack: SlackHarness, _ label: String, on message: FakeSlack.Posted, as user: String, actionTS: String
    ) async throws {
        let buttons = message.blocks.first { $0["type"].string == "actions" }?["elements"].array ?? []
        let button = try #require(buttons.first { $0["text"]["text"].string == label })
        let payload: JSON = [
            "type": "block_actions", "user": ["id": .string(user), "username": .string(user)],
            "channel": ["id": .string(message.channel)], "trigger_id": .string("trig\(actionTS)"),
            "message": ["ts": .string(message.ts), "text": .string(message.text), "blocks": .array(message.blocks)],
            "actions": [["action_id": button["action_id"], "value": button["value"], "action_ts": .string(actionTS)]],
        ]
        let body = "payload=" + FormBody.escape(String(decoding: payload.encoded, as: UTF8.self))
        let answer = try await slack.send(
            "/slack/interactivity", body: body, contentType: "application/x-www-form-urlencoded")
        #expect(answer.status == 200)
    }

    func current(_ slack: SlackHarness, _ message: FakeSlack.Posted) -> FakeSlack.Posted? {
        slack.fake.messages.first { $0.ts == message.ts }
    }

    func waitUntil(within: Duration = .seconds(20), _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(30))
        }
        return condition()
    }

    @Test func aSelfApprovalIsRefusedToTheRequesterAloneAndTheButtonsStay() async throws {
        try await withSlack { slack in
            let request = try await request(slack, ts: "1.000100")
            try await press(slack, "Approve", on: request, as: "UALICE", actionTS: "1.1")
            #expect(
                try await waitUntil { slack.fake.ephemerals.contains { $0.shown.contains("cannot approve") } })
            let refusal = try #require(slack.fake.ephemerals.first)
            #expect(refusal.user == "UALICE")
            #expect(refusal.channel == "C1")
            #expect(refusal.thread == request.ts)
            // Nobody else sees it, and the request still waits for someone who may approve it.
            #expect(!slack.fake.messages.contains { $0.shown.contains("cannot approve") })
            #expect(current(slack, request)?.hasButtons == true)
        }
    }

    @Test func anApprovalReplacesTheButtonsWithWhoApproved() async throws {
        try await withSlack { slack in
            let request = try await request(slack, ts: "1.000200")
            try await press(slack, "Approve", on: request, as: "UBOB", actionTS: "1.2")
            #expect(try await slack.waitForMessage { $0.shown.contains("deployed api to prod") } != nil)
            #expect(try await waitUntil { current(slack, request)?.hasButtons == false })
            let updated = try #require(current(slack, request))
            #expect(updated.shown.contains("Approved by bob"), "\(updated.shown)")
            #expect(updated.shown.contains("deploy api to prod"), "the request's own text is kept: \(updated.shown)")
            #expect(!slack.fake.calls("chat.update").isEmpty)
        }
    }

    @Test func aTypedDenialUpdatesTheMessageThatAskedToo() async throws {
        try await withSlack { slack in
            let request = try await request(slack, ts: "1.000300")
            let buttons = request.blocks.first { $0["type"].string == "actions" }?["elements"].array ?? []
            let deny = try #require(buttons.first { $0["value"].string?.hasPrefix("deny ") == true }?["value"].string)
            let event = SlackHarness.messageEvent(
                user: "UBOB", channel: "C1", text: "!\(deny) not during the freeze", ts: "1.000301")
            try await slack.send("/slack/events", body: event)
            #expect(try await waitUntil { current(slack, request)?.hasButtons == false })
            let updated = try #require(current(slack, request))
            #expect(updated.shown.contains("Denied by bob: not during the freeze"), "\(updated.shown)")
        }
    }

    @Test func anExpiredRequestLosesItsButtons() async throws {
        try await withSlack(expire: "2s") { slack in
            let request = try await request(slack, ts: "1.000400")
            #expect(try await waitUntil { current(slack, request)?.hasButtons == false })
            let updated = try #require(current(slack, request))
            #expect(updated.shown.contains("Expired"), "\(updated.shown)")
        }
    }
}
