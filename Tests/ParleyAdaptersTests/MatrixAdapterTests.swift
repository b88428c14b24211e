import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// The Matrix adapter against the real Synapse `scripts/test` starts.
@Suite(.serialized) struct MatrixAdapterTests {
    /// A fresh engine in its own data folder; alice is mapped and may run everything.
    func makeEngine(alice: MatrixPerson, adapterYAML: String = "", directory: String? = nil) throws -> Engine {
        let directory = directory ?? NSTemporaryDirectory() + "parley-matrix-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: adapterYAML + """
                users:
                  alice: { roles: [ops], identities: ["matrix:\(alice.userID)"] }
                roles: { ops: { allow: ["*"] } }
                commands:
                  deploy:
                    usage: "deploy {app} to {env:choice(staging,prod)}"
                    action: { exec: ["printf", "deployed %s to %s\\\\n", "{{app}}", "{{env}}"] }
                  slow:
                    usage: slow
                    action: { exec: ["sh", "-c", "echo step 1; sleep 2.5; echo step 2"] }
                """, file: "test.yaml", baseDirectory: directory)
        return Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
    }

    /// Runs `adapter` until the returned task is cancelled.
    func start(_ adapter: MatrixAdapter, _ engine: Engine) -> Task<Void, Never> {
        Task { try? await adapter.run(engine: engine) }
    }

    /// Waits until the adapter has synced once.
    func waitConnected(_ adapter: MatrixAdapter) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !adapter.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(adapter.isConnected, "the adapter never completed a sync")
    }

    /// An adapter signed in with `bot`'s token, started for `engine` and synced once; cancel the task
    /// to stop it.
    func startSynced(
        _ bot: MatrixPerson, on server: MatrixTestHomeserver, _ engine: Engine, timelineLimit: Int = 50
    ) async throws -> (adapter: MatrixAdapter, running: Task<Void, Never>) {
        let settings = MatrixSettings(homeserver: server.url, userID: bot.userID, accessToken: .value(bot.token))
        let adapter = MatrixAdapter(settings: settings, timelineLimit: timelineLimit, syncTimeout: .seconds(5))
        let running = start(adapter, engine)
        try await waitConnected(adapter)
        return (adapter, running)
    }

    @Test(.requires(.synapse)) func peopleInARoomRunCommandsAndStrangersAreRefusedWithTheReason() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        let mallory = try await server.register("mallory")
        let directory = NSTemporaryDirectory() + "parley-matrix-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try bot.password.write(toFile: directory + "/bot-password", atomically: true, encoding: .utf8)
        // A display name for the mention pill, and a public room listed in the configuration by alias.
        try await bot.client.request(
            .PUT, "/_matrix/client/v3/profile/\(MatrixClient.encode(bot.userID))/displayname",
            body: ["displayname": "Ops Bot"])
        let alias = "ops\(UInt32.random(in: 100_000...999_999))"
        let listed = try await alice.createRoom(invite: [], alias: alias)
        let serverName = bot.userID.split(separator: ":", maxSplits: 1)[1]
        let engine = try makeEngine(
            alice: alice,
            adapterYAML: """
                adapters:
                  matrix: { homeserver: "\(server.url)", user_id: "\(bot.userID)", password: "file:bot-password", invites: known, rooms: ["#\(alias):\(serverName)"] }

                """, directory: directory)
        let settings = try #require(engine.config.matrix)
        let adapter = MatrixAdapter(settings: settings)
        #expect(!adapter.isConnected)
        let running = start(adapter, engine)
        defer { running.cancel() }
        try await waitConnected(adapter)
        #expect(try await alice.waitUntil(bot.userID, joins: listed), "the bot did not join the configured room")

        let room = try await alice.createRoom(invite: [bot, mallory])
        try await mallory.join(room)
        #expect(try await alice.waitUntil(bot.userID, joins: room), "the bot did not accept alice's invitation")
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }

        try await alice.say("!deploy api to staging", in: room)
        let reply = try #require(try await watcher.wait { $0.text.contains("deployed") })
        #expect(reply.text.hasPrefix("deployed api to staging\nrun #"))
        #expect(reply.room == room)
        #expect(reply.msgtype == "m.notice")
        #expect(reply.html?.hasPrefix("<pre><code>deployed api to staging</code></pre><p>run #") == true)

        try await adapter.post(.text("posted on its own"), room: room, thread: nil)
        #expect(try await watcher.wait { $0.text == "posted on its own" } != nil)

        // A mention pill's plain text is the bot's display name.
        try await mallory.say("Ops Bot: deploy api to prod", in: room)
        let refusal = try #require(try await watcher.wait { $0.text.hasPrefix("denied") })
        #expect(refusal.text == "denied: deploy needs role ops; you have guest")

        try await alice.say("just chatting, nothing for the bot", in: room)
        try await alice.say("\(bot.userID) echo <b>escaped</b>", in: room)
        let echoed = try #require(try await watcher.wait { $0.text.contains("escaped") })
        #expect(echoed.html?.contains("&lt;b&gt;escaped&lt;/b&gt;") == true)
        #expect(watcher.messages.count == 4, "chatter was answered: \(watcher.messages.map(\.text))")

        // An invitation from someone Parley does not know is declined.
        let strangers = try await mallory.createRoom(invite: [bot])
        let deadline = ContinuousClock.now + .seconds(20)
        var membership: String?
        while ContinuousClock.now < deadline, membership != "leave" {
            let state = try? await mallory.client.request(
                .GET,
                "/_matrix/client/v3/rooms/\(MatrixClient.encode(strangers))/state/m.room.member/\(MatrixClient.encode(bot.userID))"
            )
            membership = state?["membership"].string
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(membership == "leave", "the bot did not decline a stranger's invitation")
    }

    @Test(.requires(.synapse)) func aRestartNeitherReplaysNorSkipsMessages() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        let room = try await alice.createRoom(invite: [bot])
        try await bot.join(room)
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }
        // Said before Parley ever started: the first start skips the backlog.
        try await alice.say("!echo before-parley", in: room)

        let first = try makeEngine(alice: alice)
        let (firstAdapter, running) = try await startSynced(bot, on: server, first)
        try await alice.say("!echo one", in: room)
        #expect(try await watcher.wait { $0.text == "one" } != nil)
        running.cancel()
        await running.value
        // A clean stop lets the work in flight finish, and with it the saved position.
        await firstAdapter.settle()

        try await alice.say("!echo while-stopped", in: room)
        // A second engine with its own store (so its dedupe cannot hide a replay) and the saved position.
        let second = try makeEngine(alice: alice)
        let saved = try #require(try await MatrixSyncPosition(handler: first, userID: bot.userID).load())
        try await MatrixSyncPosition(handler: second, userID: bot.userID).save(saved)
        let (restartedAdapter, restarted) = try await startSynced(bot, on: server, second)
        defer { restarted.cancel() }
        #expect(try await watcher.wait { $0.text == "while-stopped" } != nil, "a message said while stopped was lost")
        try await alice.say("!echo after", in: room)
        #expect(try await watcher.wait { $0.text == "after" } != nil)
        // Everything synced before "after" was started before it: once settled, every reply is in
        // the room, and the watcher has seen them all once it sees a reply sent after them.
        await restartedAdapter.settle()
        try await alice.say("!echo sentinel", in: room)
        #expect(try await watcher.wait { $0.text == "sentinel" } != nil)
        let texts = watcher.messages.map(\.text).filter { $0 != "sentinel" }
        #expect(texts == ["one", "while-stopped", "after"], "replayed or skipped: \(texts)")
    }

    @Test(.requires(.synapse)) func liveOutputIsEditedInPlaceInTheThreadItWasAskedIn() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        let carol = try await server.register("carol")
        // Three people: a room, not a direct chat, so chatter is not taken for a command.
        let room = try await alice.createRoom(invite: [bot, carol])
        try await bot.join(room)
        try await carol.join(room)
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }
        let engine = try makeEngine(alice: alice)
        let (_, running) = try await startSynced(bot, on: server, engine)
        defer { running.cancel() }

        let root = try await alice.say("the deploy is stuck, looking", in: room)
        try await alice.say("!slow", in: room, thread: root)
        let live = try #require(try await watcher.wait { $0.text.contains("step 1") })
        #expect(live.thread == root)
        let final = try #require(try await watcher.wait { $0.text.contains("succeeded") })
        #expect(final.eventID == live.eventID, "the final reply did not replace the live notice")
        #expect(final.text.hasPrefix("step 1\nstep 2\nrun #"))
        #expect(final.edits >= 1)
        #expect(final.thread == root)
        #expect(watcher.messages.count == 1, "\(watcher.messages.map(\.text))")
    }

    @Test(.requires(.synapse)) func repliesTheHomeserverRateLimitsAreWaitedOutNotLost() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let admin = try await server.register("admin", admin: true)
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        // Synapse lets the bot send one message a second from now on: most replies meet a 429 first.
        try await admin.client.request(
            .POST, "/_synapse/admin/v1/users/\(MatrixClient.encode(bot.userID))/override_ratelimit",
            body: ["messages_per_second": 1, "burst_count": 1])
        let room = try await alice.createRoom(invite: [bot])
        try await bot.join(room)
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }
        let engine = try makeEngine(alice: alice)
        let (_, running) = try await startSynced(bot, on: server, engine)
        defer { running.cancel() }

        for index in 1...5 { try await alice.say("!echo limited \(index)", in: room) }
        let deadline = ContinuousClock.now + .seconds(30)
        while watcher.messages.count < 5, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let answered = watcher.messages.map(\.text).sorted()
        #expect(answered == (1...5).map { "limited \($0)" }, "answered: \(answered)")
    }

    @Test(.requires(.synapse)) func aBurstLargerThanOneSyncIsBackFilledAndEachCommandAnswered() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        let room = try await alice.createRoom(invite: [bot])
        try await bot.join(room)
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }
        let engine = try makeEngine(alice: alice)
        var (adapter, running) = try await startSynced(bot, on: server, engine, timelineLimit: 4)
        running.cancel()
        await running.value

        for index in 1...30 { try await alice.say("!echo burst \(index)", in: room) }
        running = start(adapter, engine)
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(60)
        while watcher.messages.count < 30, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        // As above: settled, then a reply sent after all the others has been seen.
        await adapter.settle()
        try await alice.say("!echo sentinel", in: room)
        #expect(try await watcher.wait { $0.text == "sentinel" } != nil)
        let answered = watcher.messages.map(\.text).filter { $0 != "sentinel" }.sorted()
        #expect(answered == (1...30).map { "burst \($0)" }.sorted(), "answered: \(answered)")
    }
}
