import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// `/incidents`, an incident's page, its live timeline part and its postmortem export.
@Suite struct IncidentsPageTests {
    @Test func incidentsAreListedShownEscapedAndExported() async throws {
        let fixture = try await ServerFixture()
        let declared = await fixture.engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: "alice"), room: "web",
                text: #"incident declare sev2 "Checkout <b>errors</b>" --commander alice"#, isDirect: true))
        #expect(declared?.outcome == .succeeded)
        _ = await fixture.engine.handle(
            Inbound(
                sender: Identity(platform: "web", id: "alice"), room: "web", text: "incident note rolled back <script>",
                isDirect: true))
        try await fixture.server.application().test(.router) { client in
            let anonymous = try await client.execute(uri: "/incidents", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login")

            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let list = try await client.execute(uri: "/incidents", method: .get, headers: [.cookie: session.cookie])
            #expect(list.status == .ok)
            #expect(
                list.text.contains(
                    "<td>INC-1</td><td>sev2</td><td>investigating</td><td>Checkout &lt;b&gt;errors&lt;/b&gt;</td><td>alice</td>"
                ))
            #expect(list.text.contains(#"<a class="incident-link" href="/incidents/1">INC-1</a>"#))
            #expect(list.text.contains(#"<a href="/incidents">Incidents</a>"#))

            let page = try await client.execute(uri: "/incidents/1", method: .get, headers: [.cookie: session.cookie])
            #expect(page.status == .ok)
            #expect(page.text.contains("<h1 id=\"incident-title\">INC-1: Checkout &lt;b&gt;errors&lt;/b&gt;</h1>"))
            #expect(page.text.contains(#"data-live="/incidents/1/timeline""#))
            #expect(page.text.contains("rolled back &lt;script&gt;"))
            #expect(!page.text.contains("<script>") && !page.text.contains("<b>"))

            let fragment = try await client.execute(
                uri: "/incidents/1/timeline", method: .get, headers: [.cookie: session.cookie])
            #expect(fragment.text.hasPrefix("<table>"))
            #expect(fragment.text.contains("<td>note</td><td>rolled back &lt;script&gt;</td>"))

            let markdown = try await client.execute(
                uri: "/incidents/1/postmortem.md", method: .get, headers: [.cookie: session.cookie])
            #expect(markdown.headers[.contentType] == "text/markdown; charset=utf-8")
            #expect(markdown.text.hasPrefix("# INC-1: Checkout <b>errors</b>\n"))
            #expect(markdown.text.contains("| Commander | alice |"))
            let json = try await client.execute(
                uri: "/incidents/1/postmortem.json", method: .get, headers: [.cookie: session.cookie])
            let object = try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any]
            let incident = try #require(object?["incident"] as? [String: Any])
            #expect(incident["severity"] as? String == "sev2")
            #expect((object?["timeline"] as? [Any])?.count == 2)

            let missing = try await client.execute(
                uri: "/incidents/99", method: .get, headers: [.cookie: session.cookie])
            #expect(missing.status == .notFound)
            let garbage = try await client.execute(
                uri: "/incidents/99999999999999999999999/postmortem.md", method: .get,
                headers: [.cookie: session.cookie])
            #expect(garbage.status == .notFound)

            // bob may not run `incidents`: the pages and the export are refused too.
            let bob = try #require(try await client.signIn("bob", "bob's long password"))
            #expect(
                try await client.execute(uri: "/incidents/1", method: .get, headers: [.cookie: bob.cookie]).status
                    == .forbidden)
            #expect(
                try await client.execute(
                    uri: "/incidents/1/postmortem.md", method: .get, headers: [.cookie: bob.cookie]
                )
                .status == .forbidden)
        }
    }
}
