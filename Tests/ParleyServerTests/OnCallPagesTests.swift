import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// `/oncall` (two weeks of each schedule) and `/pages` (with Take, run as `page ack`).
@Suite struct OnCallPagesTests {
    static let yaml = """
        server: { listen: "127.0.0.1:0" }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
          bob: { roles: [viewer], identities: ["local:bob"] }
        roles:
          ops: { allow: ["*"] }
          viewer: { allow: [help] }
        oncall:
          schedules:
            payments:
              time_zone: Europe/Paris
              layers:
                - { name: primary, rotation: daily, start: "2026-01-01 09:00", people: [alice, bob] }
        paging:
          policies:
            db:
              levels:
                - { notify: ["user:alice"], after: 5m }
        """

    @Test func theCalendarShowsTwoWeeksAndAPageIsTakenFromTheWeb() async throws {
        let fixture = try await ServerFixture(yaml: Self.yaml)
        _ = try await fixture.engine.page(key: "manual:x", policy: "db", summary: "disk <full>", room: nil)
        try await fixture.server.application().test(.router) { client in
            #expect(try await client.execute(uri: "/oncall", method: .get).status == .seeOther)
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let calendar = try await client.execute(uri: "/oncall", method: .get, headers: [.cookie: session.cookie])
            #expect(calendar.status == .ok)
            let html = calendar.text
            #expect(html.contains(#"<h2 id="schedule-payments">payments</h2>"#))
            #expect(html.contains("times in Europe/Paris"))
            let days = html.components(separatedBy: "<tr><td>").count - 1
            #expect(days == 14, "two weeks, a row a day")
            #expect(html.contains("09:00") && html.contains("alice") && html.contains("bob"))

            let list = try await client.execute(uri: "/pages", method: .get, headers: [.cookie: session.cookie])
            #expect(list.text.contains("<td>disk &lt;full&gt;</td>"))
            #expect(list.text.contains(#"action="/pages/1/ack""#))
            let taken = try await client.execute(
                uri: "/pages/1/ack", method: .post,
                headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=\(session.csrf)"))
            #expect(taken.status == .seeOther)
            #expect(try await fixture.store.page(id: 1)?.status == .acknowledged)
            #expect(try await fixture.store.page(id: 1)?.settledBy == "alice")
            let forged = try await client.execute(
                uri: "/pages/1/ack", method: .post,
                headers: [.cookie: session.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "csrf=forged"))
            #expect(forged.status != .seeOther)

            let bob = try #require(try await client.signIn("bob", "bob's long password"))
            #expect(
                try await client.execute(uri: "/pages", method: .get, headers: [.cookie: bob.cookie]).status
                    == .forbidden)
            #expect(
                try await client.execute(uri: "/oncall", method: .get, headers: [.cookie: bob.cookie]).status
                    == .forbidden)
        }
    }
}
