import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Testing

/// A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) pointed at a real Parley.
@Suite struct AlertmanagerIntegrationTests {
    static func binary() -> String? {
        let path = ProcessInfo.processInfo.environment["PARLEY_TEST_ALERTMANAGER"] ?? "/usr/bin/prometheus-alertmanager"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func request(_ method: String, _ url: String, json: String? = nil) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        if method == "POST" { request.method = .POST }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4 << 20)))
    }

    @Test(.requires(.alertmanager)) func alertsFromAlertmanagerReachARoomAndSilencesFromChatReachAlertmanager()
        async throws
    {
        let binary = try TestService.alertmanager.require(Self.binary())
        let amPort = try Self.freePort()
        let am = "http://127.0.0.1:\(amPort)"
        let token = "am-\(UUID().uuidString)"
        let directory = temporaryDirectory()
        let yaml = """
            server: { listen: "127.0.0.1:0" }
            adapters:
              mattermost: { url: "http://127.0.0.1:1", bot_token: mm-bot-token-unused, verification_tokens: [mm-verification-unused] }
            alerts:
              alertmanager_url: "\(am)"
              sources:
                alertmanager: { token: "\(token)" }
              default_rooms: ["mattermost:ops"]
            users:
              alice: { roles: [sre], identities: ["local:alice"] }
              bob: { roles: [viewer], identities: ["local:bob"] }
            roles:
              sre: { allow: ["*"] }
              viewer: { allow: [alerts] }
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

        let amConfig = """
            route:
              receiver: parley
              group_by: [alertname]
              group_wait: 1s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: parley
                webhook_configs:
                  - url: "http://127.0.0.1:\(parley.port)/hooks/alertmanager"
                    send_resolved: true
                    http_config:
                      authorization: { type: Bearer, credentials: "\(token)" }
            """
        try amConfig.write(toFile: directory + "/alertmanager.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(directory)/alertmanager.yml", "--storage.path=\(directory)/am-data",
            "--web.listen-address=127.0.0.1:\(amPort)", "--cluster.listen-address=",
        ]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        // Not waited for: Alertmanager's graceful stop would hold one of Swift's few threads meanwhile.
        defer { process.terminate() }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? await Self.request("GET", "\(am)/-/ready").0) == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(ready, "Alertmanager did not become ready")

        let (posted, _) = try await Self.request(
            "POST", "\(am)/api/v2/alerts",
            json:
                #"[{"labels":{"alertname":"HighCPU","instance":"web1","severity":"critical"},"annotations":{"summary":"CPU at 97%"}}]"#
        )
        #expect(posted == 200)
        let deadline = ContinuousClock.now + .seconds(30)
        while !room.messages(in: "ops").contains(where: { $0.text.contains("HighCPU") }), ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        await server.alerts.settle()
        let message = try #require(room.messages(in: "ops").first { $0.text.contains("HighCPU") })
        #expect(message.text.contains("🔥 [firing] HighCPU (critical) on web1: CPU at 97%"))

        func say(_ text: String, as who: String) async -> String {
            await engine.handle(
                Inbound(sender: Identity(platform: "local", id: who), room: "ops", text: text, isDirect: true))?
                .reply.plainText ?? ""
        }
        // Bob may list alerts but not silence them.
        #expect(await say("alerts", as: "bob").contains("HighCPU"))
        #expect(await say("silence alertname=HighCPU for 1h", as: "bob").hasPrefix("denied"))
        let answer = await say("silence alertname=HighCPU for 1h checking the new build", as: "alice")
        #expect(answer.contains("silenced alertname=HighCPU"), "\(answer)")
        let idLine = answer.split(separator: "\n").first { $0.hasPrefix("silence:") }
        let id = try #require(idLine?.split(separator: " ").last.map(String.init))
        let (status, silences) = try await Self.request("GET", "\(am)/api/v2/silences")
        #expect(status == 200)
        let listed = try JSONSerialization.jsonObject(with: Data(silences.utf8)) as? [[String: Any]] ?? []
        let created = try #require(listed.first { $0["id"] as? String == id })
        #expect((created["status"] as? [String: Any])?["state"] as? String == "active")
        let matchers = created["matchers"] as? [[String: Any]] ?? []
        #expect(matchers.first?["name"] as? String == "alertname")
        #expect(matchers.first?["value"] as? String == "HighCPU")
        #expect(created["comment"] as? String == "checking the new build")
        #expect((created["createdBy"] as? String)?.hasPrefix("alice") == true)
        #expect(await say("silences", as: "alice").contains(id))
        let expired = await say("unsilence \(id)", as: "alice")
        #expect(expired.contains("expired"), "\(expired)")
        let (_, after) = try await Self.request("GET", "\(am)/api/v2/silence/\(id)")
        #expect(after.contains(#""state":"expired""#))
        // Every step is in the audit log.
        let audited = try await store.auditEntries(AuditQuery(limit: 200)).map(\.command)
        #expect(audited.contains("silence") && audited.contains("unsilence") && audited.contains("alert"))
    }
}

extension TestService {
    /// Prometheus Alertmanager.
    static let alertmanager = TestService(
        "prometheus-alertmanager", hint: "scripts/test installs it (or set PARLEY_TEST_ALERTMANAGER)",
        isAvailable: { AlertmanagerIntegrationTests.binary() != nil })
}
