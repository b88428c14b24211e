import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Synchronization
import Testing

/// Signs requests with Slack's official Python SDK (`slack_sdk.signature.SignatureVerifier`), run from
/// the test venv that `scripts/test` prepares (`PARLEY_TEST_PYTHON`).
enum SlackSDK {
    static let script = """
        import sys
        from slack_sdk.signature import SignatureVerifier
        body = sys.stdin.buffer.read().decode("utf-8")
        print(SignatureVerifier(sys.argv[1]).generate_signature(timestamp=sys.argv[2], body=body))
        """

    /// The Python with slack_sdk, or nil.
    static func python() -> String? {
        if let python = ProcessInfo.processInfo.environment["PARLEY_TEST_PYTHON"],
            FileManager.default.isExecutableFile(atPath: python)
        {
            return python
        }
        return nil
    }

    /// `v0=…` for a body at a timestamp, as the SDK computes it.
    static func sign(python: String, secret: String, timestamp: String, body: [UInt8]) async throws -> String {
        let (status, output) = try await runProgram(python, ["-c", script, secret, timestamp], input: body)
        guard status == 0 else { throw SlackSDKError() }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct SlackSDKError: Error {}
}

/// A Parley server with the Slack adapter, pointed at a fake Slack Web API; people speak by sending
/// requests signed with Slack's SDK, as Slack would.
final class SlackHarness: Sendable {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let token = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
    let python: String
    let fake: FakeSlack
    let fakeServer: LiveServer
    private let running = Mutex<
        (engine: Engine, adapter: SlackAdapter, parley: LiveServer, task: Task<Void, any Error>)?
    >(nil)

    /// The `adapters:` entry that points Slack at the fake.
    var adapterYAML: String {
        """
          slack:
            signing_secret: "\(Self.secret)"
            bot_token: "\(Self.token)"
            api_url: "http://127.0.0.1:\(fakeServer.port)/api"
        """
    }

    /// Starts the fake Slack.
    init(python: String, users: [String: String] = [:]) async throws {
        self.python = python
        fake = FakeSlack(token: Self.token, users: users)
        fakeServer = try await LiveServer(router: fake.router())
    }

    /// Runs `body` against a fake Slack and a Parley configured with `yaml` plus the adapter's entry;
    /// the test needs `.requires(.slackSDK)`, and fails without the SDK (no `PARLEY_TEST_PYTHON`).
    static func with(
        yaml: String, users: [String: String], _ body: (SlackHarness) async throws -> Void
    ) async throws {
        let python = try TestService.slackSDK.require(SlackSDK.python())
        let harness = try await SlackHarness(python: python, users: users)
        defer { harness.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "adapters:\n\(harness.adapterYAML)\n" + yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        try await harness.start(
            engine: Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory)))
        try await body(harness)
    }

    /// Like `with(yaml:users:_:)`, for tests about what Parley does rather than about Slack's signatures:
    /// requests are signed by Parley's own `SlackSignature` (which the SDK tests check against the
    /// SDK), so they run without the SDK.
    static func withOwnSigner(
        yaml: String, users: [String: String], _ body: (SlackHarness) async throws -> Void
    ) async throws {
        let harness = try await SlackHarness(python: "", users: users)
        defer { harness.stop() }
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: "adapters:\n\(harness.adapterYAML)\n" + yaml, file: "test.yaml", baseDirectory: temporaryDirectory())
        try await harness.start(
            engine: Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory)))
        try await body(harness)
    }

    /// Starts the adapter over an engine configured with `adapterYAML`, and Parley's server for it.
    func start(engine: Engine) async throws {
        _ = try await engine.start()
        let adapter = try SlackAdapter(settings: try #require(engine.config.slack))
        let server = ParleyHTTPServer(
            engine: engine, store: try SQLiteStore(dataDirectory: engine.config.dataDirectory), adapters: [adapter],
            logger: Logger(label: "test.parley") { _ in SwiftLogNoOpLogHandler() })
        let parley = try await LiveServer { onRunning in server.application(onRunning: onRunning) }
        let task = Task { try await adapter.run(engine: engine) }
        running.withLock { $0 = (engine, adapter, parley, task) }
    }

    /// Waits until the adapter has finished every command it acknowledged.
    func settle() async {
        await running.withLock { $0?.adapter }?.settle()
    }

    var engine: Engine { running.withLock { $0!.engine } }
    var parleyPort: Int { running.withLock { $0?.parley.port ?? 0 } }

    func stop() {
        running.withLock { running in
            running?.task.cancel()
            running?.parley.stop()
        }
        fakeServer.stop()
    }

    /// Sends a request to Parley as Slack would, signed by the SDK (at `timestamp`, now by default).
    @discardableResult
    func send(
        _ path: String, body: String, contentType: String = "application/json", timestamp: Int? = nil,
        rawTimestamp: String? = nil, signature: String? = nil, headers: [String: String] = [:]
    ) async throws -> (status: Int, body: String) {
        let stamp = rawTimestamp ?? String(timestamp ?? Int(Date().timeIntervalSince1970))
        let bytes = Array(body.utf8)
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(parleyPort)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "X-Slack-Request-Timestamp", value: stamp)
        let signed: String
        if let signature {
            signed = signature
        } else if python.isEmpty {
            signed = SlackSignature(secret: Self.secret).signature(timestamp: stamp, body: bytes)
        } else {
            signed = try await SlackSDK.sign(python: python, secret: Self.secret, timestamp: stamp, body: bytes)
        }
        request.headers.add(name: "X-Slack-Signature", value: signed)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: answer))
    }

    /// An Events API callback for a message.
    static func messageEvent(
        user: String, channel: String, text: String, ts: String, thread: String? = nil, type: String = "message",
        channelType: String = "channel", eventID: String? = nil
    ) -> String {
        var event: [String: JSON] = [
            "type": .string(type), "user": .string(user), "channel": .string(channel), "text": .string(text),
            "ts": .string(ts), "channel_type": .string(channelType), "event_ts": .string(ts),
        ]
        if let thread { event["thread_ts"] = .string(thread) }
        let payload: JSON = [
            "token": "legacy-verification-token", "team_id": "T061EG9R6", "api_app_id": "A0PNCHHK2",
            "type": "event_callback", "event_id": .string(eventID ?? "Ev\(ts.replacingOccurrences(of: ".", with: ""))"),
            "event_time": .number(Date().timeIntervalSince1970.rounded()), "event": .object(event),
        ]
        return String(decoding: payload.encoded, as: UTF8.self)
    }

    /// Waits until a posted message matches.
    func waitForMessage(
        within: Duration = .seconds(15), _ matches: (FakeSlack.Posted) -> Bool
    ) async throws -> FakeSlack.Posted? {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let found = fake.messages.first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(30))
        }
        return fake.messages.first(where: matches)
    }
}

extension TestService {
    /// A Python with slack_sdk.
    static let slackSDK = TestService(
        "slack_sdk", hint: "scripts/test prepares a venv with slack-sdk and sets PARLEY_TEST_PYTHON",
        isAvailable: { SlackSDK.python() != nil })
}
