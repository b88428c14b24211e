import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// PagerDuty's v3 webhooks, signed as PagerDuty documents it (HMAC-SHA256 of the body, hex, `v1=`),
/// computed here by Python's standard library rather than by Parley's code.
@Suite struct PagerDutyWebhookTests {
    static func sign(_ body: String, secret: String) async throws -> String {
        let script =
            "import hmac,hashlib,sys; print('v1=' + hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())"
        let (status, output) = try await runProgram(
            "/usr/bin/env", ["python3", "-c", script, secret], input: Array(body.utf8))
        #expect(status == 0)
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func event(_ id: String, _ type: String, key: String) -> String {
        """
        {"event":{"id":"\(id)","event_type":"\(type)","resource_type":"incident","occurred_at":"2026-12-08T10:00:00Z",\
        "agent":{"type":"user_reference","summary":"Dana Ops"},"data":{"id":"Q1","type":"incident","incident_key":"\(key)",\
        "status":"acknowledged","title":"HighErrorRate"}}}
        """
    }

    @Test func signedAcknowledgementsSettleThePageOnceAndForgeriesAreRefused() async throws {
        let yaml = EscalationTests.yaml(pagerDuty: 1).replacingOccurrences(
            of: "  pagerduty: { routing_key: \"\(EscalationTests.routingKey)\", url: \"http://127.0.0.1:1\" }",
            with:
                "  pagerduty: { routing_key: \"\(EscalationTests.routingKey)\", url: \"http://127.0.0.1:1\", webhook_secrets: [old-secret, new-secret] }"
        )
        #expect(yaml.contains("webhook_secrets"))
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        // The alert's page (a policy without PagerDuty at its first level: nothing is sent out yet).
        _ = try await store.recordAlerts(
            [
                Alert(
                    source: "alertmanager", fingerprint: "fp9", status: .firing, labels: ["alertname": "HighErrorRate"])
            ],
            at: Date())
        _ = try await engine.page(key: "alert:fp9", policy: "payments", summary: "HighErrorRate", room: nil)
        let server = ParleyHTTPServer(engine: engine, store: store)
        try await server.application().test(.router) { client in
            func post(_ body: String, signature: String?) async throws -> (Int, String) {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let signature { headers[HTTPField.Name("X-PagerDuty-Signature")!] = signature }
                let response = try await client.execute(
                    uri: "/hooks/pagerduty", method: .post, headers: headers, body: ByteBuffer(string: body))
                return (Int(response.status.code), String(buffer: response.body))
            }
            let ack = Self.event("01ABC", "incident.acknowledged", key: "alert:fp9")
            #expect(try await post(ack, signature: nil).0 == 401)
            let forged = try await Self.sign(ack, secret: "not-the-secret")
            #expect(try await post(ack, signature: forged).0 == 401)
            let tampered = try await Self.sign(ack, secret: "new-secret")
            #expect(try await post(ack.replacingOccurrences(of: "fp9", with: "fp8"), signature: tampered).0 == 401)
            #expect(try await store.page(id: 1)?.status == .open, "nothing refused settled anything")
            // Signed with the new secret, beside a stale signature (rotation): accepted.
            let signed = try await Self.sign(ack, secret: "new-secret")
            let accepted = try await post(ack, signature: "v1=00ff, \(signed)")
            #expect(accepted.0 == 200)
            #expect(accepted.1.contains("settled"))
            let page = try #require(try await store.page(id: 1))
            #expect(page.status == .acknowledged)
            #expect(page.settledBy == "pagerduty:Dana Ops")
            // Taken in PagerDuty is taken in Parley: the alert says who.
            #expect(try await store.alert(id: 1)?.acknowledgedBy == "pagerduty:Dana Ops")
            // The same event again (PagerDuty retries): handled once.
            #expect(try await post(ack, signature: signed).1.contains("duplicate"))
            let other = Self.event("01ABD", "incident.priority_updated", key: "alert:fp9")
            #expect(
                try await post(other, signature: try await Self.sign(other, secret: "old-secret")).1.contains("ignored")
            )
            // A PagerDuty incident Parley did not page for becomes an alert, taken when it is taken there.
            let theirs = Self.event("01ABE", "incident.triggered", key: "srv-42")
            let triggered = try await post(theirs, signature: try await Self.sign(theirs, secret: "old-secret"))
            #expect(triggered.1.contains("pagerduty:Q1"))
            let record = try #require(try await store.alerts(AlertQuery(limit: 10)).first { $0.source == "pagerduty" })
            #expect(record.alert.name == "HighErrorRate")
            #expect(record.status == .firing)
            let theirAck = Self.event("01ABF", "incident.acknowledged", key: "srv-42")
            _ = try await post(theirAck, signature: try await Self.sign(theirAck, secret: "old-secret"))
            #expect(try await store.alert(id: record.id ?? 0)?.acknowledgedBy == "pagerduty:Dana Ops")
            let theirEnd = Self.event("01ABG", "incident.resolved", key: "srv-42")
            _ = try await post(theirEnd, signature: try await Self.sign(theirEnd, secret: "old-secret"))
            #expect(try await store.alert(id: record.id ?? 0)?.status == .resolved)
            // A body over server.max_body is refused before it is read, whatever its signature.
            let huge = String(repeating: "x", count: config.server.maxBodyBytes + 1)
            #expect(try await post(huge, signature: "v1=00").0 == 413)
            let garbage = "{\"nope\": 1}"
            #expect(try await post(garbage, signature: try await Self.sign(garbage, secret: "old-secret")).0 == 400)
        }
    }
}
