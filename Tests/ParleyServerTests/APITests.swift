import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

@Suite struct APITests {
    func post(_ client: some TestClientProtocol, _ path: String, token: String?, body: String) async throws
        -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func aMessageRunsAsTheTokensUserAndReturnsTheReply() async throws {
        let fixture = try await ServerFixture()
        let token = try await fixture.token("alice", scopes: ["commands", "read"])
        try await fixture.server.application().test(.router) { client in
            let response = try await post(
                client, "/api/v1/messages", token: token, body: #"{"text": "deploy api to staging"}"#)
            #expect(response.status == .ok)
            #expect(response.json["outcome"] as? String == "succeeded")
            #expect((response.json["text"] as? String)?.contains("step 3 of api") == true)
            let id = try #require(response.json["run_id"] as? Int)
            let run = try await client.execute(
                uri: "/api/v1/runs/\(id)", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(run.json["identity"] as? String == "api:alice")
            #expect(run.json["status"] as? String == "succeeded")
            let unknown = try await post(client, "/api/v1/messages", token: token, body: #"{"text": "deplyo"}"#)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.json["text"] as? String == "unknown command 'deplyo'; did you mean `deploy`?")
        }
    }

    @Test func approvalsWorkThroughTheAPIWithTheRightScope() async throws {
        let fixture = try await ServerFixture()
        let alice = try await fixture.token("alice", scopes: ["commands"])
        let bobRead = try await fixture.token("bob", scopes: ["read"])
        let bobApprove = try await fixture.token("bob", scopes: ["approvals", "read"])
        try await fixture.server.application().test(.router) { client in
            let request = try await post(
                client, "/api/v1/messages", token: alice, body: #"{"text": "deploy web to prod"}"#)
            #expect(request.status == .accepted)
            #expect(request.json["outcome"] as? String == "pending")
            let pending = try await client.execute(
                uri: "/api/v1/approvals", method: .get, headers: [.authorization: "Bearer \(bobRead)"])
            let list = try #require(try JSONSerialization.jsonObject(with: Data(pending.text.utf8)) as? [[String: Any]])
            let id = try #require(list.first?["id"] as? String)
            let wrongScope = try await post(client, "/api/v1/approvals/\(id)/approve", token: bobRead, body: "")
            #expect(wrongScope.status == .forbidden)
            #expect(wrongScope.json["error"] as? String == "this token lacks the 'approvals' scope")
            let approved = try await post(client, "/api/v1/approvals/\(id)/approve", token: bobApprove, body: "")
            #expect(approved.status == .ok)
            #expect((approved.json["text"] as? String)?.contains("step 3 of web") == true)
        }
    }

    @Test func tokensAreCheckedScopedAndRevocable() async throws {
        let fixture = try await ServerFixture()
        let readOnly = try await fixture.token("alice", scopes: ["read"])
        let (full, record) = try await APITokens.create(user: "alice", scopes: ["*"], name: "ci", store: fixture.store)
        try await fixture.server.application().test(.router) { client in
            let none = try await post(client, "/api/v1/messages", token: nil, body: #"{"text": "ping"}"#)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] == "Bearer")
            let forged = try await post(
                client, "/api/v1/messages", token: "plt_\(record.id)_forged", body: #"{"text": "ping"}"#)
            #expect(forged.status == .unauthorized)
            let malformed = try await post(client, "/api/v1/messages", token: "not-a-token", body: #"{"text": "ping"}"#)
            #expect(malformed.status == .unauthorized)
            let scoped = try await post(client, "/api/v1/messages", token: readOnly, body: #"{"text": "ping"}"#)
            #expect(scoped.status == .forbidden)
            #expect(try await post(client, "/api/v1/messages", token: full, body: #"{"text": "ping"}"#).status == .ok)
            #expect(try await fixture.store.revokeToken(id: record.id, at: Date()))
            let revoked = try await post(client, "/api/v1/messages", token: full, body: #"{"text": "ping"}"#)
            #expect(revoked.status == .unauthorized)
        }
        let stored = try #require(try await fixture.store.token(id: record.id))
        #expect(!stored.secretHash.isEmpty && !full.contains(stored.secretHash))
    }

    @Test func badRequestsGetJSONErrorsWithReasons() async throws {
        let fixture = try await ServerFixture()
        let token = try await fixture.token("alice", scopes: ["*"])
        try await fixture.server.application().test(.router) { client in
            let malformed = try await post(client, "/api/v1/messages", token: token, body: #"{"text": "#)
            #expect(malformed.status == .badRequest)
            #expect((malformed.json["error"] as? String)?.hasPrefix("the body is not valid JSON") == true)
            let missing = try await post(client, "/api/v1/messages", token: token, body: #"{"txt": "ping"}"#)
            #expect(missing.json["error"] as? String == #"the JSON body needs "text""#)
            let wrongType = try await post(client, "/api/v1/messages", token: token, body: #"{"text": 42}"#)
            #expect(wrongType.status == .badRequest)
            let big = try await post(
                client, "/api/v1/messages", token: token,
                body: #"{"text": ""# + String(repeating: "a", count: 8000) + #""}"#)
            #expect(big.status == .contentTooLarge)
            #expect(big.json["error"] as? String == "the request body is too large")
            let unknown = try await client.execute(uri: "/api/v1/nothing", method: .get)
            #expect(unknown.status == .notFound)
            #expect(unknown.json["error"] as? String == "no route GET /api/v1/nothing")
            #expect(unknown.headers[.contentType]?.hasPrefix("application/json") == true)
            let badStatus = try await client.execute(
                uri: "/api/v1/runs?status=exploded", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(badStatus.status == .badRequest)
        }
    }

    @Test func theOpenAPIDocumentListsExactlyTheAPIRoutes() async throws {
        let fixture = try await ServerFixture()
        let routes = Set(
            fixture.server.router().routes.map { "\($0.method) \($0.path)" }.filter { $0.contains("/api/v1") }
                .map { $0.replacingOccurrences(of: "/api/v1", with: "") })
        let document = try await fixture.server.application().test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.json", method: .get).text
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any])
        #expect(object["openapi"] as? String == "3.1.0")
        let paths = try #require(object["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        #expect(documented == routes)
    }

    @Test func readinessReportsADisconnectedAdapter() async throws {
        let fixture = try await ServerFixture()
        let irc = IRCAdapter(settings: IRCSettings(host: "127.0.0.1", port: 1, channels: ["#ops"]))
        let server = ParleyHTTPServer(engine: fixture.engine, store: fixture.store, adapters: [irc])
        try await server.application().test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.json["irc"] as? String == "disconnected")
            #expect(ready.json["store"] as? String == "ok")
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.text.contains(#"parley_adapter_connected_state{adapter="irc"} 0"#))
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        let fixture = try await ServerFixture()
        let token = try await fixture.token("alice", scopes: ["commands"])
        try await fixture.server.application().test(.router) { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.json["store"] as? String == "ok")
            _ = try await post(client, "/api/v1/messages", token: token, body: #"{"text": "ping"}"#)
            _ = try await post(client, "/api/v1/messages", token: token, body: #"{"text": "nonsense"}"#)
            // A refused request is an error the metrics see (errors become JSON answers outside them).
            let refused = try await client.execute(
                uri: "/api/v1/messages", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"text": "ping"}"#))
            #expect(refused.status == .unauthorized)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            try PrometheusText.validate(metrics.text)
            #expect(metrics.text.contains(#"parley_commands_total{outcome="succeeded"} 1"#))
            #expect(metrics.text.contains(#"parley_commands_total{outcome="unknown"} 1"#))
            #expect(metrics.text.contains("parley_command_duration_seconds_count 2"))
            #expect(metrics.text.contains("parley_runs_in_flight_count 0"))
            #expect(metrics.text.contains(#"parley_adapter_connected_state{adapter="web"} 1"#))
            #expect(
                metrics.text.contains(
                    #"parley_http_requests_total{route="/api/v1/messages",method="POST",status="200"}"#))
            #expect(metrics.text.contains(#"parley_http_request_duration_seconds_count{route="/api/v1/messages""#))
            #expect(
                metrics.text.split(separator: "\n").contains {
                    $0.hasPrefix("parley_http_request_errors_total{") && $0.contains(#"status="401""#)
                }, "\(metrics.text)")
        }
    }
}

/// A strict reader of the Prometheus text exposition format, enough to catch malformed output.
enum PrometheusText {
    struct Malformed: Error, CustomStringConvertible {
        let line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    static func validate(_ text: String) throws {
        let sample = try NSRegularExpression(
            pattern:
                #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?([0-9.eE+-]+|NaN|\+Inf|-Inf)$"#
        )
        let comment = try NSRegularExpression(
            pattern:
                #"^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped))$"#
        )
        var samples = 0
        for line in text.split(separator: "\n").map(String.init) {
            let range = NSRange(line.startIndex..., in: line)
            if line.hasPrefix("#") {
                guard comment.firstMatch(in: line, range: range) != nil else { throw Malformed(line: line) }
            } else {
                guard sample.firstMatch(in: line, range: range) != nil else { throw Malformed(line: line) }
                samples += 1
            }
        }
        if samples == 0 { throw Malformed(line: "(no samples)") }
    }
}
