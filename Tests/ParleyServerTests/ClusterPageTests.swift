import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// `/cluster`: the replicas, who holds each connection and the runs each has in flight, for people
/// signed in to the console.
@Suite struct ClusterPageTests {
    @Test func theClusterPageShowsReplicasLeasesAndRunsInFlight() async throws {
        let fixture = try await ServerFixture()
        _ = try await fixture.engine.heartbeat(ttl: .seconds(15))
        let lease = try #require(
            try await fixture.store.acquireLease(
                name: "adapter:irc", holder: ProcessOwner.current, ttl: .seconds(10), isDead: { _ in false }))
        let inFlight = try await fixture.store.insertRun(
            RunRecord(
                userName: "alice", identity: "api:alice", room: "api", text: "deploy <api> to staging",
                commandID: "deploy", decision: .allowed, status: .running, owner: ProcessOwner.current))
        try await fixture.server.application().test(.router) { client in
            // Signed out: the sign-in page.
            let anonymous = try await client.execute(uri: "/cluster", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login")

            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let page = try await client.execute(uri: "/cluster", method: .get, headers: [.cookie: session.cookie])
            #expect(page.status == .ok)
            let html = page.text
            #expect(html.contains("served by replica <code>\(ProcessOwner.current)</code>"))
            #expect(html.contains("<td>\(ProcessOwner.current)</td><td>\(ProcessInfo.processInfo.hostName)</td>"))
            #expect(html.contains("<td>alive</td><td>1</td>"), "one run in flight on this replica")
            #expect(
                html.contains("<td>irc</td><td>\(ProcessOwner.current)</td><td>\(lease.epoch)</td><td>held, expires in")
            )
            // Run text is escaped like every value on every page.
            #expect(html.contains("<td>#\(inFlight.id ?? 0)</td><td>deploy &lt;api&gt; to staging</td><td>alice</td>"))
            #expect(!html.contains("<api>"))
            #expect(html.contains(#"<a href="/cluster">Cluster</a>"#))
        }
        // Released and finished: the page says so.
        try await fixture.store.releaseLease(name: "adapter:irc", holder: ProcessOwner.current)
        var finished = inFlight
        finished.status = .succeeded
        try await fixture.store.updateRun(finished)
        try await fixture.server.application().test(.router) { client in
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let html = try await client.execute(uri: "/cluster", method: .get, headers: [.cookie: session.cookie]).text
            #expect(html.contains("<td>free (expired or released)</td>"))
            #expect(html.contains("<p>Nothing is running.</p>"))
        }
    }
}
