import Foundation
import Hummingbird
import HummingbirdTesting
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// A local server that plays a CI system and a Prometheus, strictly: wrong method, path, auth or
/// body is answered the way the real ones would (4xx with a reason).
final class FakeCI: Sendable {
    let calls = Mutex<[String: Int]>([:])
    let bodies = Mutex<[String]>([])

    func count(_ name: String) -> Int { calls.withLock { $0[name] ?? 0 } }

    private func hit(_ name: String) -> Int {
        calls.withLock { calls in
            calls[name, default: 0] += 1
            return calls[name]!
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("repos/acme/app/actions/workflows/deploy.yml/dispatches") { request, _ -> Response in
            _ = self.hit("dispatch")
            guard request.headers[.authorization] == "Bearer ghp-test-token" else {
                return Response(status: .unauthorized)
            }
            guard request.headers[.contentType] == "application/json" else {
                return Response(status: .unsupportedMediaType)
            }
            let body = String(buffer: try await request.body.collect(upTo: 10_000))
            self.bodies.withLock { $0.append(body) }
            guard body == #"{"inputs":{"env":"prod","version":"1.2"},"ref":"main"}"# else {
                return Response(status: .unprocessableContent)
            }
            return Response(status: .noContent)
        }
        router.get("flaky") { _, _ -> Response in
            let attempt = self.hit("flaky")
            guard attempt >= 3 else { return Response(status: .serviceUnavailable) }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: #"{"pipeline": {"id": 42, "web_url": "https://ci.example/p/42", "ok": true}}"#)))
        }
        router.get("bad") { _, _ -> Response in
            _ = self.hit("bad")
            return Response(
                status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: #"{"message": "unknown ref"}"#)))
        }
        router.post("job/deploy/buildWithParameters") { request, _ -> Response in
            _ = self.hit("jenkins")
            let body = String(buffer: try await request.body.collect(upTo: 10_000))
            guard request.headers[.contentType] == "application/x-www-form-urlencoded",
                body == "ENV=prod&NOTE=a%20b%26c"
            else { return Response(status: .badRequest) }
            return Response(status: .created)
        }
        router.get("api/v1/query") { request, _ -> Response in
            guard request.uri.queryParameters["query"] == "up" else { return Response(status: .badRequest) }
            let json =
                #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"api:9090"},"value":[1.7e9,"1"]},{"metric":{"instance":"db:9187"},"value":[1.7e9,"0"]}]}}"#
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        return router
    }
}

@Suite struct HTTPActionTests {
    func yaml(port: Int) -> String {
        """
        users: { alice: { roles: [ops], identities: ["local:alice"] } }
        roles: { ops: { allow: ["*"] } }
        secrets: { github: env:GITHUB_TOKEN_TEST }
        commands:
          ship:
            usage: "ship {env:choice(staging,prod)} {version}"
            action:
              http:
                method: POST
                url: "http://127.0.0.1:\(port)/repos/acme/app/actions/workflows/deploy.yml/dispatches"
                headers: { Authorization: "Bearer {{secrets.github}}" }
                json: { ref: main, inputs: { env: "{{env}}", version: "{{version}}" } }
            reply: "Workflow dispatched for {{env}} (HTTP {{outputs.status}})"
          pipeline:
            usage: pipeline
            action:
              http: { url: "http://127.0.0.1:\(port)/flaky", retries: 3, backoff: 10ms, extract: { id: /pipeline/id, url: /pipeline/web_url } }
            reply: "Pipeline {{outputs.id}}: {{outputs.url}}"
          badref:
            usage: badref
            action:
              http: { url: "http://127.0.0.1:\(port)/bad", retries: 3, backoff: 10ms }
          jenkins:
            usage: "jenkins {env} {note:text}"
            action:
              http:
                method: post
                url: "http://127.0.0.1:\(port)/job/deploy/buildWithParameters"
                form: { ENV: "{{env}}", NOTE: "{{note}}" }
          up:
            usage: up
            action:
              http:
                url: "http://127.0.0.1:\(port)/api/v1/query?query=up"
                table: { rows: /data/result, columns: { instance: /metric/instance, up: /value/1 } }
          down:
            usage: down
            action: { http: { url: "http://127.0.0.1:1/nothing", retries: 1, backoff: 10ms, timeout: 2s } }
        """
    }

    func engine(port: Int) throws -> (Engine, SQLiteStore) {
        let directory = temporaryDirectory()
        let environment = ["GITHUB_TOKEN_TEST": "ghp-test-token"]
        let config = try ConfigLoader(builtins: Builtins.declarations, environment: environment)
            .load(yaml: yaml(port: port), file: "test.yaml", baseDirectory: directory)
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        return (Engine(config: config, store: store, environment: environment), store)
    }

    func withFakeCI(_ body: @escaping @Sendable (FakeCI, Int) async throws -> Void) async throws {
        let ci = FakeCI()
        let app = Application(router: ci.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(ci, try #require(client.port)) }
    }

    @Test func aWorkflowDispatchSendsTheRenderedAuthenticatedJSON() async throws {
        try await withFakeCI { ci, port in
            let (engine, store) = try engine(port: port)
            let response = try #require(await engine.handle(say("ship prod 1.2")))
            #expect(response.outcome == .succeeded, "\(response.reply.plainText) \(ci.bodies.withLock { $0 })")
            #expect(response.reply.plainText == "Workflow dispatched for prod (HTTP 204)")
            #expect(ci.count("dispatch") == 1)
            let audit = try await store.auditEntries(AuditQuery())
            #expect(!audit.contains { "\($0)".contains("ghp-test-token") })
        }
    }

    @Test func serverErrorsAreRetriedWithBackoffAndFieldsExtracted() async throws {
        try await withFakeCI { ci, port in
            let (engine, _) = try engine(port: port)
            let response = try #require(await engine.handle(say("pipeline")))
            #expect(response.outcome == .succeeded)
            #expect(response.reply.plainText == "Pipeline 42: https://ci.example/p/42")
            #expect(ci.count("flaky") == 3)
        }
    }

    @Test func clientErrorsAreNotRetried() async throws {
        try await withFakeCI { ci, port in
            let (engine, store) = try engine(port: port)
            let response = try #require(await engine.handle(say("badref")))
            #expect(response.outcome == .failed)
            #expect(ci.count("bad") == 1)
            #expect(response.reply.plainText.contains("unknown ref"))
            #expect(try await store.requireRun(response.runID).reason == "HTTP 400 (expected 2xx)")
        }
    }

    @Test func formBodiesAreEncoded() async throws {
        try await withFakeCI { ci, port in
            let (engine, _) = try engine(port: port)
            let response = try #require(await engine.handle(say("jenkins prod a b&c")))
            #expect(response.outcome == .succeeded, "\(response.reply.plainText)")
            #expect(ci.count("jenkins") == 1)
        }
    }

    @Test func aJSONArrayBecomesATable() async throws {
        try await withFakeCI { _, port in
            let (engine, _) = try engine(port: port)
            let response = try #require(await engine.handle(say("up")))
            #expect(
                response.reply.blocks.first
                    == .table(header: ["instance", "up"], rows: [["api:9090", "1"], ["db:9187", "0"]]))
        }
    }

    @Test func anUnreachableServiceFailsWithTheReasonAfterItsRetries() async throws {
        let (engine, _) = try engine(port: 9)
        let response = try #require(await engine.handle(say("down")))
        #expect(response.outcome == .failed)
        #expect(response.reply.plainText.contains("GET http://127.0.0.1:1/nothing failed after 2 attempts"))
    }
}
