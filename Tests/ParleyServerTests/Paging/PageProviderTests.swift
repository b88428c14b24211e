import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// Opsgenie and the signed webhook as page targets, against a strict Opsgenie fake and a receiver
/// that checks the signature with Python's standard library.
@Suite struct PageProviderTests {
    @Test func opsgenieAndTheWebhookAreToldOfAPageItsAckAndItsResolution() async throws {
        let opsgenie = FakeOpsgenie(apiKey: "og-key-1234")
        let ogServer = try await LiveServer { onRunning in
            Application(
                router: opsgenie.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }
        defer { ogServer.stop() }
        let received = Mutex<[(stamp: String, signature: String, body: String)]>([])
        let hookRouter = Router()
        hookRouter.post("/hook") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let stamp = request.headers[HTTPField.Name("X-Parley-Timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("X-Parley-Signature")!] ?? ""
            received.withLock { $0.append((stamp, signature, body)) }
            return Response(status: .noContent)
        }
        let hookServer = try await LiveServer { onRunning in
            Application(
                router: hookRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { await onRunning($0.localAddress?.port ?? 0) })
        }
        defer { hookServer.stop() }
        let yaml = """
            users:
              alice: { roles: [sre], identities: ["local:alice"] }
            roles:
              sre: { allow: ["*"] }
            paging:
              opsgenie: { api_key: env:OG_KEY, url: "http://127.0.0.1:\(ogServer.port)" }
              webhook: { url: "http://127.0.0.1:\(hookServer.port)/hook", secret: env:HOOK_SECRET }
              policies:
                db:
                  levels:
                    - { notify: [opsgenie, webhook], after: 5m }
            """
        let config = try ConfigLoader(
            builtins: Builtins.declarations, environment: ["OG_KEY": "og-key-1234", "HOOK_SECRET": "hook-s3cret"]
        )
        .load(yaml: yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(
            config: config, store: store, environment: ["OG_KEY": "og-key-1234", "HOOK_SECRET": "hook-s3cret"])
        opsgenie.rateLimit(1)
        let page = try await engine.page(key: "alert:db1", policy: "db", summary: "db primary down", room: nil)
        #expect(page.level == 0)
        // The rate limit is waited out and the same alias sent again: one alert.
        #expect(opsgenie.calls.map(\.status) == [429, 202])
        #expect(Set(opsgenie.calls.map { $0.body["alias"].string }) == ["alert:db1"])
        #expect(opsgenie.calls.last?.body["message"].string == "db primary down")
        #expect(opsgenie.alerts == ["alert:db1": "open"])
        _ = try await engine.settlePage(key: "alert:db1", status: .acknowledged, by: "alice")
        #expect(opsgenie.alerts == ["alert:db1": "acknowledged"])
        #expect(opsgenie.calls.last?.body["user"].string == "alice")

        let hooks = received.withLock { $0 }
        #expect(hooks.count == 2)
        let script =
            "import hmac,hashlib,sys; print('sha256=' + hmac.new(sys.argv[1].encode(), (sys.argv[2] + '.').encode() + sys.stdin.buffer.read(), hashlib.sha256).hexdigest())"
        for hook in hooks {
            let (status, output) = try await runProgram(
                "/usr/bin/env", ["python3", "-c", script, "hook-s3cret", hook.stamp], input: Array(hook.body.utf8))
            #expect(status == 0)
            #expect(
                hook.signature == output.trimmingCharacters(in: .whitespacesAndNewlines), "the signature checks out")
        }
        let events = hooks.compactMap { JSON(parsing: Array($0.body.utf8))?["event"].string }
        #expect(events == ["page", "acknowledge"])
        // The secrets never reach a page's text or the store.
        #expect(try await store.pages(openOnly: false, limit: 5).allSatisfy { !$0.summary.contains("og-key") })
    }
}
