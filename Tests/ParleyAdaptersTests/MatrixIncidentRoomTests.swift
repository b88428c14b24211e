import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// Posts and makes rooms through one adapter, as the server's messenger does.
struct AdapterRoomMessenger: RoomMessenger {
    let adapter: any ChatAdapter

    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String? {
        try await adapter.send(reply, room: String(room.drop { $0 != ":" }.dropFirst()), thread: thread)
    }

    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool { false }

    func directRoom(platform: String, user: String) async throws -> String? {
        guard platform == adapter.platform, let room = try await adapter.directRoom(for: user) else { return nil }
        return "\(platform):\(room)"
    }

    func createRoom(platform: String, name: String, topic: String, inviting: [String], near: String?) async throws
        -> String?
    {
        guard platform == adapter.platform else { return nil }
        return try await adapter.createRoom(name: name, topic: topic, inviting: inviting, near: near)
    }
}

/// An incident declared on Matrix gets a room of its own on the real Synapse, its people invited.
@Suite(.serialized) struct MatrixIncidentRoomTests {
    @Test(.requires(.synapse)) func aDeclaredIncidentGetsItsOwnRoomWithItsPeopleInvited() async throws {
        let server = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        let bot = try await server.register("parleybot")
        let alice = try await server.register("alice")
        let bob = try await server.register("bob")
        let directory = NSTemporaryDirectory() + "parley-matrix-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: """
                users:
                  alice: { roles: [ops], identities: ["matrix:\(alice.userID)"] }
                  bob: { roles: [ops], identities: ["matrix:\(bob.userID)"] }
                roles: { ops: { allow: ["*"] } }
                """, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        let settings = MatrixSettings(homeserver: server.url, userID: bot.userID, accessToken: .value(bot.token))
        let adapter = MatrixAdapter(settings: settings, syncTimeout: .seconds(5))
        engine.attach(messenger: AdapterRoomMessenger(adapter: adapter))
        let running = Task { try? await adapter.run(engine: engine) }
        defer { running.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !adapter.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(adapter.isConnected)

        let ops = try await alice.createRoom(invite: [bot])
        #expect(try await alice.waitUntil(bot.userID, joins: ops))
        let watcher = MatrixWatcher(as: alice, watching: bot.userID)
        defer { watcher.stop() }
        try await alice.say(#"!incident declare sev2 "Search is slow" --commander bob"#, in: ops)
        let reply = try #require(try await watcher.wait { $0.text.contains("INC-1 declared") })
        let line = try #require(reply.text.split(separator: "\n").first { $0.hasPrefix("incident room: matrix:") })
        let room = String(line.dropFirst("incident room: matrix:".count))
        #expect(room.hasPrefix("!"))

        func state(_ type: String, _ key: String = "") async throws -> JSON {
            try await bot.client.request(
                .GET,
                "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/state/\(type)/\(MatrixClient.encode(key))")
        }
        #expect(try await state("m.room.name")["name"].string == "inc-1-search-is-slow")
        #expect(try await state("m.room.topic")["topic"].string == "INC-1 (sev2): Search is slow")
        #expect(try await state("m.room.member", alice.userID)["membership"].string == "invite")
        #expect(try await state("m.room.member", bob.userID)["membership"].string == "invite")
        #expect(try await state("m.room.join_rules")["join_rule"].string == "invite", "a private room")

        // Bob joins and works the incident from its room, without naming it.
        try await bob.join(room)
        let inRoom = MatrixWatcher(as: bob, watching: bot.userID)
        defer { inRoom.stop() }
        try await bob.say("!incident note index rebuilt", in: room)
        let noted = try #require(try await inRoom.wait { $0.text.contains("noted in INC-1") })
        #expect(noted.room == room)

        // A 📌 reaction pins the message it is on to the incident's timeline.
        let message = try await bob.say("replica lag is back under 1s", in: room)
        let path = "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/send/m.reaction/\(UUID().uuidString)"
        try await bob.client.request(
            .PUT, path, body: ["m.relates_to": ["rel_type": "m.annotation", "event_id": .string(message), "key": "📌"]])
        let pinnedBy = ContinuousClock.now + .seconds(20)
        var pins: [IncidentEvent] = []
        while pins.isEmpty, ContinuousClock.now < pinnedBy {
            pins = try await store.incidentEvents(number: 1).filter { $0.kind == .pin }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(pins.map(\.text) == ["📌 replica lag is back under 1s"])
        #expect(pins.first?.actor == "bob")

        // A page writes to the person paged in a direct room, made once and reused.
        _ = try await engine.page(key: "manual:1", policy: "user:bob", summary: "disk full", room: nil)
        _ = try await engine.page(key: "manual:2", policy: "user:bob", summary: "disk still full", room: nil)
        let direct = try #require(try await engine.adapterState("matrix:direct:\(bob.userID)"))
        try await bob.join(direct)
        let pagedBy = ContinuousClock.now + .seconds(20)
        var seen: [String] = []
        while seen.count < 2, ContinuousClock.now < pagedBy {
            let history = try await bob.client.request(
                .GET, "/_matrix/client/v3/rooms/\(MatrixClient.encode(direct))/messages",
                query: [("dir", "b"), ("limit", "20")])
            seen = (history["chunk"].array ?? []).filter { $0["type"].string == "m.room.message" }
                .compactMap { $0["content"]["body"].string }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(seen.contains { $0.contains("📟 Page #1, level 1 of user:bob: disk full") })
        #expect(seen.contains { $0.contains("📟 Page #2, level 1 of user:bob: disk still full") })
    }
}
