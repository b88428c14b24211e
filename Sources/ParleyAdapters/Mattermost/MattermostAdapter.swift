import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import ParleyCore
import ParleyEngine

/// The Mattermost adapter: slash commands and outgoing webhooks arrive as HTTP requests carrying a
/// verification token; replies are posted and edited through REST v4 with a bot token; approvals
/// come with interactive buttons whose callbacks are bound to their command by an HMAC.
public struct MattermostAdapter: HTTPReceivingAdapter {
    public let platform = "mattermost"
    let settings: MattermostSettings
    let client: MattermostClient
    /// The verification tokens' digests.
    let tokens: [SHA256Digest]
    let actionKey: SymmetricKey
    let logger: Logger
    let state = ConnectionState()
    let me = SharedValue<String?>(nil)
    /// The posts asking for gates still open, to show each one's outcome in place of its buttons.
    let gatePosts = GateMessages<MattermostPlacedPost>()
    /// Commands acknowledged and still running (`settle()`).
    let work = InFlightWork()

    /// Creates an adapter; fails when a credential cannot be read.
    public init(
        settings: MattermostSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        http: HTTPClient = .shared, logger: Logger = Logger(label: "parley.mattermost")
    ) throws {
        self.settings = settings
        self.logger = logger
        let token = try settings.botToken.resolve(environment: environment).get()
        tokens = try settings.verificationTokens.map {
            SHA256.hash(data: Array(try $0.resolve(environment: environment).get().utf8))
        }
        actionKey = SymmetricKey(data: SHA256.hash(data: Data(("parley-mattermost-actions:" + token).utf8)))
        client = MattermostClient(baseURL: settings.url, token: token, http: http, logger: logger)
    }

    public var isConnected: Bool { state.isConnected }

    /// Mattermost reaches Parley by HTTP (outgoing webhooks, slash commands, buttons): every replica serves it.
    public var needsLeader: Bool { false }

    public var routes: [PlatformRoute] {
        [
            PlatformRoute(path: "/mattermost/command") { request, engine in await command(request, engine: engine) },
            PlatformRoute(path: "/mattermost/webhook") { request, engine in await webhook(request, engine: engine) },
            PlatformRoute(path: "/mattermost/actions") { request, engine in await action(request, engine: engine) },
        ]
    }

    /// Checks the bot token (`users/me`) every few minutes; requests arrive over HTTP.
    public func run(engine: any MessageHandler) async throws {
        await state.keepChecking("Mattermost users/me", logger: logger) {
            let answer = try await client.request(.GET, "/users/me")
            me.set(answer["id"].string)
            return "connected to Mattermost as \(answer["username"].string ?? "?")"
        }
    }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        _ = try await send(reply, room: room, thread: thread)
    }

    public func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        var first: String?
        for post in MattermostRenderer.posts(for: reply) {
            let created = try await client.request(
                .POST, "/posts", body(post, channel: room, root: thread, engine: nil))
            if first == nil { first = created["id"].string }
        }
        return first
    }

    /// The direct channel between Parley and `user` (`POST /channels/direct`, which returns the
    /// existing one when there is one).
    public func directRoom(for user: String) async throws -> String? {
        guard let bot = me.current else { return nil }
        let channel = try await client.request(.POST, "/channels/direct", .array([.string(bot), .string(user)]))
        return channel["id"].string
    }

    /// A public channel in the team of the channel the request came from (`POST /channels`), its
    /// purpose the topic, Parley and the invited people added as members.
    public func createRoom(name: String, topic: String, inviting: [String], near: String?) async throws -> String? {
        guard let near else { return nil }
        let origin = try await client.request(.GET, "/channels/\(MattermostClient.pathPart(near))")
        guard let team = origin["team_id"].string, !team.isEmpty else { return nil }
        let created = try await client.request(
            .POST, "/channels",
            [
                "team_id": .string(team), "name": .string(String(name.prefix(64))),
                "display_name": .string(String(name.prefix(64))), "purpose": .string(String(topic.prefix(250))),
                "type": "O",
            ])
        guard let channel = created["id"].string else { return nil }
        for user in inviting where !user.isEmpty {
            try await client.request(
                .POST, "/channels/\(MattermostClient.pathPart(channel))/members", ["user_id": .string(user)])
        }
        return channel
    }

    public func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool {
        guard let post = MattermostRenderer.posts(for: reply).first else { return false }
        try await client.request(.PUT, "/posts/\(reference)/patch", ["message": .string(post.message)])
        return true
    }

    // MARK: requests

    /// The fields of a form or JSON body (outgoing webhooks may send either).
    static func fields(_ request: PlatformRequest) throws(MattermostRequestError) -> [String: String] {
        if request.header("content-type")?.hasPrefix("application/json") == true {
            guard let object = JSON(parsing: request.body)?.object else {
                throw MattermostRequestError(message: "the body is not a JSON object")
            }
            return object.compactMapValues { $0.string }
        }
        do {
            return try FormBody.decode(request.text)
        } catch {
            throw MattermostRequestError(message: error.description)
        }
    }

    /// True when the request carries one of the configured tokens; compared in constant time.
    func verified(_ token: String?) -> Bool {
        guard let token else { return false }
        return ConstantTime.isOne(of: tokens, Array(token.utf8))
    }

    func command(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        let form: [String: String]
        do {
            form = try Self.fields(request)
        } catch {
            return .text(400, error.message)
        }
        guard verified(form["token"]) else {
            logger.warning("refused a Mattermost slash command with a wrong token")
            return .text(401, "invalid token")
        }
        guard let user = form["user_id"], let channel = form["channel_id"] else {
            return .text(400, "a slash command needs user_id and channel_id")
        }
        var text = form["text"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if text.isEmpty { text = "help" }
        let inbound = Inbound(
            sender: Identity(platform: platform, id: user), senderName: form["user_name"], room: channel,
            thread: form["root_id"].flatMap { $0.isEmpty ? nil : $0 },
            eventID: form["trigger_id"].map { "slash:\($0)" }, text: text, isDirect: true)
        work.start { await answer(inbound, engine: engine) }
        let echo = "`\(form["command"] ?? "/parley") \(text.replacingOccurrences(of: "`", with: "'"))` …"
        return .json(["response_type": "in_channel", "text": .string(echo)] as JSON)
    }

    func webhook(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        let form: [String: String]
        do {
            form = try Self.fields(request)
        } catch {
            return .text(400, error.message)
        }
        guard verified(form["token"]) else {
            logger.warning("refused a Mattermost outgoing webhook with a wrong token")
            return .text(401, "invalid token")
        }
        guard let user = form["user_id"], let channel = form["channel_id"], let text = form["text"] else {
            return .text(400, "an outgoing webhook needs user_id, channel_id and text")
        }
        guard user != me.current else { return .json([:] as JSON) }
        let postID = form["post_id"]
        work.start {
            // The payload does not say which thread the post is in; the post itself does.
            var thread: String?
            if let postID, let post = try? await client.request(.GET, "/posts/\(postID)") {
                thread = post["root_id"].string.flatMap { $0.isEmpty ? nil : $0 }
            }
            let inbound = Inbound(
                sender: Identity(platform: platform, id: user), senderName: form["user_name"], room: channel,
                thread: thread, eventID: postID, text: text, isDirect: false)
            await answer(inbound, engine: engine)
        }
        return .json([:] as JSON)
    }

    func action(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        guard let payload = JSON(parsing: request.body), payload.object != nil else {
            return .text(400, "the body is not a JSON object")
        }
        let context = payload["context"]
        guard let user = payload["user_id"].string, let channel = payload["channel_id"].string,
            let command = context["command"].string, let mac = context["mac"].string
        else { return .text(400, "an action needs user_id, channel_id and a context with command and mac") }
        guard
            SecretCheck.isValidMAC(hex: mac, of: Self.actionMessage(command: command, channel: channel), key: actionKey)
        else {
            logger.warning("refused a Mattermost button callback whose context was not made by Parley")
            return .text(401, "this button was not made by Parley for this channel")
        }
        let postID = payload["post_id"].string
        work.start {
            var thread = postID
            var pressed: MattermostPlacedPost?
            if let postID, let post = try? await client.request(.GET, "/posts/\(postID)") {
                if let root = post["root_id"].string, !root.isEmpty { thread = root }
                // The post the button is on, to show its gate's outcome once settled. Nothing signs
                // post_id, so only Parley's own post in this channel qualifies.
                if post["channel_id"].string == channel, post["user_id"].string == me.current,
                    let message = post["message"].string
                {
                    pressed = MattermostPlacedPost(id: postID, channel: channel, message: message)
                }
            }
            let inbound = Inbound(
                sender: Identity(platform: platform, id: user), senderName: payload["user_name"].string,
                room: channel, thread: thread,
                eventID: payload["trigger_id"].string.map { "action:\($0)" }, text: command, isDirect: true)
            await answer(inbound, engine: engine, pressed: pressed)
        }
        return .json(["ephemeral_text": .string("Parley is on it: \(command)")] as JSON)
    }

    /// Binds a button's command to the channel it was posted in, with a key only Parley holds.
    func actionMAC(command: String, channel: String) -> String {
        HexDigest.hex(
            HMAC<SHA256>.authenticationCode(
                for: Self.actionMessage(command: command, channel: channel), using: actionKey))
    }

    /// What a button's MAC is over.
    static func actionMessage(command: String, channel: String) -> [UInt8] {
        Array("\(channel)\n\(command)".utf8)
    }

    // MARK: replies

    /// Runs a message and posts the reply, its output shown live; `pressed` is the post whose button sent it.
    func answer(_ inbound: Inbound, engine: any MessageHandler, pressed: MattermostPlacedPost? = nil) async {
        let live = liveReply(channel: inbound.room, thread: inbound.thread, engine: engine)
        guard let response = await engine.handle(inbound, onOutput: { live.output($0) }) else { return }
        await deliver(response, live: live, for: inbound, pressed: pressed, engine: engine)
    }

    func body(_ post: MattermostRenderer.Post, channel: String?, root: String?, engine: (any MessageHandler)?) -> JSON {
        var fields: [String: JSON] = ["message": .string(post.message)]
        if let channel { fields["channel_id"] = .string(channel) }
        if let root { fields["root_id"] = .string(root) }
        if !post.actions.isEmpty, let channel {
            let base = engine?.config.server.displayURL ?? "http://127.0.0.1:8080"
            let buttons = post.actions.enumerated().map { index, action -> JSON in
                [
                    "id": .string("parley\(index)"), "name": .string(action.label), "type": "button",
                    "style": .string(action.style == "danger" ? "danger" : "primary"),
                    "integration": [
                        "url": .string(base + "/mattermost/actions"),
                        "context": [
                            "command": .string(action.command),
                            "mac": .string(actionMAC(command: action.command, channel: channel)),
                        ],
                    ],
                ]
            }
            fields["props"] = ["attachments": [["text": "", "actions": .array(buttons)]]]
        }
        return .object(fields)
    }
}

/// Why a request from Mattermost could not be used.
struct MattermostRequestError: Error {
    var message: String
}

extension MattermostAdapter {
    /// The post that shows a command's output while it runs (created, then patched). A reply whose
    /// first post has buttons is posted anew: a patch cannot add them.
    func liveReply(channel: String, thread: String?, engine: any MessageHandler) -> LiveReply<MattermostRenderer.Post> {
        let client = self.client
        let logger = self.logger
        return LiveReply(
            calls: .init(
                post: { text in
                    let post = MattermostRenderer.Post(
                        message: "⏳ running…\n" + MattermostRenderer.fence(text), actions: [])
                    return try await client.request(
                        .POST, "/posts", self.body(post, channel: channel, root: thread, engine: engine))["id"].string
                },
                edit: { id, text in
                    try await client.request(
                        .PUT, "/posts/\(id)/patch",
                        ["message": .string("⏳ running…\n" + MattermostRenderer.fence(text))])
                },
                replace: { id, post in
                    guard post.actions.isEmpty else { return false }
                    try await client.request(.PUT, "/posts/\(id)/patch", ["message": .string(post.message)])
                    return true
                },
                send: { post in
                    try await client.request(
                        .POST, "/posts", self.body(post, channel: channel, root: thread, engine: engine))["id"].string
                },
                warn: { problem in logger.warning("\(channel): \(problem)") }))
    }
}

extension MattermostAdapter {
    /// Waits until every command acknowledged so far has finished (and its reply was posted).
    public func settle() async {
        await work.settle()
        await gatePosts.settle()
    }
}
