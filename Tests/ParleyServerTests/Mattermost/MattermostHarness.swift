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

/// A Parley server with the Mattermost adapter, pointed at a fake Mattermost; people speak through
/// outgoing webhooks, slash commands and button callbacks, as Mattermost would send them.
final class MattermostHarness: Sendable {
    static let botToken = "9xuqwrwgstrb3mzrxb83nb357a"
    static let commandToken = "zc5szbpdsfgz7fzdqcagh1kwyw"
    static let webhookToken = "ykmp9s4gkbdjzkm7b3jmtsy1ce"
    let fake = FakeMattermost(token: MattermostHarness.botToken)
    let fakeServer: LiveServer
    private let running = Mutex<
        (engine: Engine, adapter: MattermostAdapter, parley: LiveServer, task: Task<Void, any Error>)?
    >(nil)

    var adapterYAML: String {
        """
          mattermost:
            url: "http://127.0.0.1:\(fakeServer.port)/"
            bot_token: "\(Self.botToken)"
            verification_tokens: ["\(Self.commandToken)", "\(Self.webhookToken)"]
        """
    }

    init() async throws {
        fakeServer = try await LiveServer(router: fake.router())
    }

    func start(engine: Engine) async throws {
        _ = try await engine.start()
        let adapter = try MattermostAdapter(settings: try #require(engine.config.mattermost))
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
    var port: Int { running.withLock { $0?.parley.port ?? 0 } }

    func stop() {
        running.withLock { running in
            running?.task.cancel()
            running?.parley.stop()
        }
        fakeServer.stop()
    }

    @discardableResult
    func send(_ path: String, form: [String: String]) async throws -> (status: Int, body: String) {
        let body = form.map { "\($0.key)=\(FormBody.escape($0.value))" }.joined(separator: "&")
        return try await send(path, body: body, contentType: "application/x-www-form-urlencoded")
    }

    @discardableResult
    func send(_ path: String, body: String, contentType: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: answer))
    }

    /// A person posts in a channel; Mattermost stores the post and calls the outgoing webhook.
    @discardableResult
    func say(_ text: String, user: String, channel: String, root: String? = nil, token: String = webhookToken)
        async throws -> (postID: String, status: Int)
    {
        let postID = fake.personPosted(channel: channel, user: user, message: text, root: root)
        let response = try await send(
            "/mattermost/webhook",
            form: [
                "token": token, "team_id": "teamid0000000000000000000a", "team_domain": "acme",
                "channel_id": channel, "channel_name": "ops", "timestamp": "1700000000000", "user_id": user,
                "user_name": user, "post_id": postID, "text": text, "trigger_word": "",
            ])
        return (postID, response.status)
    }

    /// A person presses a button on a post.
    func click(_ button: JSON, post: FakeMattermost.Post, user: String) async throws -> (status: Int, body: String) {
        let payload: JSON = [
            "user_id": .string(user), "user_name": .string(user), "channel_id": .string(post.channel),
            "team_id": "teamid0000000000000000000a", "post_id": .string(post.id),
            "trigger_id": .string(FakeMattermost.newID()), "type": "", "context": button["integration"]["context"],
        ]
        return try await send(
            "/mattermost/actions", body: String(decoding: payload.encoded, as: UTF8.self),
            contentType: "application/json")
    }

    func waitForPost(within: Duration = .seconds(15), _ matches: (FakeMattermost.Post) -> Bool) async throws
        -> FakeMattermost.Post?
    {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if let found = fake.botPosts.first(where: matches) { return found }
            try await Task.sleep(for: .milliseconds(30))
        }
        return fake.botPosts.first(where: matches)
    }
}
