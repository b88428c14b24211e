import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// Text from chat, platforms and alert sources reaches the pages as text, never as markup.
@Suite struct PageEscapingTests {
    static let script = "<script>alert(1)</script>"
    static let shown = "&lt;script&gt;alert(1)&lt;/script&gt;"

    @Test func aScriptInARunsCommandOrUserIsShownEscapedOnTheRunsPages() async throws {
        let fixture = try await ServerFixture()
        let sender = Identity(platform: "local", id: Self.script)
        _ = await fixture.engine.handle(
            Inbound(sender: sender, room: "ops", text: "deploy \(Self.script)", isDirect: true))
        let run = try #require(try await fixture.store.runs(RunQuery(limit: 5)).first?.id)
        try await fixture.server.application().test(.router) { client in
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let list = try await client.execute(uri: "/runs", method: .get, headers: [.cookie: session.cookie])
            #expect(list.text.contains("<td>local:\(Self.shown)</td><td>deploy \(Self.shown)</td>"))
            #expect(!list.text.contains("<script"))
            let page = try await client.execute(uri: "/runs/\(run)", method: .get, headers: [.cookie: session.cookie])
            #expect(page.text.contains("<dd>deploy \(Self.shown)</dd>"))
            #expect(!page.text.contains("<script"))
        }
    }

    @Test func aScriptInAnAlertOrInWhoTookItIsShownEscapedOnTheAlertsPage() async throws {
        let fixture = try await AlertFixture()
        try await fixture.store.setPasswordHash(try PasswordHasher.hash("correct horse battery"), userName: "alice")
        _ = try await fixture.server.alerts.ingest(
            [
                Alert(
                    source: "alertmanager", status: .firing, labels: ["alertname": Self.script],
                    annotations: ["summary": Self.script], url: "http://am/\"><script>alert(1)</script>"),
                Alert(source: "alertmanager", status: .firing, labels: ["alertname": "DiskFull", "instance": "db1"]),
            ], from: "alertmanager")
        let disk = try #require(
            try await fixture.store.alerts(AlertQuery(status: .firing)).first { $0.alert.name == "DiskFull" }?.id)
        _ = await fixture.engine.handle(
            Inbound(
                sender: Identity(platform: "local", id: "alice"), room: "ops", text: "ack \(disk) \(Self.script)",
                isDirect: true))
        try await fixture.server.application().test(.router) { client in
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let page = try await client.execute(uri: "/alerts", method: .get, headers: [.cookie: session.cookie])
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<a href="http://am/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#))
            #expect(page.text.contains("rel=\"noopener\">\(Self.shown)</a>"))
            #expect(page.text.contains("<td>\(Self.shown)</td>"), "the summary")
            #expect(page.text.contains("✓ alice: \(Self.shown)"), "who took it, and their note")
            #expect(!page.text.contains("<script"))
        }
    }
}
