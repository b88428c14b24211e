import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@testable import ParleyServer

/// Defects found by attacking the server from outside (forged requests, floods, wrong types): each
/// test failed before its fix.
@Suite struct HardeningTests {
    func post(
        _ client: some TestClientProtocol, _ path: String, body: String, headers: HTTPFields
    ) async throws -> TestResponse {
        try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func cookieAPIWritesNeedTheCSRFTokenJSONAndTheirOwnOrigin() async throws {
        let fixture = try await ServerFixture()
        try await fixture.server.application().test(.router) { client in
            let session = try #require(try await client.signIn("alice", "correct horse battery"))
            let message = #"{"text": "ping"}"#
            let json: HTTPFields = [.cookie: session.cookie, .contentType: "application/json"]
            // No CSRF token: refused, even from no Origin at all.
            let bare = try await post(client, "/api/v1/messages", body: message, headers: json)
            #expect(bare.status == .forbidden)
            #expect((bare.json["error"] as? String)?.contains("X-CSRF-Token") == true)
            var withToken = json
            withToken[HTTPField.Name("X-CSRF-Token")!] = session.csrf
            // A foreign Origin, `null` and an unparseable one are refused even with the token.
            for origin in ["http://evil.example", "null", "::not a url::", "http://localhost.evil.example"] {
                var headers = withToken
                headers[.origin] = origin
                let refused = try await post(client, "/api/v1/messages", body: message, headers: headers)
                #expect(refused.status == .forbidden, "Origin \(origin)")
            }
            // text/plain, which a cross-site form can send without asking: refused.
            var plain = withToken
            plain[.contentType] = "text/plain"
            #expect(
                try await post(client, "/api/v1/messages", body: message, headers: plain).status
                    == .unsupportedMediaType)
            // The real page's call goes through.
            #expect(try await post(client, "/api/v1/messages", body: message, headers: withToken).status == .ok)
            // Approving with the cookie alone runs nothing.
            let approve = try await post(
                client, "/api/v1/approvals/ABCDEFGH/approve", body: "",
                headers: [.cookie: session.cookie, .origin: "http://evil.example"])
            #expect(approve.status == .forbidden)
        }
        #expect(try await fixture.store.runs(RunQuery(limit: 50)).filter { $0.text == "ping" }.count == 1)
    }

    @Test func tokenCallsNeedNoCSRFAndTheBearerSchemeIsCaseInsensitive() async throws {
        let fixture = try await ServerFixture()
        let token = try await fixture.token("alice", scopes: ["commands"])
        try await fixture.server.application().test(.router) { client in
            for scheme in ["Bearer", "bearer", "BEARER"] {
                let response = try await post(
                    client, "/api/v1/messages", body: #"{"text": "ping"}"#,
                    headers: [.authorization: "\(scheme) \(token)", .contentType: "application/json"])
                #expect(response.status == .ok, "scheme \(scheme)")
            }
        }
    }

    @Test func originsAreComparedFailingClosed() {
        #expect(OriginCheck.normalized("http://127.0.0.1:8080") == "http://127.0.0.1:8080")
        #expect(OriginCheck.normalized("HTTPS://Example.COM:443") == "https://example.com")
        for bad in ["null", "", "file:///etc", "http://", "http://a/b", "http://u:p@a"] {
            #expect(OriginCheck.normalized(bad) == nil, "\(bad)")
        }
    }

    @Test func theLoginThrottleLocksOutAPairNotTheUserEverywhereAcrossReplicas() async throws {
        // Two replicas: two handles on one store, each with its own throttle.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("throttle-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: path) }
        let first = try SQLiteStore(path: path.path)
        let replicas = [LoginThrottle(store: first), LoginThrottle(store: try SQLiteStore(path: path.path))]
        let now = Date()
        for index in 0..<5 { try await replicas[index % 2].failed(user: "alice", address: "198.51.100.7", now: now) }
        for replica in replicas {
            #expect(try await replica.retryAfter(user: "alice", address: "198.51.100.7", now: now) == 300)
        }
        // The real alice, elsewhere, still signs in; a good password clears the pair's count.
        #expect(try await replicas[0].retryAfter(user: "Alice", address: "203.0.113.9", now: now) == nil)
        try await replicas[1].failed(user: "bob", address: "203.0.113.9", now: now)
        try await replicas[0].succeeded(user: "bob", address: "203.0.113.9")
        #expect(try await first.recentHits(keys: ["login:user:bob|203.0.113.9"], window: .seconds(300), at: now) == [:])
        // One address trying many names is stopped too, whichever replica it reaches.
        for index in 0..<20 {
            try await replicas[index % 2].failed(user: "user\(index)", address: "192.0.2.1", now: now)
        }
        #expect(try await replicas[1].retryAfter(user: "carol", address: "192.0.2.1", now: now) != nil)
        // The window passes: everyone may try again, and the old failures are removed from the store.
        let later = now + 301
        #expect(try await replicas[0].retryAfter(user: "alice", address: "198.51.100.7", now: later) == nil)
        let left = try await first.recentHits(
            keys: ["login:user:alice|198.51.100.7", "login:address:192.0.2.1", "login:*"], window: .seconds(86_400),
            at: later)
        #expect(left == [:], "\(left)")
        // A user name with a NUL (PostgreSQL refuses NULs in text) is counted like any other.
        for _ in 0..<5 { try await replicas[0].failed(user: "eve\u{0}", address: "198.51.100.8", now: later) }
        #expect(try await replicas[1].retryAfter(user: "eve\u{0}", address: "198.51.100.8", now: later) != nil)
    }

    @Test func theGlobalLoginLimitStopsCountingSoTheTableStaysSmall() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("throttle-\(UUID().uuidString).sqlite")
        defer { try? FileManager.default.removeItem(at: path) }
        let store = try SQLiteStore(path: path.path)
        let throttle = LoginThrottle(store: store, limits: .init(perUserAndAddress: 5, perAddress: 20, global: 30))
        let now = Date()
        var refused = 0
        for index in 0..<100 {
            let user = "u\(index)"
            let address = "10.0.\(index / 250).\(index % 250)"
            if try await throttle.retryAfter(user: user, address: address, now: now) != nil {
                refused += 1
                continue
            }
            try await throttle.failed(user: user, address: address, now: now)
        }
        #expect(refused == 70, "after 30 failures everywhere, every sign-in waits")
        let global = try await store.recentHits(keys: ["login:*"], window: .seconds(300), at: now)
        #expect(global["login:*"]?.count == 30)
    }

    static let hookYAML = """
        server: { listen: "127.0.0.1:0", max_body: 2KiB }
        adapters:
          mattermost: { url: "http://127.0.0.1:1", bot_token: mm-bot-token-unused, verification_tokens: [mm-unused] }
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
        roles:
          ops: { allow: ["*"] }
        alerts:
          sources:
            alertmanager: { token: am-token }
            github: { secret: gh-secret }
          default_rooms: ["mattermost:ops"]
        """

    @Test func webhooksAuthenticateOnHeadersCapBodiesAndSummariseRefusals() async throws {
        let fixture = try await ServerFixture(yaml: Self.hookYAML)
        try await fixture.server.application().test(.router) { client in
            let huge = String(repeating: "x", count: 100_000)
            // Wrong token: refused before the body is read, whatever its size.
            let refused = try await post(
                client, "/hooks/alertmanager", body: huge,
                headers: [.authorization: "Bearer wrong", .contentType: "application/json"])
            #expect(refused.status == .unauthorized)
            // Right token, a body past server.max_body: 413 naming the limit.
            let tooLarge = try await post(
                client, "/hooks/alertmanager", body: huge,
                headers: [.authorization: "bearer am-token", .contentType: "application/json"])
            #expect(tooLarge.status == .contentTooLarge)
            #expect((tooLarge.json["error"] as? String)?.contains("server.max_body") == true)
            // A signed source's body is capped before its signature is checked.
            let signed = try await post(
                client, "/hooks/github", body: huge,
                headers: [HTTPField.Name("X-Hub-Signature-256")!: "sha256=00", .contentType: "application/json"])
            #expect(signed.status == .contentTooLarge)
            for _ in 0..<50 {
                _ = try await post(
                    client, "/hooks/alertmanager", body: "{}",
                    headers: [.authorization: "Bearer wrong", .contentType: "application/json"])
            }
        }
        // 51 refusals: one entry at once, the rest summarised later, not 51 synced entries.
        let entries = try await fixture.store.auditEntries(AuditQuery(kind: "webhook_refused"))
        #expect(entries.count == 1, "\(entries.count) entries for 51 refusals")
    }

    @Test func refusalsCountedMeanwhileAreWrittenAsOneSummary() async throws {
        let fixture = try await ServerFixture(yaml: Self.hookYAML)
        let source = try #require(fixture.engine.config.alerts.sources.first)
        let tally = WebhookRefusals(audit: fixture.engine.audit, metrics: nil, logger: .init(label: "test"))
        let start = Date()
        for index in 0..<30 {
            await tally.refused(source: source, reason: "wrong credentials", now: start + Double(index))
        }
        await tally.flush(source, now: start + 60)
        let entries = try await fixture.store.auditEntries(AuditQuery(kind: "webhook_refused"))
        #expect(entries.count == 2)
        #expect(entries.last?.detail.hasPrefix("29 refused requests since") == true)
    }

    @Test func wrongTypesInAlertPayloadsGet400WithTheFieldsPath() async throws {
        let fixture = try await ServerFixture(yaml: Self.hookYAML)
        let cases: [(String, String)] = [
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":7}}]}"#,
                "alerts[0].labels.alertname must be a string, got a number"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":["a"]}}]}"#,
                "alerts[0].labels.alertname must be a string, got a list"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":{"a":1}}}]}"#,
                "alerts[0].labels.alertname must be a string, got an object"
            ),
            (
                #"{"status":"firing","alerts":[{"status":null,"labels":{"alertname":"A"}}]}"#,
                "alerts[0].status must be firing or resolved, got null"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":{"summary":true}}]}"#,
                "alerts[0].annotations.summary must be a string, got a boolean"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"yesterday"}]}"#,
                "alerts[0].startsAt must be an RFC 3339 time"
            ),
            (
                #"{"alerts":[{"status":"firing","labels":{"alertname":"A"},"fingerprint":12}]}"#,
                "alerts[0].fingerprint must be a string, got a number"
            ),
            (
                #"{"commonLabels":[],"alerts":[{"status":"firing","labels":{"alertname":"A"}}]}"#,
                "commonLabels must be an object of strings, got a list"
            ),
        ]
        try await fixture.server.application().test(.router) { client in
            for (body, reason) in cases {
                let response = try await post(
                    client, "/hooks/alertmanager", body: body,
                    headers: [.authorization: "Bearer am-token", .contentType: "application/json"])
                #expect(response.status == .badRequest, "\(body)")
                #expect((response.json["error"] as? String)?.hasPrefix(reason) == true, "\(response.text)")
            }
        }
        #expect(try await fixture.store.alertEventCount() == 0)
    }
}
