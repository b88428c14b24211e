import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite(.serialized) struct SlackTests {
    static let yaml = """
        server: { listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["slack:UALICE"] }
          bob: { roles: [lead], identities: ["slack:UBOB"] }
        roles:
          ops: { allow: ["*"] }
          lead: { allow: [help, ping, approve, deny] }
        commands:
          deploy:
            usage: "deploy {app} to {env:choice(staging,prod)}"
            action: { exec: ["printf", "deployed %s to %s\\\\n", "{{app}}", "{{env}}"] }
            rules:
              - when: env == "prod"
                require: { approvals: 1, approvers: [lead] }
          counter:
            usage: counter
            action: { exec: ["sh", "-c", "echo run >> counted; wc -l < counted"] }
          slow:
            usage: slow
            action: { exec: ["sh", "-c", "echo starting; sleep 2; echo slow done"] }
        """

    func withSlack(_ body: (SlackHarness) async throws -> Void) async throws {
        try await SlackHarness.with(yaml: Self.yaml, users: ["UALICE": "alice"], body)
    }

    @Test(.requires(.slackSDK)) func ourSignaturesAreTheSDKsAndSlacksDocumentedExample() async throws {
        let python = try TestService.slackSDK.require(SlackSDK.python())
        // The example from Slack's "Verifying requests from Slack" page.
        let documented =
            "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
        let signer = SlackSignature(secret: SlackHarness.secret)
        #expect(
            signer.signature(timestamp: "1531420618", body: Array(documented.utf8))
                == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")
        let bodies = [
            documented, #"{"type":"event_callback","event":{"text":"déploie l'API ✓ — 🚀"}}"#, "", "payload=%7B%7D",
        ]
        for (index, body) in bodies.enumerated() {
            let timestamp = String(1_700_000_000 + index * 97)
            let sdk = try await SlackSDK.sign(
                python: python, secret: SlackHarness.secret, timestamp: timestamp, body: Array(body.utf8))
            #expect(signer.signature(timestamp: timestamp, body: Array(body.utf8)) == sdk, "body \(index)")
            let request = PlatformRequest(
                method: "POST", path: "/slack/events",
                headers: ["X-Slack-Signature": sdk, "X-Slack-Request-Timestamp": timestamp], body: Array(body.utf8))
            let at = Date(timeIntervalSince1970: Double(timestamp)! + 299)
            #expect(throws: Never.self) { try signer.verify(request, now: at).get() }
            guard case .failure(let failure) = signer.verify(request, now: at.addingTimeInterval(2)) else {
                Issue.record("a request 301 s old was accepted")
                continue
            }
            #expect(failure == .stale(seconds: 301))
        }
    }

    @Test func timestampsAtTheEndsOfIntAreStaleNotACrash() {
        // Found by fuzz/: `Int(now) - seconds` overflowed (and trapped) for these.
        let signer = SlackSignature(secret: SlackHarness.secret)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        for (timestamp, skew) in [
            ("-9223372036854775808", Int64.max), ("9223372036854775807", Int64(-9_223_372_035_154_775_807)),
        ] {
            let request = PlatformRequest(
                method: "POST", path: "/slack/events",
                headers: ["X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": timestamp], body: [])
            guard case .failure(let failure) = signer.verify(request, now: now) else {
                Issue.record("a request at \(timestamp) was accepted")
                continue
            }
            #expect(failure == .stale(seconds: skew), "timestamp \(timestamp)")
        }
    }

    @Test(.requires(.slackSDK)) func forgedStaleAndUnsignedRequestsAreRefusedAndRunNothing() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!counter", ts: "1.000100")
            let forged = try await slack.send(
                "/slack/events", body: event,
                signature: "v0=" + String(repeating: "0", count: 64))
            #expect(forged.status == 401)
            #expect(forged.body.contains("signature"))
            let old = Int(Date().timeIntervalSince1970) - 6 * 60
            let stale = try await slack.send("/slack/events", body: event, timestamp: old)
            #expect(stale.status == 401)
            #expect(stale.body.contains("5-minute window"))
            let future = try await slack.send(
                "/slack/events", body: event, timestamp: Int(Date().timeIntervalSince1970) + 6 * 60)
            #expect(future.status == 401)
            // A body changed after signing: the signature is for the original one.
            let stamp = Int(Date().timeIntervalSince1970)
            let signature = try await SlackSDK.sign(
                python: slack.python, secret: SlackHarness.secret, timestamp: String(stamp),
                body: Array(event.utf8))
            let tampered = try await slack.send(
                "/slack/events", body: event.replacingOccurrences(of: "counter", with: "deploy api to prod"),
                timestamp: stamp, signature: signature)
            #expect(tampered.status == 401)
            for path in ["/slack/commands", "/slack/interactivity"] {
                let response = try await slack.send(
                    path, body: "command=%2Fparley&text=counter&user_id=UALICE&channel_id=C1",
                    contentType: "application/x-www-form-urlencoded", signature: "v0=nope")
                #expect(response.status == 401, "\(path)")
            }
            // A barrier, not a pause: the genuine event's run counts 1, so no refused request ran before it.
            #expect(try await slack.send("/slack/events", body: event).status == 200)
            #expect(try await slack.waitForMessage { $0.text.hasPrefix("1\n") } != nil)
            let counted = try String(contentsOfFile: slack.engine.config.baseDirectory + "/counted", encoding: .utf8)
            #expect(counted == "run\n", "a refused request ran something")
            #expect(slack.fake.messages.count == 1)
        }
    }

    @Test(.requires(.slackSDK)) func urlVerificationEchoesTheChallengeAndBadBodiesGetReasons() async throws {
        try await withSlack { slack in
            let challenge = try await slack.send(
                "/slack/events",
                body:
                    #"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
            )
            #expect(challenge.status == 200)
            #expect(challenge.body == #"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#)
            let notJSON = try await slack.send("/slack/events", body: "{not json")
            #expect(notJSON.status == 400)
            #expect(notJSON.body.contains("not a JSON object"))
            let noEvent = try await slack.send("/slack/events", body: #"{"type":"event_callback"}"#)
            #expect(noEvent.status == 400)
            let noPayload = try await slack.send(
                "/slack/interactivity", body: "payload=%7Bbroken", contentType: "application/x-www-form-urlencoded")
            #expect(noPayload.status == 400)
            let huge = try await slack.send("/slack/events", body: String(repeating: "x", count: 1_100_000))
            #expect(huge.status == 413)
        }
    }

    @Test(.requires(.slackSDK)) func aRetriedEventRunsOnceAndAMentionCountsOnce() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!counter", ts: "1.000200")
            #expect(try await slack.send("/slack/events", body: event).status == 200)
            let first = try await slack.waitForMessage { $0.text.hasPrefix("1\n") }
            #expect(first != nil)
            for retry in 1...3 {
                let response = try await slack.send(
                    "/slack/events", body: event,
                    headers: ["X-Slack-Retry-Num": "\(retry)", "X-Slack-Retry-Reason": "http_timeout"])
                #expect(response.status == 200)
            }
            // The same message as `message` and as `app_mention` (two event ids) runs once too.
            let mention = "<@\(slack.fake.botUserID)> counter"
            let asMessage = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: mention, ts: "1.000300", eventID: "EvM1")
            let asMention = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: mention, ts: "1.000300", type: "app_mention", eventID: "EvM2")
            try await slack.send("/slack/events", body: asMessage)
            try await slack.send("/slack/events", body: asMention)
            let second = try await slack.waitForMessage { $0.text.hasPrefix("2\n") }
            #expect(second != nil)
            await slack.settle()
            let counts = slack.fake.messages.map { $0.text.split(separator: "\n").first.map(String.init) ?? "" }
            #expect(counts == ["1", "2"], "runs: \(counts)")
        }
    }

    @Test(.requires(.slackSDK)) func theAcknowledgementArrivesBeforeASlowCommandFinishesAndOutputIsLive() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!slow", ts: "1.000400")
            let response = try await slack.send("/slack/events", body: event)
            #expect(response.status == 200)
            #expect(!slack.fake.messages.contains { $0.shown.contains("slow done") }, "answered only after the run")
            let live = try await slack.waitForMessage { $0.shown.contains("starting") }
            #expect(live?.shown.contains("running") == true)
            let done = try await slack.waitForMessage { $0.shown.contains("slow done") }
            // The reply replaced the live message rather than adding another.
            #expect(done?.ts == live?.ts)
            #expect(slack.fake.calls("chat.update").count >= 1)
        }
    }

    @Test(.requires(.slackSDK)) func rateLimitsAreHonouredByWaitingRetryAfter() async throws {
        try await withSlack { slack in
            slack.fake.rateLimit("chat.postMessage", count: 2)
            let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!ping", ts: "1.000500")
            try await slack.send("/slack/events", body: event)
            let reply = try await slack.waitForMessage(within: .seconds(20)) { $0.shown.lowercased().contains("pong") }
            #expect(reply != nil)
            let calls = slack.fake.calls("chat.postMessage")
            #expect(calls.map(\.status) == [429, 429, 200])
            if calls.count == 3 {
                #expect(calls[1].at - calls[0].at >= .seconds(1), "retried before Retry-After")
                #expect(calls[2].at - calls[1].at >= .seconds(1), "retried before Retry-After")
            }
        }
    }

    @Test(.requires(.slackSDK)) func slashCommandsAnswerInTheChannelThroughTheResponseURL() async throws {
        try await withSlack { slack in
            let form =
                "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&channel_id=C2147483705&channel_name=ops&user_id=UALICE"
                + "&user_name=alice&command=%2Fparley&text=deploy+api+to+staging"
                + "&response_url=\(FormBody.escape("http://127.0.0.1:\(slack.fakeServer.port)/respond/1"))"
                + "&trigger_id=13345224609.738474920.8088930838d88f008e0"
            let response = try await slack.send(
                "/slack/commands", body: form, contentType: "application/x-www-form-urlencoded")
            #expect(response.status == 200)
            #expect(response.body.contains("in_channel"))
            let deadline = ContinuousClock.now + .seconds(10)
            while slack.fake.responses.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(30))
            }
            let answer = try #require(slack.fake.responses.first)
            #expect(answer.id == "1")
            #expect(answer.body["response_type"].string == "in_channel")
            #expect(answer.body["text"].string?.contains("deployed api to staging") == true)
            let other = try await slack.send(
                "/slack/commands", body: "command=%2Fdeploy&text=x&user_id=UALICE&channel_id=C1",
                contentType: "application/x-www-form-urlencoded")
            #expect(other.body.contains("ephemeral"))
        }
    }

    @Test(.requires(.slackSDK)) func approvalButtonsReleaseTheRunForAnApproverOnly() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: "!deploy api to prod", ts: "1.000600")
            try await slack.send("/slack/events", body: event)
            let request = try #require(await slack.waitForMessage { $0.hasButtons })
            let buttons = request.blocks.first { $0["type"].string == "actions" }?["elements"].array ?? []
            let approve = try #require(buttons.first { $0["value"].string?.hasPrefix("approve ") == true })
            #expect(approve["style"].string == "primary")
            func click(_ user: String, _ value: String, _ actionTS: String) async throws -> Int {
                let payload: JSON = [
                    "type": "block_actions", "user": ["id": .string(user), "username": .string(user)],
                    "channel": ["id": "C1"], "trigger_id": .string("trig\(actionTS)"),
                    "message": ["ts": .string(request.ts), "text": .string(request.text)],
                    "actions": [["action_id": "parley_0", "value": .string(value), "action_ts": .string(actionTS)]],
                ]
                let body = "payload=" + FormBody.escape(String(decoding: payload.encoded, as: UTF8.self))
                return try await slack.send(
                    "/slack/interactivity", body: body, contentType: "application/x-www-form-urlencoded"
                ).status
            }
            // The requester cannot approve their own request, and is told so alone.
            #expect(try await click("UALICE", approve["value"].string ?? "", "1.1") == 200)
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline, slack.fake.ephemerals.isEmpty {
                try await Task.sleep(for: .milliseconds(30))
            }
            let refused = slack.fake.ephemerals.first {
                $0.shown.contains("cannot approve") && $0.thread == request.ts && $0.user == "UALICE"
            }
            #expect(refused != nil)
            #expect(try await click("UBOB", approve["value"].string ?? "", "1.2") == 200)
            let done = try await slack.waitForMessage { $0.shown.contains("deployed api to prod") }
            #expect(done != nil)
        }
    }

    @Test(.requires(.slackSDK)) func theBotTokenNeverAppearsInWhatParleyPosts() async throws {
        try await withSlack { slack in
            let event = SlackHarness.messageEvent(
                user: "UALICE", channel: "C1", text: "!echo token is \(SlackHarness.token)", ts: "1.000700")
            try await slack.send("/slack/events", body: event)
            let reply = try #require(await slack.waitForMessage { $0.shown.contains("token is") })
            #expect(!reply.shown.contains(SlackHarness.token))
            #expect(reply.shown.contains(SecretMasker.mask))
        }
    }

    @Test(.requires(.slackSDK), .serialized, arguments: ConformanceCheck.allCases)
    func theConformanceSuitePasses(check: ConformanceCheck) async throws {
        let python = try TestService.slackSDK.require(SlackSDK.python())
        try await ConformanceSuite(driver: SlackDriver(python: python)).run(check)
    }
}
