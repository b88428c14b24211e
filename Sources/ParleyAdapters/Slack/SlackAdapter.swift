import AsyncHTTPClient
import Foundation
import Logging
import ParleyCore
import ParleyEngine
import Synchronization

/// The Slack adapter: Events API, slash commands and interactivity arrive as signed HTTP requests to
/// Parley's server; replies go out through the Web API as Block Kit. Every request is answered at once
/// and the command runs on in a task, well inside Slack's three seconds.
public struct SlackAdapter: HTTPReceivingAdapter {
    public let platform = "slack"
    let settings: SlackSettings
    let verifier: SlackSignature?
    let web: SlackWebClient
    /// The client with the app-level token, for Socket Mode.
    let appWeb: SlackWebClient?
    let logger: Logger
    let state = ConnectionState()
    let profile = SlackProfile()
    /// The messages asking for gates still open, to show each one's outcome in place of its buttons.
    let gateMessages = GateMessages<SlackPlacedMessage>()
    /// How often the live-output message is edited at most.
    static let editInterval = Duration.seconds(1)
    /// Commands acknowledged and still running (`settle()`).
    let work = InFlightWork()

    /// Creates an adapter; fails when a credential cannot be read.
    public init(
        settings: SlackSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        http: HTTPClient = .shared, logger: Logger = Logger(label: "parley.slack")
    ) throws {
        self.settings = settings
        self.logger = logger
        let token = try settings.botToken.resolve(environment: environment).get()
        verifier = try settings.signingSecret.map {
            SlackSignature(secret: try $0.resolve(environment: environment).get())
        }
        web = SlackWebClient(baseURL: settings.apiURL, token: token, http: http, logger: logger)
        appWeb = try settings.appToken.map {
            SlackWebClient(
                baseURL: settings.apiURL, token: try $0.resolve(environment: environment).get(), http: http,
                logger: logger)
        }
    }

    public var isConnected: Bool { state.isConnected }

    /// Only Socket Mode holds a connection (Slack sends each event to one of its connections, but a
    /// leader keeps the replicas from each opening one); the Events API is HTTP, served by every replica.
    public var needsLeader: Bool { settings.socketMode }

    public var routes: [PlatformRoute] {
        [
            PlatformRoute(path: "/slack/events") { request, engine in await events(request, engine: engine) },
            PlatformRoute(path: "/slack/commands") { request, engine in await command(request, engine: engine) },
            PlatformRoute(path: "/slack/interactivity") { request, engine in
                await interaction(request, engine: engine)
            },
        ]
    }

    /// Over HTTP: learns Parley's own user id (`auth.test`) and keeps checking the token while events
    /// arrive as requests. In Socket Mode: holds the websocket events arrive on.
    public func run(engine: any MessageHandler) async throws {
        if settings.socketMode, let appWeb {
            await runSocketMode(engine: engine, appWeb: appWeb)
            return
        }
        await state.keepChecking("Slack auth.test", logger: logger) {
            let answer = try await web.call("auth.test", [:])
            profile.setBotUserID(answer["user_id"].string)
            return "connected to Slack workspace \(answer["team"].string ?? "?") as \(answer["user"].string ?? "?")"
        }
    }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        _ = try await send(reply, room: room, thread: thread)
    }

    public func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        var first: String?
        for message in SlackRenderer.messages(for: reply) {
            let ts = try await postMessage(message, channel: room, thread: thread)
            if first == nil { first = ts }
        }
        return first
    }

    /// Posts one message and returns its `ts`. When Slack refuses it (`ok: false`, such as
    /// `invalid_blocks`), the error is logged and the message's text is posted plainly instead, with a
    /// line that says what happened: a reply is never lost to its formatting.
    func postMessage(_ message: SlackRenderer.Message, channel: String, thread: String?) async throws -> String? {
        do {
            return try await web.call("chat.postMessage", Self.arguments(message, channel: channel, thread: thread))[
                "ts"
            ].string
        } catch let refusal as SlackAPIError {
            logger.error("Slack refused a reply in \(channel) (\(refusal.error)); posting it as plain text")
            var first: String?
            for text in SlackRenderer.plainFallback(message, reason: refusal.error) {
                let plain = SlackRenderer.Message(text: text, blocks: [])
                let answer = try await web.call(
                    "chat.postMessage", Self.arguments(plain, channel: channel, thread: thread))
                if first == nil { first = answer["ts"].string }
            }
            return first
        }
    }

    /// A user id is a destination of its own: `chat.postMessage` to it writes in the app's direct
    /// conversation with that person.
    public func directRoom(for user: String) async throws -> String? { user }

    /// A public channel (`conversations.create`), its topic, and the people invited; a name already
    /// taken gets a number after it.
    public func createRoom(name: String, topic: String, inviting: [String], near: String?) async throws -> String? {
        var created: JSON?
        for attempt in 1...3 {
            let candidate = attempt == 1 ? name : String(name.prefix(76)) + "-\(attempt)"
            do {
                created = try await web.call("conversations.create", ["name": .string(candidate), "is_private": false])
                break
            } catch let error as SlackAPIError where error.error == "name_taken" && attempt < 3 {
                continue
            }
        }
        guard let id = created?["channel"]["id"].string else {
            throw SlackAPIError(method: "conversations.create", error: "the answer names no channel")
        }
        try await web.call(
            "conversations.setTopic", ["channel": .string(id), "topic": .string(String(topic.prefix(250)))])
        let people = inviting.filter { !$0.isEmpty }
        if !people.isEmpty {
            try await web.call(
                "conversations.invite", ["channel": .string(id), "users": .string(people.joined(separator: ","))])
        }
        return id
    }

    public func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool {
        guard let message = SlackRenderer.messages(for: reply).first else { return false }
        try await web.call("chat.update", Self.arguments(message, channel: room, thread: nil, ts: reference))
        return true
    }

    // MARK: requests

    /// Checks the signature; nil when it holds, else the 401 to answer with.
    func refusal(_ request: PlatformRequest) -> PlatformResponse? {
        guard let verifier else { return .text(401, "this Parley takes Slack events over Socket Mode only") }
        if case .failure(let failure) = verifier.verify(request) {
            logger.warning("refused a Slack request to \(request.path): \(failure)")
            return .text(401, "invalid request signature: \(failure)")
        }
        return nil
    }

    func events(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        if let refusal = refusal(request) { return refusal }
        guard let payload = JSON(parsing: request.body), payload.object != nil else {
            return .text(400, "the body is not a JSON object")
        }
        switch payload["type"].string {
        case "url_verification":
            guard let challenge = payload["challenge"].string else {
                return .text(400, "url_verification needs challenge")
            }
            return .json(["challenge": .string(challenge)] as JSON)
        case "event_callback":
            let event = payload["event"]
            guard event.object != nil else { return .text(400, "event_callback needs an event object") }
            if let retry = request.header("x-slack-retry-num") {
                logger.debug(
                    "Slack retry #\(retry) of \(payload["event_id"].string ?? "?"): \(request.header("x-slack-retry-reason") ?? "")"
                )
            }
            work.start { await handleEvent(event, engine: engine) }
            return .ok
        case .some:
            return .ok
        case nil:
            return .text(400, "the body has no type")
        }
    }

    func handleEvent(_ event: JSON, engine: any MessageHandler) async {
        if event["type"].string == "pin_added" || event["type"].string == "reaction_added" {
            await pin(event, engine: engine)
            return
        }
        guard let type = event["type"].string, type == "message" || type == "app_mention",
            event["subtype"] == .null || event["subtype"].string == "thread_broadcast",
            event["bot_id"] == .null,
            let user = event["user"].string, user != profile.botUserID,
            let channel = event["channel"].string, let ts = event["ts"].string, let raw = event["text"].string
        else { return }
        // A mention arrives twice, as `message` and as `app_mention`: the message's own channel and ts
        // identify it, so the engine runs it once, and a Slack retry is dropped the same way.
        let text = SlackRenderer.plainText(
            raw, botUserID: profile.botUserID, botName: engine.config.addressing.names.first ?? "parley")
        let thread = event["thread_ts"].string
        let inbound = Inbound(
            sender: Identity(platform: platform, id: user), senderName: await displayName(user), room: channel,
            thread: thread, eventID: "\(channel):\(ts)", text: text, isDirect: event["channel_type"].string == "im")
        await answer(inbound, engine: engine, channel: channel, thread: thread)
    }

    /// A pinned message (`pin_added`) or one marked :pushpin: (`reaction_added`, whose message is read
    /// with `conversations.history`) joins the timeline of the incident open in its channel.
    func pin(_ event: JSON, engine: any MessageHandler) async {
        guard let user = event["user"].string, user != profile.botUserID else { return }
        let channel: String
        let ts: String
        var text: String?
        if event["type"].string == "pin_added" {
            guard let id = event["channel_id"].string, let item = event["item"]["message"]["ts"].string else { return }
            (channel, ts, text) = (id, item, event["item"]["message"]["text"].string)
        } else {
            guard event["reaction"].string == "pushpin", event["item"]["type"].string == "message",
                let id = event["item"]["channel"].string, let item = event["item"]["ts"].string
            else { return }
            (channel, ts) = (id, item)
            let history = try? await web.call(
                "conversations.history", form: ["channel": id, "latest": item, "inclusive": "true", "limit": "1"])
            text = history?["messages"][0]["text"].string
        }
        _ = await engine.pin(
            text ?? "(message \(ts))", by: Identity(platform: platform, id: user), in: channel,
            eventID: "\(channel):\(ts):\(user)")
    }

    func command(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        if let refusal = refusal(request) { return refusal }
        let form: [String: String]
        do {
            form = try FormBody.decode(request.text)
        } catch {
            return .text(400, "\(error)")
        }
        switch slashCommand(form, engine: engine) {
        case .success(let answer): return .json(answer)
        case .failure(let reason): return .text(400, reason.message)
        }
    }

    /// Starts a slash command (from a form over HTTP, or a Socket Mode payload); returns the immediate answer.
    func slashCommand(_ form: [String: String], engine: any MessageHandler) -> Result<JSON, SlackRequestError> {
        guard let name = form["command"], let user = form["user_id"], let channel = form["channel_id"] else {
            return .failure(SlackRequestError(message: "a slash command needs command, user_id and channel_id"))
        }
        guard name == settings.slashCommand else {
            let text = "Parley answers \(settings.slashCommand) only."
            return .success(["response_type": "ephemeral", "text": .string(text)])
        }
        // Slack escapes `&`, `<` and `>` in a slash command's text and may write mentions and links in
        // its markup, as in events: read it back to what the person typed.
        var text = SlackRenderer.plainText(
            form["text"] ?? "", botUserID: profile.botUserID, botName: engine.config.addressing.names.first ?? "parley"
        ).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { text = "help" }
        let inbound = Inbound(
            sender: Identity(platform: platform, id: user), senderName: form["user_name"], room: channel,
            eventID: form["trigger_id"].map { "slash:\($0)" }, text: text, isDirect: true)
        let responseURL = form["response_url"]
        work.start {
            guard let response = await engine.handle(inbound) else { return }
            if let settled = response.settledGate { await settle(settled, pressed: nil) }
            let messages = SlackRenderer.messages(for: response.reply)
            for message in messages {
                do {
                    guard let responseURL else { throw SlackAPIError(method: "response_url", error: "none given") }
                    var body = Self.arguments(message, channel: nil, thread: nil)
                    if case .object(var members) = body {
                        members["response_type"] = response.audience == .sender ? "ephemeral" : "in_channel"
                        body = .object(members)
                    }
                    try await web.respond(to: responseURL, body)
                } catch {
                    logger.warning("cannot answer \(name) through response_url (\(error)); posting instead")
                    // A reply for the sender alone stays theirs when it cannot go through response_url.
                    if response.audience == .sender,
                        await postEphemeral([message], to: user, channel: channel, thread: nil)
                    {
                        continue
                    }
                    do {
                        _ = try await postMessage(message, channel: channel, thread: nil)
                    } catch {
                        logger.error("cannot post the answer to \(name) in \(channel): \(error)")
                    }
                }
            }
        }
        let acknowledgement = "`\(SlackRenderer.escape("\(name) \(text)"))` …"
        return .success(["response_type": "in_channel", "text": .string(acknowledgement)])
    }

    func interaction(_ request: PlatformRequest, engine: any MessageHandler) async -> PlatformResponse {
        if let refusal = refusal(request) { return refusal }
        let form: [String: String]
        do {
            form = try FormBody.decode(request.text)
        } catch {
            return .text(400, "\(error)")
        }
        guard let raw = form["payload"], let payload = JSON(parsing: Array(raw.utf8)) else {
            return .text(400, "the body needs a JSON payload field")
        }
        if case .failure(let reason) = interaction(payload, engine: engine) { return .text(400, reason.message) }
        return .ok
    }

    /// Runs the command behind a pressed button, as the person who pressed it.
    func interaction(_ payload: JSON, engine: any MessageHandler) -> Result<Void, SlackRequestError> {
        guard payload["type"].string == "block_actions" else { return .success(()) }
        guard let user = payload["user"]["id"].string, let channel = payload["channel"]["id"].string,
            let action = payload["actions"][0].object, let command = action["value"]?.string
        else {
            return .failure(
                SlackRequestError(message: "block_actions needs user.id, channel.id and an action with a value"))
        }
        let message = payload["message"]
        let thread = message["thread_ts"].string ?? message["ts"].string
        let actionID = action["action_ts"]?.string ?? payload["trigger_id"].string ?? UUID().uuidString
        let inbound = Inbound(
            sender: Identity(platform: platform, id: user), senderName: payload["user"]["username"].string,
            room: channel, thread: thread, eventID: "action:\(actionID)", text: command, isDirect: true)
        // The message whose button was pressed, as Slack shows it: updated once its gate is settled.
        let pressed = message["ts"].string.map {
            SlackPlacedMessage(
                channel: channel, ts: $0,
                message: SlackRenderer.Message(
                    text: message["text"].string ?? "", blocks: message["blocks"].array ?? []))
        }
        work.start { await answer(inbound, engine: engine, channel: channel, thread: thread, pressed: pressed) }
        return .success(())
    }

    // MARK: replies

    /// Runs a message and posts the reply; output that streams in is shown in one message, edited at most
    /// once a second, which the reply then replaces. `pressed` is the message whose button sent it.
    func answer(
        _ inbound: Inbound, engine: any MessageHandler, channel: String, thread: String?,
        pressed: SlackPlacedMessage? = nil
    ) async {
        let live = liveReply(channel: channel, thread: thread)
        let response = await engine.handle(inbound) { chunk in live.output(chunk) }
        guard let response else { return }
        await deliver(
            response, live: live, to: inbound.sender.id, channel: channel, thread: thread, pressed: pressed,
            engine: engine)
    }

    func displayName(_ user: String) async -> String? {
        if let name = profile.name(of: user) { return name }
        guard let answer = try? await web.call("users.info", form: ["user": user]) else { return nil }
        let profileJSON = answer["user"]["profile"]
        let name = profileJSON["display_name"].string.flatMap { $0.isEmpty ? nil : $0 } ?? answer["user"]["name"].string
        if let name { profile.remember(name, for: user) }
        return name
    }

    static func arguments(_ message: SlackRenderer.Message, channel: String?, thread: String?, ts: String? = nil)
        -> JSON
    {
        var arguments: [String: JSON] = ["text": .string(message.text)]
        if !message.blocks.isEmpty { arguments["blocks"] = .array(message.blocks) }
        if let channel { arguments["channel"] = .string(channel) }
        if let thread { arguments["thread_ts"] = .string(thread) }
        if let ts { arguments["ts"] = .string(ts) }
        return .object(arguments)
    }
}

/// Why a request from Slack could not be used.
struct SlackRequestError: Error {
    var message: String
}

/// What the adapter learns about the workspace: its own user id and people's names.
final class SlackProfile: Sendable {
    private let state = Mutex<(bot: String?, names: [String: String])>((nil, [:]))

    var botUserID: String? { state.withLock { $0.bot } }
    func setBotUserID(_ id: String?) { state.withLock { $0.bot = id } }
    func name(of user: String) -> String? { state.withLock { $0.names[user] } }
    func remember(_ name: String, for user: String) {
        state.withLock { if $0.names.count < 10_000 { $0.names[user] = name } }
    }
}

extension SlackAdapter {
    /// The message that shows a command's output while it runs (`chat.postMessage`, then `chat.update`).
    func liveReply(channel: String, thread: String?) -> LiveReply<SlackRenderer.Message> {
        let web = self.web
        let logger = self.logger
        @Sendable func live(_ text: String) -> SlackRenderer.Message {
            SlackRenderer.messages(for: Reply([.text("⏳ running…"), .code(text)]))[0]
        }
        return LiveReply(
            calls: .init(
                post: { text in
                    try await web.call(
                        "chat.postMessage", Self.arguments(live(text), channel: channel, thread: thread))[
                            "ts"
                        ].string
                },
                edit: { ts, text in
                    try await web.call("chat.update", Self.arguments(live(text), channel: channel, thread: nil, ts: ts))
                },
                replace: { ts, message in
                    try await web.call("chat.update", Self.arguments(message, channel: channel, thread: nil, ts: ts))
                    return true
                },
                send: { message in try await self.postMessage(message, channel: channel, thread: thread) },
                warn: { problem in logger.warning("\(channel): \(problem)") }),
            interval: Self.editInterval)
    }
}

extension SlackAdapter {
    /// Waits until every command acknowledged so far has finished (and its reply was posted).
    public func settle() async {
        await work.settle()
        await gateMessages.settle()
    }
}
