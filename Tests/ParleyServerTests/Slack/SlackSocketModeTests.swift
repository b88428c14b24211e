import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// Slack's Socket Mode end: sends `hello`, then the envelopes a test queues; records acknowledgements.
final class FakeSocketMode: Sendable {
    let queue: AsyncStream<String>
    let continuation: AsyncStream<String>.Continuation
    let acks = Mutex<[JSON]>([])
    let connections = Mutex(0)

    init() {
        (queue, continuation) = AsyncStream.makeStream()
    }

    func send(_ envelope: JSON) { continuation.yield(String(decoding: envelope.encoded, as: UTF8.self)) }

    func start() async throws -> LiveServer {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("link") { _, _ in
            .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            self.connections.withLock { $0 += 1 }
            try await outbound.write(
                .text(#"{"type":"hello","num_connections":1,"connection_info":{"app_id":"A0PNCHHK2"}}"#))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        guard case .text(let text) = message, let ack = JSON(parsing: Array(text.utf8)) else {
                            continue
                        }
                        self.acks.withLock { $0.append(ack) }
                    }
                }
                group.addTask {
                    for await text in self.queue {
                        try await outbound.write(.text(text))
                        if text.contains(#""type":"disconnect""#) { return }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
        return try await LiveServer { onRunning in
            Application(
                router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: router),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "test.socket") { _ in SwiftLogNoOpLogHandler() })
        }
    }
}

@Suite(.serialized) struct SlackSocketModeTests {
    @Test func eventsAndSlashCommandsArriveOverTheSocketAreAcknowledgedAndSurviveAReconnect() async throws {
        let fake = FakeSlack(token: SlackHarness.token)
        let api = try await LiveServer(router: fake.router())
        let socket = FakeSocketMode()
        let link = try await socket.start()
        defer {
            api.stop()
            link.stop()
        }
        fake.socketURL.withLock { $0 = "ws://127.0.0.1:\(link.port)/link" }
        let yaml = """
            adapters:
              slack:
                socket_mode: true
                app_token: "\(FakeSlack.appToken)"
                bot_token: "\(SlackHarness.token)"
                api_url: "http://127.0.0.1:\(api.port)/api"
            users:
              alice: { roles: [ops], identities: ["slack:UALICE"] }
            roles:
              ops: { allow: ["*"] }
            commands:
              counter:
                usage: counter
                action: { exec: ["sh", "-c", "echo run >> counted; wc -l < counted"] }
            """
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        let engine = Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
        _ = try await engine.start()
        let adapter = try SlackAdapter(settings: try #require(config.slack))
        // Over HTTP the adapter has nothing to check signatures with, so its routes refuse everything.
        let route = try #require(adapter.routes.first { $0.path == "/slack/events" })
        let refused = await route.handle(
            PlatformRequest(method: "POST", path: "/slack/events", headers: [:], body: Array("{}".utf8)), engine)
        #expect(refused.status == 401)

        let task = Task { try await adapter.run(engine: engine) }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !adapter.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(adapter.isConnected)

        func event(_ id: String, retry: Int = 0) -> JSON {
            [
                "envelope_id": .string(id), "type": "events_api", "accepts_response_payload": false,
                "retry_attempt": .number(Double(retry)), "retry_reason": retry > 0 ? "timeout" : "",
                "payload": [
                    "type": "event_callback", "event_id": "Ev01",
                    "event": [
                        "type": "message", "user": "UALICE", "channel": "C1", "text": "!counter", "ts": "1.000100",
                        "channel_type": "channel",
                    ],
                ],
            ]
        }
        socket.send(event("env-1"))
        socket.send(event("env-2", retry: 1))
        let harnessWait = ContinuousClock.now + .seconds(30)
        while !fake.messages.contains(where: { $0.text.hasPrefix("1\n") }), ContinuousClock.now < harnessWait {
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(fake.messages.contains { $0.text.hasPrefix("1\n") })
        // An envelope is acknowledged once its work has started, so after both acknowledgements,
        // settling waits for everything the two envelopes did.
        func acked() -> [String] { socket.acks.withLock { $0.compactMap { $0["envelope_id"].string } } }
        while !(acked().contains("env-1") && acked().contains("env-2")), ContinuousClock.now < harnessWait {
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(acked().contains("env-1") && acked().contains("env-2"))
        await adapter.settle()
        #expect(!fake.messages.contains { $0.text.hasPrefix("2\n") }, "a retried envelope ran again")

        socket.send([
            "envelope_id": "env-3", "type": "slash_commands", "accepts_response_payload": true,
            "payload": [
                "command": "/parley", "text": "ping", "user_id": "UALICE", "channel_id": "C1", "trigger_id": "t1",
            ],
        ])
        let slashWait = ContinuousClock.now + .seconds(30)
        while !socket.acks.withLock({ $0.contains { $0["envelope_id"].string == "env-3" } }),
            ContinuousClock.now < slashWait
        {
            try await Task.sleep(for: .milliseconds(20))
        }
        let slashAck = socket.acks.withLock { $0.first { $0["envelope_id"].string == "env-3" } }
        #expect(slashAck?["payload"]["response_type"].string == "in_channel")

        // Slack asks for a fresh connection: the adapter opens a new one and goes on.
        socket.send(["type": "disconnect", "reason": "refresh_requested"])
        let reconnectWait = ContinuousClock.now + .seconds(15)
        while socket.connections.withLock({ $0 }) < 2, ContinuousClock.now < reconnectWait {
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(socket.connections.withLock { $0 } == 2)
        socket.send([
            "envelope_id": "env-4", "type": "events_api",
            "payload": [
                "type": "event_callback", "event_id": "Ev02",
                "event": [
                    "type": "message", "user": "UALICE", "channel": "C1", "text": "!counter", "ts": "1.000200",
                    "channel_type": "channel",
                ],
            ],
        ])
        let againWait = ContinuousClock.now + .seconds(30)
        while !fake.messages.contains(where: { $0.text.hasPrefix("2\n") }), ContinuousClock.now < againWait {
            try await Task.sleep(for: .milliseconds(30))
        }
        #expect(fake.messages.contains { $0.text.hasPrefix("2\n") })
    }
}
