import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite(.serialized) struct MattermostTests {
    static let channel = "roomchannel000000000000000"
    static let alice = "alice000000000000000000000"
    static let bob = "bob00000000000000000000000"
    static let yaml = """
        server: { public_url: "https://parley.example.org", listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["mattermost:\(alice)"] }
          bob: { roles: [lead], identities: ["mattermost:\(bob)"] }
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
            action: { exec: ["sh", "-c", "echo starting; sleep 2.5; echo slow done"] }
        """

    func withMattermost(_ body: (MattermostHarness) async throws -> Void) async throws {
        let harness = try await MattermostHarness()
        defer { harness.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "adapters:\n\(harness.adapterYAML)\n" + Self.yaml, file: "test.yaml",
            baseDirectory: temporaryDirectory())
        try await harness.start(
            engine: Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory)))
        try await body(harness)
    }

    @Test func wrongTokensAndForgedButtonsAreRefusedAndRunNothing() async throws {
        try await withMattermost { mm in
            #expect(try await mm.say("!counter", user: Self.alice, channel: Self.channel, token: "wrong").status == 401)
            let slash = try await mm.send(
                "/mattermost/command",
                form: ["token": "nope", "user_id": Self.alice, "channel_id": Self.channel, "text": "counter"])
            #expect(slash.status == 401)
            let forged: JSON = [
                "user_id": .string(Self.bob), "channel_id": .string(Self.channel), "post_id": "x",
                "context": ["command": "counter", "mac": .string(String(repeating: "0", count: 64))],
            ]
            let click = try await mm.send(
                "/mattermost/actions", body: String(decoding: forged.encoded, as: UTF8.self),
                contentType: "application/json")
            #expect(click.status == 401)
            let garbage = try await mm.send("/mattermost/actions", body: "{", contentType: "application/json")
            #expect(garbage.status == 400)
            // A barrier, not a pause: a genuine counter run is answered "1", so none of the refused
            // requests ran it before.
            #expect(try await mm.say("!counter", user: Self.alice, channel: Self.channel).status == 200)
            let answer = try await mm.waitForPost { _ in true }
            #expect(answer?.message.contains("1") == true, "\(String(describing: answer))")
            let counted = try String(contentsOfFile: mm.engine.config.baseDirectory + "/counted", encoding: .utf8)
            #expect(counted == "run\n", "a refused request ran something")
            #expect(mm.fake.botPosts.count == 1)
        }
    }

    @Test func anOutgoingWebhookIsAnsweredByRESTInTheChannelAndThreadOnce() async throws {
        try await withMattermost { mm in
            let root = mm.fake.personPosted(channel: Self.channel, user: Self.alice, message: "incident 42")
            let said = try await mm.say("!deploy api to staging", user: Self.alice, channel: Self.channel, root: root)
            #expect(said.status == 200)
            let reply = try #require(await mm.waitForPost { $0.message.contains("deployed api to staging") })
            #expect(reply.channel == Self.channel)
            #expect(reply.root == root)
            // The same post delivered again (a Mattermost retry) does not run again.
            let again = try await mm.send(
                "/mattermost/webhook",
                form: [
                    "token": MattermostHarness.webhookToken, "channel_id": Self.channel, "user_id": Self.alice,
                    "post_id": said.postID, "text": "!deploy api to staging",
                ])
            #expect(again.status == 200)
            await mm.settle()
            #expect(mm.fake.botPosts.filter { $0.message.contains("deployed") }.count == 1)
        }
    }

    @Test func slashCommandsAcknowledgeAtOnceAndPostTheResult() async throws {
        try await withMattermost { mm in
            let response = try await mm.send(
                "/mattermost/command",
                form: [
                    "token": MattermostHarness.commandToken, "user_id": Self.alice, "user_name": "alice",
                    "channel_id": Self.channel, "command": "/parley", "text": "deploy web to staging",
                    "trigger_id": "trigger1",
                ])
            #expect(response.status == 200)
            #expect(response.body.contains("in_channel"))
            #expect(try await mm.waitForPost { $0.message.contains("deployed web to staging") } != nil)
        }
    }

    @Test func approvalButtonsAreBoundToTheirChannelAndReleaseTheRun() async throws {
        try await withMattermost { mm in
            try await mm.say("!deploy api to prod", user: Self.alice, channel: Self.channel)
            let request = try #require(await mm.waitForPost { !$0.buttons.isEmpty })
            let approve = try #require(request.buttons.first { $0["name"].string == "Approve" })
            #expect(approve["integration"]["url"].string == "https://parley.example.org/mattermost/actions")
            // The same button replayed against another channel is refused.
            var elsewhere = request
            elsewhere.channel = "otherchannel00000000000000"
            #expect(try await mm.click(approve, post: elsewhere, user: Self.bob).status == 401)
            #expect(try await mm.click(approve, post: request, user: Self.bob).status == 200)
            let done = try await mm.waitForPost { $0.message.contains("deployed api to prod") }
            #expect(done != nil)
        }
    }

    @Test func aSlowCommandsOutputIsShownLiveAndReplacedByTheReply() async throws {
        try await withMattermost { mm in
            try await mm.say("!slow", user: Self.alice, channel: Self.channel)
            let live = try #require(await mm.waitForPost { $0.message.contains("starting") })
            #expect(live.message.contains("running"))
            #expect(!live.message.contains("slow done"))
            let done = try #require(await mm.waitForPost { $0.message.contains("slow done") })
            // The reply was patched into the live post rather than posted beside it.
            #expect(done.id == live.id)
            #expect(!mm.fake.calls("posts/patch").isEmpty)
            #expect(mm.fake.botPosts.count == 1)
        }
    }

    @Test func rateLimitsAreHonoured() async throws {
        try await withMattermost { mm in
            try await Task.sleep(for: .milliseconds(300))
            mm.fake.rateLimitNext(2)
            try await mm.say("!ping", user: Self.alice, channel: Self.channel)
            #expect(try await mm.waitForPost(within: .seconds(20)) { $0.message.lowercased().contains("pong") } != nil)
            let calls = mm.fake.calls("posts/create").map(\.status)
            #expect(calls.suffix(1) == [201])
            #expect(mm.fake.state.withLock { $0.calls.filter { $0.status == 429 }.count } == 2)
        }
    }

    @Test(.serialized, arguments: ConformanceCheck.allCases)
    func theConformanceSuitePasses(check: ConformanceCheck) async throws {
        try await ConformanceSuite(driver: MattermostDriver()).run(check)
    }
}

/// An incident declared on Mattermost gets a channel of its own in the team, its people added.
@Suite(.serialized) struct MattermostIncidentRoomTests {
    @Test func aDeclaredIncidentGetsItsOwnChannelWithItsPeople() async throws {
        try await MattermostTests().withMattermost { mm in
            let said = try await mm.say(
                #"!incident declare sev1 "Payments down" --commander bob"#, user: MattermostTests.alice,
                channel: MattermostTests.channel)
            #expect(said.status == 200)
            let answer = try #require(await mm.waitForPost { $0.message.contains("INC-1 declared") })
            let channel = try #require(mm.fake.channels.first)
            #expect(channel.team == FakeMattermost.teamID)
            #expect(channel.name == "inc-1-payments-down")
            #expect(channel.purpose == "INC-1 (sev1): Payments down")
            #expect(Set(channel.members) == [mm.fake.botID, MattermostTests.alice, MattermostTests.bob])
            #expect(answer.channel == MattermostTests.channel)
            #expect(answer.message.contains("incident room: mattermost:\(channel.id)"))
        }
    }
}

/// A page reaches the person paged in a direct channel on Mattermost.
@Suite(.serialized) struct MattermostDirectPageTests {
    @Test func aPersonPagedIsWrittenToInADirectChannel() async throws {
        let harness = try await MattermostHarness()
        defer { harness.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "adapters:\n\(harness.adapterYAML)\n" + MattermostTests.yaml, file: "test.yaml",
            baseDirectory: temporaryDirectory())
        try await harness.start(
            engine: Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory)))
        let said = try await harness.say(
            "!oncall page bob the checkout database is down", user: MattermostTests.alice,
            channel: MattermostTests.channel)
        #expect(said.status == 200)
        let direct = String(("dm" + [harness.fake.botID, MattermostTests.bob].sorted().joined()).prefix(26))
        let page = try #require(await harness.waitForPost { $0.channel == direct })
        #expect(page.message.contains("📟 Page #1, level 1 of user:bob: alice: the checkout database is down"))
        #expect(try await harness.waitForPost { $0.message.contains("📟 paged bob (page 1)") } != nil)
    }
}
