import Foundation
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

/// `who is on call`, `oncall schedule`, overrides from chat, and handoff notices.
@Suite struct OnCallCommandTests {
    let directory = temporaryDirectory()
    static let yaml = """
        adapters:
          irc: { server: "127.0.0.1:6667", nick: parley, channels: ["#payments"] }
        users:
          alice: { roles: [sre], identities: ["local:alice"] }
          bob: { roles: [sre], identities: ["local:bob"] }
          carol: { roles: [viewer], identities: ["local:carol"] }
        roles:
          sre: { allow: ["*"] }
          viewer: { allow: [oncall.who, oncall.schedule] }
        oncall:
          schedules:
            payments:
              time_zone: UTC
              handoff_room: "irc:#payments"
              layers:
                - name: primary
                  rotation: daily
                  start: "2026-01-01 09:00"
                  people: [alice, bob]
        """

    /// Who the daily rotation puts on call at `date`, counted by hand: one shift a day from 1 January 09:00 UTC.
    static func expected(at date: Date) -> String {
        let start = Date(timeIntervalSince1970: 1_767_258_000)  // 2026-01-01T09:00:00Z
        let days = Int((date.timeIntervalSince(start) / 86400).rounded(.down))
        return days % 2 == 0 ? "alice" : "bob"
    }

    func run(_ engine: Engine, _ text: String, as user: String) async throws -> EngineResponse {
        try #require(await engine.handle(say(text, as: "local:\(user)", room: "#payments")))
    }

    @Test func whoIsOnCallFollowsTheRotationAndOverridesMadeInChat() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let now = Date()
        let onCall = Self.expected(at: now)
        let other = onCall == "alice" ? "bob" : "alice"
        let who = try await run(engine, "who is on call", as: "carol")
        #expect(who.outcome == .succeeded)
        #expect(
            who.reply.blocks.contains { block in
                if case .table(_, let rows) = block { return rows.first?[1] == onCall && rows.first?[4] == other }
                return false
            })
        // carol may look but not change.
        #expect(try await run(engine, "oncall override \(other) now to +2h", as: "carol").outcome == .denied)
        let made = try await run(engine, "oncall override @\(other) now to +2h", as: "alice")
        #expect(made.reply.plainText.hasPrefix("🔁 override 1: \(other) is on call for payments from "))
        let after = try await run(engine, "who is on call for payments", as: "carol")
        #expect(
            after.reply.blocks.contains { block in
                if case .table(_, let rows) = block { return rows.first?[1] == other && rows.first?[2] == "override" }
                return false
            })
        let listed = try await run(engine, "oncall overrides", as: "alice")
        #expect(listed.reply.plainText.contains("alice") || listed.reply.plainText.contains("bob"))
        #expect(try await run(engine, "oncall unoverride 1", as: "alice").reply.plainText == "override 1 removed")
        #expect(
            try await run(engine, "oncall unoverride 1", as: "alice").reply.plainText.hasPrefix(
                "there is no override 1"))

        let bad = try await run(engine, "oncall override bob tomorrow 25:00 to +1h", as: "alice")
        #expect(!bad.reply.plainText.hasPrefix("🔁"))
        let reversed = try await run(engine, "oncall override bob +2h to +1h", as: "alice")
        #expect(reversed.reply.plainText == "the override must end after it starts")
        let noTo = try await run(engine, "oncall override bob tomorrow", as: "alice")
        #expect(noTo.reply.plainText.hasPrefix("write FROM to TO"))
        let unknown = try await run(engine, "who is on call for billing", as: "carol")
        #expect(unknown.reply.plainText == "no schedule 'billing'; schedules: payments")

        let week = try await run(engine, "oncall schedule payments --next 3d", as: "carol")
        let rows =
            week.reply.blocks.compactMap { block -> [[String]]? in
                if case .table(_, let rows) = block { return rows }
                return nil
            }.first ?? []
        #expect(rows.count >= 3 && rows.count <= 4, "a daily rotation over 3 days: 3 or 4 shifts")
        #expect(rows.first?[2] == onCall)
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0[2] != $1[2] }, "alice and bob alternate")
        #expect(rows.dropFirst().allSatisfy { $0[0].contains("09:00") })

        // A swap: whoever is on call in 1 hour and whoever in 25 hours (the other person) trade shifts.
        let inAnHour = Date().addingTimeInterval(3600)
        let swapped = try await run(engine, "oncall swap +1h with +25h", as: "alice")
        #expect(swapped.reply.plainText.hasPrefix("🔁 swapped on payments: "), "\(swapped.reply.plainText)")
        let stored = try await store.overrides(schedule: "payments", endingAfter: Date())
        #expect(
            stored.map(\.override.person) == [
                Self.expected(at: inAnHour.addingTimeInterval(86400)), Self.expected(at: inAnHour),
            ])
        #expect(stored.allSatisfy { $0.override.end.timeIntervalSince($0.override.start) == 86400 }, "whole shifts")
        let overlapping = try await run(engine, "oncall swap +1h with +1h", as: "alice")
        #expect(!overlapping.reply.plainText.hasPrefix("🔁"))
    }

    @Test func aHandoffIsAnnouncedOnceAcrossReplicas() async throws {
        let (engine, store) = try makeEngine(Self.yaml, directory: directory)
        let messenger = RecordingMessenger()
        engine.attach(messenger: messenger)
        // 2026-12-08 09:05 UTC: day 341 since 1 January, an odd day: bob takes over from alice at 09:00.
        let now = Date(timeIntervalSince1970: 1_796_720_700)
        #expect(Self.expected(at: now) == "bob")
        let sent = try await engine.announceHandoffs(now: now)
        #expect(sent.count == 1)
        #expect(sent.first?.hasPrefix("🔄 payments on call: alice → bob (primary), until ") == true)
        #expect(messenger.posts.withLock { $0 }.map(\.room) == ["irc:#payments"])
        let replica = Engine(config: engine.config, store: store, executors: [])
        #expect(try await replica.announceHandoffs(now: now.addingTimeInterval(30)).isEmpty)
        #expect(try await engine.announceHandoffs(now: now.addingTimeInterval(60)).isEmpty)
    }
}
