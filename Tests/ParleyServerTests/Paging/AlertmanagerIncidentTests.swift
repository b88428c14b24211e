import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// An alert from a real Alertmanager pages through PagerDuty (the strict fake), becomes an
/// incident, is taken from chat, resolved and written up.
@Suite struct AlertmanagerIncidentTests {
    @Test(.requires(.alertmanager)) func anAlertIsPagedDeclaredTakenResolvedAndExported() async throws {
        let binary = try TestService.alertmanager.require(AlertmanagerIntegrationTests.binary())
        let fake = FakePagerDuty(routingKey: EscalationTests.routingKey)
        let pagerDuty = try await LiveServer { onRunning in
            Application(
                router: fake.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }
        defer { pagerDuty.stop() }
        let amPort = try AlertmanagerIntegrationTests.freePort()
        let am = "http://127.0.0.1:\(amPort)"
        let token = "am-\(UUID().uuidString)"
        let directory = temporaryDirectory()
        let yaml = """
            server: { listen: "127.0.0.1:0" }
            adapters:
              mattermost: { url: "http://127.0.0.1:1", bot_token: mm-bot-token-unused, verification_tokens: [mm-verification-unused] }
            alerts:
              sources:
                alertmanager: { token: "\(token)" }
              routes:
                - { match: { severity: critical }, rooms: ["mattermost:ops"], page: checkout }
            paging:
              pagerduty: { routing_key: "\(EscalationTests.routingKey)", url: "http://127.0.0.1:\(pagerDuty.port)" }
              policies:
                checkout:
                  levels:
                    - { notify: [pagerduty], after: 5m }
            users:
              alice: { roles: [sre], identities: ["local:alice"] }
            roles:
              sre: { allow: ["*"] }
            """
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml, file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        _ = try await engine.start()
        let room = RecordingAdapter(platform: "mattermost")
        let server = ParleyHTTPServer(
            engine: engine, store: store, adapters: [room],
            logger: Logger(label: "test.am") { _ in SwiftLogNoOpLogHandler() })
        let parley = try await LiveServer { onRunning in server.application(onRunning: onRunning) }
        defer { parley.stop() }
        try """
        route: { receiver: parley, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }
        receivers:
          - name: parley
            webhook_configs:
              - url: "http://127.0.0.1:\(parley.port)/hooks/alertmanager"
                send_resolved: true
                http_config: { authorization: { type: Bearer, credentials: "\(token)" } }
        """.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/am-data",
            "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address=",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { process.terminate() }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await AlertmanagerIntegrationTests.request("GET", "\(am)/-/ready").0) == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(ready, "Alertmanager did not become ready")
        let alert =
            #"{"labels":{"alertname":"CheckoutErrors","service":"checkout","severity":"critical"},"annotations":{"summary":"5xx above 5%"}"#
        #expect(
            try await AlertmanagerIntegrationTests.request("POST", "\(am)/api/v2/alerts", json: "[\(alert)}]").0 == 200)

        // Paged through PagerDuty, keyed on the alert.
        let deadline = ContinuousClock.now + .seconds(30)
        while fake.accepted.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let trigger = try #require(fake.accepted.first)
        #expect(trigger["event_action"].string == "trigger")
        #expect(trigger["payload"]["summary"].string == "alert #1 CheckoutErrors: 5xx above 5%")
        let key = try #require(trigger["dedup_key"].string)
        #expect(key.hasPrefix("alert:"))

        func say(_ text: String) async -> String {
            await engine.handle(
                Inbound(sender: Identity(platform: "local", id: "alice"), room: "ops", text: text, isDirect: true))?
                .reply.plainText ?? ""
        }
        #expect(await say("incident declare sev1 --from-alert 1").hasPrefix("🚨 INC-1 declared (sev1): 5xx above 5%"))
        #expect(await say("ack 1 on it").contains("(page 1 stopped)"))
        #expect(fake.accepted.map { $0["event_action"].string } == ["trigger", "acknowledge"])
        #expect(fake.accepted.last?["dedup_key"].string == key)

        // Resolved in Alertmanager: the resolution reaches Parley and the incident's timeline.
        let ended = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-5))
        #expect(
            try await AlertmanagerIntegrationTests.request(
                "POST", "\(am)/api/v2/alerts", json: "[\(alert),\"endsAt\":\"\(ended)\"}]"
            ).0 == 200)
        let resolvedBy = ContinuousClock.now + .seconds(30)
        while try await store.alert(id: 1)?.status != .resolved, ContinuousClock.now < resolvedBy {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await store.alert(id: 1)?.status == .resolved)
        #expect(await say("incident resolve error rate back to normal").contains("INC-1 resolved after"))
        let report = try #require(try await IncidentReport.gather(number: 1, store: store))
        let markdown = report.markdown()
        #expect(markdown.contains("- #1 CheckoutErrors (resolved)"))
        #expect(markdown.contains("alert #1 CheckoutErrors attached"))
        #expect(markdown.contains("alert #1 CheckoutErrors resolved"))
        #expect(markdown.contains("resolved: error rate back to normal"))
        #expect(try await store.feedAuditChain(to: AuditVerifier(fromGenesis: true)).problem == nil)
    }
}
