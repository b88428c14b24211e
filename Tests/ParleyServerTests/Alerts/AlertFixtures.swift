import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Synchronization

/// A chat adapter that keeps what it is asked to post and edit, as people in its rooms would see it.
final class RecordingAdapter: ChatAdapter {
    struct Message: Sendable {
        var id: String
        var room: String
        var thread: String?
        var text: String
        var edits: Int
    }

    let platform: String
    private let state = Mutex<[Message]>([])

    init(platform: String) {
        self.platform = platform
    }

    func run(engine: any MessageHandler) async throws { try await Task.sleep(for: .seconds(3600)) }

    var messages: [Message] { state.withLock { $0 } }

    func messages(in room: String) -> [Message] { messages.filter { $0.room == room } }

    func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        state.withLock { messages in
            let id = "m\(messages.count + 1)"
            messages.append(Message(id: id, room: room, thread: thread, text: reply.plainText, edits: 0))
            return id
        }
    }

    func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool {
        state.withLock { messages in
            guard let index = messages.firstIndex(where: { $0.id == reference }) else { return false }
            messages[index].text = reply.plainText
            messages[index].edits += 1
            return true
        }
    }
}

/// A server with alert sources configured, posting to a recording "mattermost" adapter.
struct AlertFixture {
    static let token = "am-token-7f3a"
    static let githubSecret = "It's a Secret to Everybody"
    static let uptimeSecret = "uptime-hmac-key"
    let engine: Engine
    let store: SQLiteStore
    let server: ParleyHTTPServer
    let room: RecordingAdapter

    static func yaml(extra: String = "") -> String {
        """
        server: { listen: "127.0.0.1:0" }
        adapters:
          mattermost: { url: "http://127.0.0.1:1", bot_token: mm-bot-token-unused, verification_tokens: [mm-verification-unused] }
        alerts:
          sources:
            alertmanager:
              token: "\(token)"
              basic: { user: am, password: "basic-pw" }
            github: { secret: "\(githubSecret)" }
            generic:
              uptime:
                secret: "\(uptimeSecret)"
                alertname: "{{check.name}}Down"
                status: "{{state}}"
                labels: { service: "{{check.service}}", severity: critical }
                annotations: { summary: "{{check.name}} is {{state}}" }
          routes:
            - match: { severity: critical }
              rooms: ["mattermost:pager"]
              template: "PAGE {{labels.alertname}} on {{labels.instance}}"
              continue: true
            - match: { team: "=~web|api" }
              rooms: ["mattermost:web"]
          default_rooms: ["mattermost:ops"]
          group_window: 10m
          room_rate: 20/min
        \(extra)
        users:
          alice: { roles: [ops], identities: ["local:alice"] }
          alertbot: { roles: [ops], identities: ["service:alertbot"] }
          intern: { identities: ["service:intern"] }
        roles:
          ops: { allow: ["*"] }
        """
    }

    /// A fixture of its own, or another replica of one: the same database (`directory`) and the same
    /// chat server (`room`, as both replicas would post to one Mattermost).
    init(extra: String = "", directory: String = temporaryDirectory(), room: RecordingAdapter? = nil) async throws {
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: Self.yaml(extra: extra), file: "test.yaml", baseDirectory: directory)
        store = try SQLiteStore(dataDirectory: config.dataDirectory)
        engine = Engine(config: config, store: store)
        _ = try await engine.start()
        self.room = room ?? RecordingAdapter(platform: "mattermost")
        server = ParleyHTTPServer(
            engine: engine, store: store, adapters: [self.room],
            logger: Logger(label: "test.alerts") { _ in SwiftLogNoOpLogHandler() })
    }

    /// An Alertmanager webhook body with these alerts: (labels, status).
    static func alertmanagerBody(_ alerts: [([String: String], String)]) -> String {
        let items = alerts.map { labels, status -> [String: Any] in
            [
                "status": status, "labels": labels, "annotations": ["summary": "something is wrong"],
                "startsAt": "2026-11-27T09:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
            ]
        }
        let body: [String: Any] = [
            "version": "4", "status": "firing", "receiver": "parley", "groupLabels": [:], "commonLabels": [:],
            "commonAnnotations": [:], "externalURL": "http://am", "alerts": items,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }
}

/// HMAC-SHA256 computed by Python's standard library, independently of Parley's code.
func independentHMAC(key: String, message: [UInt8]) async throws -> String {
    let script =
        "import hmac, hashlib, sys; print(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())"
    let (_, output) = try await runProgram("/usr/bin/env", ["python3", "-c", script, key], input: message)
    return output.trimmingCharacters(in: .whitespacesAndNewlines)
}
