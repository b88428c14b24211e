import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Synchronization
import Testing

/// An adapter that fails its first runs, then stays up.
final class FlakyAdapter: ChatAdapter {
    let platform = "flaky"
    let runs = Mutex(0)
    let state = ConnectionState()
    var isConnected: Bool { state.isConnected }

    func run(engine: any MessageHandler) async throws {
        let run = runs.withLock { count -> Int in
            count += 1
            return count
        }
        if run <= 2 { throw AdapterError.refused(platform: platform, reason: "boom \(run)") }
        state.set(true)
        defer { state.set(false) }
        try await Task.sleep(for: .seconds(3600))
    }
}

@Suite struct AdapterIsolationTests {
    @Test func adaptersRunTogetherAndOneThatFailsIsRetriedAndReportedWithoutHarmingTheOthers() async throws {
        let slack = FakeSlack(token: SlackHarness.token)
        let slackAPI = try await LiveServer(router: slack.router())
        let mattermost = try await MattermostHarness()
        defer {
            slackAPI.stop()
            mattermost.stop()
        }
        let yaml = """
            adapters:
              slack:
                signing_secret: "\(SlackHarness.secret)"
                bot_token: "\(SlackHarness.token)"
                api_url: "http://127.0.0.1:\(slackAPI.port)/api"
            \(mattermost.adapterYAML)
              irc: { server: "127.0.0.1:1", channels: ["#ops"] }
            server: { listen: "127.0.0.1:0" }
            users:
              alice:
                roles: [ops]
                identities: ["slack:UALICE", "mattermost:\(MattermostTests.alice)"]
            roles:
              ops: { allow: ["*"] }
            """
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        let store = try SQLiteStore(dataDirectory: config.dataDirectory)
        let engine = Engine(config: config, store: store)
        _ = try await engine.start()
        let flaky = FlakyAdapter()
        let adapters: [any ChatAdapter] = [
            try SlackAdapter(settings: try #require(config.slack)),
            try MattermostAdapter(settings: try #require(config.mattermost)),
            IRCAdapter(settings: try #require(config.irc)), flaky,
        ]
        let server = ParleyHTTPServer(
            engine: engine, store: store, adapters: adapters,
            logger: Logger(label: "test.isolation") { _ in SwiftLogNoOpLogHandler() })
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let running = Task { try await server.run(gracefulShutdownSignals: []) { portSink.yield($0) } }
        defer { running.cancel() }
        var port = 0
        for await found in ports {
            port = found
            break
        }

        func get(_ path: String) async throws -> (Int, String) {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(5))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }

        // The flaky adapter fails twice and is started again with backoff (1 s, then 2 s).
        let deadline = ContinuousClock.now + .seconds(15)
        while !(flaky.isConnected && adapters[0].isConnected && adapters[1].isConnected),
            ContinuousClock.now < deadline
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(flaky.runs.withLock { $0 } == 3)
        #expect(flaky.isConnected)

        let (status, body) = try await get("/readyz")
        let report = JSON(parsing: Array(body.utf8)) ?? .null
        #expect(status == 503)
        #expect(report["irc"].string == "disconnected")
        #expect(report["slack"].string == "connected")
        #expect(report["mattermost"].string == "connected")
        #expect(report["flaky"].string == "connected")
        let (_, metrics) = try await get("/metrics")
        #expect(metrics.contains(#"parley_adapter_connected_state{adapter="irc"} 0"#))
        #expect(metrics.contains(#"parley_adapter_connected_state{adapter="slack"} 1"#))

        // With IRC down, Slack and Mattermost still answer.
        let event = SlackHarness.messageEvent(user: "UALICE", channel: "C1", text: "!ping", ts: "1.000100")
        let stamp = String(Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/slack/events")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Slack-Request-Timestamp", value: stamp)
        request.headers.add(
            name: "X-Slack-Signature",
            value: SlackSignature(secret: SlackHarness.secret).signature(timestamp: stamp, body: Array(event.utf8)))
        request.body = .bytes(ByteBuffer(string: event))
        #expect(try await HTTPClient.shared.execute(request, timeout: .seconds(5)).status.code == 200)

        let postID = mattermost.fake.personPosted(
            channel: MattermostTests.channel, user: MattermostTests.alice, message: "!whoami")
        var hook = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mattermost/webhook")
        hook.method = .POST
        hook.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        hook.body = .bytes(
            ByteBuffer(
                string:
                    "token=\(MattermostHarness.webhookToken)&channel_id=\(MattermostTests.channel)&user_id=\(MattermostTests.alice)&post_id=\(postID)&text=%21whoami"
            ))
        #expect(try await HTTPClient.shared.execute(hook, timeout: .seconds(5)).status.code == 200)

        let answered = ContinuousClock.now + .seconds(10)
        while !(slack.messages.contains { $0.shown.lowercased().contains("pong") }
            && mattermost.fake.botPosts.contains { $0.message.contains("alice") }), ContinuousClock.now < answered
        {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(slack.messages.contains { $0.shown.lowercased().contains("pong") })
        #expect(mattermost.fake.botPosts.contains { $0.message.contains("alice") })
    }
}
