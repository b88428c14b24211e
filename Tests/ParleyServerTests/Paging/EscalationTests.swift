import Foundation
import Hummingbird
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// What the engine posts in rooms, as the server's messenger would.
final class PostedMessages: RoomMessenger {
    private let posted = Mutex<[(room: String, text: String)]>([])
    var posts: [(room: String, text: String)] { posted.withLock { $0 } }

    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String? {
        posted.withLock { $0.append((room, reply.plainText)) }
        return nil
    }

    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool { false }

    /// IRC takes a nick as a destination, as the IRC adapter does.
    func directRoom(platform: String, user: String) async throws -> String? {
        platform == "irc" ? "irc:\(user)" : nil
    }
}

/// Escalation through a policy, level after level, on an injected clock, against a strict
/// PagerDuty fake; a restart in the middle changes nothing, an acknowledgement stops it.
@Suite(.serialized) struct EscalationTests {
    static let routingKey = "R0UT1NGKEY0123456789ABCDEFGHIJKL"

    static func yaml(pagerDuty: Int) -> String {
        """
        adapters:
          irc: { server: "127.0.0.1:6667", nick: parley, channels: ["#ops"] }
        users:
          alice: { roles: [sre], identities: ["irc:alice"] }
          bob: { roles: [sre], identities: ["irc:bob"] }
          dave: { roles: [sre], identities: ["irc:dave"] }
        roles:
          sre: { allow: ["*"] }
        oncall:
          schedules:
            payments:
              time_zone: UTC
              layers:
                - { name: primary, rotation: weekly, start: "2026-01-05 09:00", people: [alice] }
        paging:
          pagerduty: { routing_key: "\(routingKey)", url: "http://127.0.0.1:\(pagerDuty)" }
          policies:
            payments:
              levels:
                - { notify: ["oncall:payments"], after: 5m }
                - { notify: ["user:dave", pagerduty], after: 10m }
                - { notify: ["user:bob"], after: 5m }
            nightly:
              repeat: 1
              levels:
                - { notify: ["user:bob"], after: 5m }
        alerts:
          routes:
            - { match: { severity: critical }, rooms: ["irc:#ops"], page: payments }
        incidents:
          severities:
            sev1: { page: payments }
            sev2: {}
        """
    }

    @Test func levelsArePagedInTurnARestartChangesNothingAndAnAckStopsTheRest() async throws {
        let fake = FakePagerDuty(routingKey: Self.routingKey)
        let server = try await LiveServer { onRunning in
            Application(
                router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }
        defer { server.stop() }
        let directory = temporaryDirectory()
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: Self.yaml(pagerDuty: server.port), file: "test.yaml", baseDirectory: directory)
        let messages = PostedMessages()
        var engine = Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
        engine.attach(messenger: messages)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        func at(_ minutes: Double) -> Date { t0.addingTimeInterval(minutes * 60) }

        let page = try await engine.page(
            key: "alert:fp1", policy: "payments", summary: "alert #1 HighErrorRate", room: "irc:#ops", now: t0)
        #expect(page.level == 0)
        let first =
            "📟 Page #1, level 1 of payments: alert #1 HighErrorRate — paging alice (on call for payments). `page ack 1` to take it."
        // In the page's room, and to alice directly (the person on call).
        #expect(messages.posts.map(\.room) == ["irc:#ops", "irc:alice"])
        #expect(messages.posts.map(\.text) == [first, first])
        #expect(fake.requests.isEmpty, "level 1 pages in chat only")
        // The same alert again: one page, nothing paged twice.
        #expect(
            try await engine.page(key: "alert:fp1", policy: "payments", summary: "again", room: nil, now: at(1)).id == 1
        )
        #expect(try await engine.escalatePages(now: at(4.9)).isEmpty)

        // Level 2 at exactly five minutes; PagerDuty's first answer is a rate limit, waited out.
        fake.rateLimit(1)
        let second = try await engine.escalatePages(now: at(5))
        #expect(second.count == 1)
        #expect(
            second.first?.hasPrefix(
                "📟 Page #1, level 2 of payments: alert #1 HighErrorRate — paging dave · PagerDuty paged") == true)
        #expect(fake.requests.map(\.status) == [429, 202])
        #expect(Set(fake.requests.map { $0.body["dedup_key"].string }) == ["alert:fp1"], "a retry reuses the dedup_key")
        let trigger = try #require(fake.accepted.first)
        #expect(trigger["event_action"].string == "trigger")
        #expect(trigger["payload"]["summary"].string == "alert #1 HighErrorRate")
        #expect(trigger["payload"]["severity"].string == "critical")

        // A restart: the timer is in the store, nothing is paged early or again.
        engine = Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
        engine.attach(messenger: messages)
        #expect(try await engine.escalatePages(now: at(10)).isEmpty)
        #expect(try await engine.escalatePages(now: at(14.9)).isEmpty)

        // Taken from chat before level 3: bob is never paged, PagerDuty is told.
        let taken = try #require(
            await engine.handle(
                Inbound(sender: Identity(platform: "irc", id: "bob"), room: "#ops", text: "page ack 1", isDirect: true))
        )
        #expect(taken.reply.plainText == "✋ page 1 taken by bob: alert #1 HighErrorRate")
        #expect(fake.accepted.map { $0["event_action"].string } == ["trigger", "acknowledge"])
        #expect(fake.accepted.last?["dedup_key"].string == "alert:fp1")
        #expect(try await engine.escalatePages(now: at(15)).isEmpty)
        #expect(try await engine.escalatePages(now: at(60)).isEmpty)
        #expect(!messages.posts.contains { $0.text.contains("paging bob") || $0.room == "irc:bob" })
        #expect(messages.posts.contains { $0.room == "irc:dave" }, "level 2 wrote to dave directly")
        let again = try #require(
            await engine.handle(
                Inbound(
                    sender: Identity(platform: "irc", id: "alice"), room: "#ops", text: "page ack 1", isDirect: true)))
        #expect(again.reply.plainText == "page 1 is acknowledged already (bob)")
    }

    @Test func unansweredLevelsRunOutAndAnAlertAckOrAnIncidentResolutionStopsItsPage() async throws {
        let fake = FakePagerDuty(routingKey: Self.routingKey)
        let server = try await LiveServer { onRunning in
            Application(
                router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }
        defer { server.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: Self.yaml(pagerDuty: server.port), file: "test.yaml", baseDirectory: temporaryDirectory())
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        let messages = PostedMessages()
        engine.attach(messenger: messages)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try await engine.page(key: "manual:1", policy: "payments", summary: "disk full", room: "irc:#ops", now: t0)
        _ = try await engine.escalatePages(now: t0.addingTimeInterval(300))
        _ = try await engine.escalatePages(now: t0.addingTimeInterval(900))
        let last = try await engine.escalatePages(now: t0.addingTimeInterval(1200))
        #expect(last == ["⚠️ Page #1 went unanswered through every level of payments: disk full"])
        #expect(try await store.page(id: 1)?.status == .exhausted)

        // A policy that repeats runs its levels once more before it gives up.
        _ = try await engine.page(
            key: "manual:2", policy: "nightly", summary: "backup failed", room: "irc:#ops", now: t0)
        let again = try await engine.escalatePages(now: t0.addingTimeInterval(300))
        #expect(
            again == [
                "📟 Page #2, level 1 of nightly, again (2 of 2): backup failed — paging bob. `page ack 2` to take it."
            ])
        #expect(try await engine.escalatePages(now: t0.addingTimeInterval(599)).isEmpty)
        #expect(
            try await engine.escalatePages(now: t0.addingTimeInterval(600)).first?.hasPrefix(
                "⚠️ Page #2 went unanswered") == true)

        // An alert from a paged route opens a page; taking the alert stops it.
        let center = AlertCenter(engine: engine, messenger: messages)
        _ = try await center.ingest(
            [
                Alert(
                    source: "alertmanager", fingerprint: "fpX", status: .firing,
                    labels: ["alertname": "DiskFull", "severity": "critical"])
            ],
            from: "alertmanager")
        let opened = try #require(try await store.pages(openOnly: true, limit: 5).first)
        #expect(opened.key == "alert:fpX")
        let ack = try #require(
            await engine.handle(
                Inbound(sender: Identity(platform: "irc", id: "alice"), room: "#ops", text: "ack 1", isDirect: true)))
        #expect(ack.reply.plainText.contains("(page \(opened.id ?? 0) stopped)"), "\(ack.reply.plainText)")
        #expect(try await store.page(id: opened.id ?? 0)?.status == .acknowledged)

        // A sev1 incident pages its severity's policy; resolving the incident resolves the page.
        let declared = try #require(
            await engine.handle(
                Inbound(
                    sender: Identity(platform: "irc", id: "alice"), room: "#ops",
                    text: #"incident declare sev1 "Checkout down""#, isDirect: true)))
        #expect(declared.reply.plainText.contains("paging through payments (page 4)"))
        _ = await engine.handle(
            Inbound(
                sender: Identity(platform: "irc", id: "alice"), room: "#ops", text: "incident resolve", isDirect: true))
        #expect(try await store.page(id: 4)?.status == .resolved)
        #expect(try await store.incidentEvents(number: 1).contains { $0.text == "page 4 resolved by alice" })
    }
}
