import Foundation
import Hummingbird
import NIOCore
import ParleyAdapters
import ParleyCore
import Synchronization

/// A local stand-in for Slack's Web API that is as strict as the real one about what it accepts:
/// the bot token, the content type each method takes, required arguments, and Block Kit's limits.
/// It records every message so tests can see what people in the workspace would see.
final class FakeSlack: Sendable {
    struct Posted: Sendable {
        var channel: String
        var ts: String
        var thread: String?
        var text: String
        var blocks: [JSON]
        /// For an ephemeral message, the one person who sees it.
        var user: String? = nil
        /// The readable text: the blocks' text when there are blocks, else `text`.
        var shown: String {
            guard !blocks.isEmpty else { return text }
            return blocks.flatMap { block -> [String] in
                var parts: [String] = []
                if let text = block["text"]["text"].string { parts.append(text) }
                for field in block["fields"].array ?? [] { parts.append(field["text"].string ?? "") }
                for element in block["elements"].array ?? [] { parts.append(element["text"]["text"].string ?? "") }
                return parts
            }.joined(separator: "\n")
        }
        var hasButtons: Bool { blocks.contains { $0["type"].string == "actions" } }
    }

    struct State {
        var messages: [Posted] = []
        /// Messages posted with `chat.postEphemeral`, seen by one person each.
        var ephemerals: [Posted] = []
        var calls: [(method: String, at: ContinuousClock.Instant, status: Int)] = []
        var responses: [(id: String, body: JSON)] = []
        var rateLimit: [String: Int] = [:]
        var refusedBlocks = 0
        var next = 1
        /// Channels made with `conversations.create`: name, topic, members invited.
        var channels: [Channel] = []
    }

    /// A channel Parley made.
    struct Channel: Sendable, Equatable {
        var id: String
        var name: String
        var isPrivate: Bool
        var topic = ""
        var members: [String] = []
    }

    var channels: [Channel] { state.withLock { $0.channels } }

    let token: String
    static let appToken = "xapp-1-A0PNCHHK2-1234567890-abcdef"
    /// Where `apps.connections.open` sends Socket Mode clients.
    let socketURL = Mutex<String?>(nil)
    let botUserID = "UPARLEYBOT"
    let state = Mutex(State())
    let users: [String: String]

    init(token: String, users: [String: String] = [:]) {
        self.token = token
        self.users = users
    }

    /// Answers the next `count` calls of `method` with 429 and `Retry-After: 1`.
    func rateLimit(_ method: String, count: Int) { state.withLock { $0.rateLimit[method] = count } }
    /// Answers the next `count` messages that carry blocks with `ok: false, invalid_blocks`, as Slack does
    /// for blocks it cannot show.
    func refuseBlocks(count: Int) { state.withLock { $0.refusedBlocks = count } }
    var messages: [Posted] { state.withLock { $0.messages } }
    var ephemerals: [Posted] { state.withLock { $0.ephemerals } }
    var responses: [(id: String, body: JSON)] { state.withLock { $0.responses } }
    func calls(_ method: String) -> [(at: ContinuousClock.Instant, status: Int)] {
        state.withLock { $0.calls.filter { $0.method == method }.map { ($0.at, $0.status) } }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/api/:method") { request, context -> Response in
            let method = context.parameters.get("method") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let (status, answer, headers) = self.handle(method: method, request: request, body: Array(buffer: body))
            self.state.withLock { $0.calls.append((method, .now, status)) }
            var fields = HTTPFields()
            fields[.contentType] = "application/json; charset=utf-8"
            if let retry = headers["Retry-After"] { fields[.retryAfter] = retry }
            return Response(
                status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded))
            )
        }
        router.post("/respond/:id") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard request.headers[.contentType]?.hasPrefix("application/json") == true,
                let json = JSON(parsing: Array(buffer: body)), json["text"].string != nil || json["blocks"].array != nil
            else { return Response(status: .badRequest) }
            let id = context.parameters.get("id") ?? ""
            self.state.withLock { $0.responses.append((id, json)) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }
        return router
    }

    private func fail(_ error: String) -> (Int, JSON, [String: String]) {
        (200, ["ok": false, "error": .string(error)], [:])
    }

    func handle(method: String, request: Request, body: [UInt8]) -> (Int, JSON, [String: String]) {
        let limited = state.withLock { state -> Bool in
            guard let left = state.rateLimit[method], left > 0 else { return false }
            state.rateLimit[method] = left - 1
            return true
        }
        if limited { return (429, ["ok": false, "error": "ratelimited"], ["Retry-After": "1"]) }
        guard let authorization = request.headers[.authorization] else { return fail("not_authed") }
        if method == "apps.connections.open" {
            // Only an app-level token opens connections; a bot token is the wrong kind.
            guard authorization == "Bearer \(Self.appToken)" else {
                return fail(authorization.hasPrefix("Bearer xoxb-") ? "not_allowed_token_type" : "invalid_auth")
            }
            guard let url = socketURL.withLock({ $0 }) else { return fail("internal_error") }
            let ticket = state.withLock { state -> Int in
                state.next += 1
                return state.next
            }
            return (200, ["ok": true, "url": .string("\(url)?ticket=\(ticket)")], [:])
        }
        guard authorization == "Bearer \(token)" else { return fail("invalid_auth") }
        let contentType = request.headers[.contentType] ?? ""
        let arguments: JSON
        if contentType.hasPrefix("application/json") {
            // Slack's read methods take form arguments only; JSON bodies reach them empty.
            guard
                [
                    "chat.postMessage", "chat.postEphemeral", "chat.update", "auth.test", "apps.connections.open",
                    "conversations.create", "conversations.setTopic", "conversations.invite",
                ].contains(method)
            else {
                return fail("invalid_arguments")
            }
            guard contentType == "application/json" || contentType == "application/json; charset=utf-8" else {
                return fail("invalid_charset")
            }
            guard let json = JSON(parsing: body), json.object != nil else { return fail("invalid_json") }
            arguments = json
        } else if contentType.hasPrefix("application/x-www-form-urlencoded") {
            guard let form = try? FormBody.decode(String(decoding: body, as: UTF8.self)) else {
                return fail("invalid_form_data")
            }
            arguments = .object(form.mapValues { .string($0) })
        } else {
            return fail("invalid_form_data")
        }
        switch method {
        case "auth.test":
            return (200, ["ok": true, "user_id": .string(botUserID), "user": "parley", "team": "Acme"], [:])
        case "users.info":
            guard let user = arguments["user"].string else { return fail("invalid_arguments") }
            guard let name = users[user] else { return fail("user_not_found") }
            return (
                200,
                [
                    "ok": true,
                    "user": ["id": .string(user), "name": .string(name), "profile": ["display_name": .string(name)]],
                ], [:]
            )
        case "chat.postMessage", "chat.update", "chat.postEphemeral":
            guard let channel = arguments["channel"].string, !channel.isEmpty else { return fail("channel_not_found") }
            let text = arguments["text"].string ?? ""
            let blocks = arguments["blocks"].array ?? []
            if arguments["blocks"] != .null, arguments["blocks"].array == nil { return fail("invalid_blocks_format") }
            guard !text.isEmpty || !blocks.isEmpty else { return fail("no_text") }
            guard text.count <= 40000 else { return fail("msg_too_long") }
            if let problem = Self.blockProblem(blocks) { return fail(problem) }
            let refuse = state.withLock { state -> Bool in
                guard !blocks.isEmpty, state.refusedBlocks > 0 else { return false }
                state.refusedBlocks -= 1
                return true
            }
            if refuse { return fail("invalid_blocks") }
            return state.withLock { state -> (Int, JSON, [String: String]) in
                if method == "chat.postEphemeral" {
                    // Slack answers with a message_ts, but an ephemeral message cannot be updated or threaded on.
                    guard let user = arguments["user"].string, !user.isEmpty else {
                        return (200, ["ok": false, "error": "user_not_in_channel"], [:])
                    }
                    state.ephemerals.append(
                        Posted(
                            channel: channel, ts: "", thread: arguments["thread_ts"].string, text: text, blocks: blocks,
                            user: user))
                    return (200, ["ok": true, "message_ts": "1700000000.999999"], [:])
                }
                if method == "chat.update" {
                    guard let ts = arguments["ts"].string,
                        let index = state.messages.firstIndex(where: { $0.ts == ts && $0.channel == channel })
                    else { return (200, ["ok": false, "error": "message_not_found"], [:]) }
                    state.messages[index].text = text
                    state.messages[index].blocks = blocks
                    return (200, ["ok": true, "channel": .string(channel), "ts": .string(ts)], [:])
                }
                let ts = "1700000000.\(String(format: "%06d", state.next))"
                state.next += 1
                state.messages.append(
                    Posted(channel: channel, ts: ts, thread: arguments["thread_ts"].string, text: text, blocks: blocks))
                return (200, ["ok": true, "channel": .string(channel), "ts": .string(ts)], [:])
            }
        case "conversations.history":
            guard let channel = arguments["channel"].string else { return fail("channel_not_found") }
            let latest = arguments["latest"].string ?? ""
            let found = state.withLock { state in
                state.messages.filter { $0.channel == channel && $0.ts == latest }.map { message -> JSON in
                    ["type": "message", "ts": .string(message.ts), "text": .string(message.text)]
                }
            }
            return (200, ["ok": true, "messages": .array(Array(found.prefix(1))), "has_more": false], [:])
        case "conversations.create":
            // Slack's rules for a channel name: 1 to 80 lowercase letters, digits, '-' and '_'.
            guard let name = arguments["name"].string, !name.isEmpty else { return fail("invalid_name_required") }
            guard name.count <= 80 else { return fail("invalid_name_maxlength") }
            guard name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") })
            else { return fail("invalid_name_specials") }
            return state.withLock { state in
                guard !state.channels.contains(where: { $0.name == name }) else {
                    return (200, ["ok": false, "error": "name_taken"], [:])
                }
                let id = "C\(String(format: "%08d", state.next))"
                state.next += 1
                state.channels.append(Channel(id: id, name: name, isPrivate: arguments["is_private"].bool ?? false))
                return (200, ["ok": true, "channel": ["id": .string(id), "name": .string(name)]], [:])
            }
        case "conversations.setTopic", "conversations.invite":
            guard let channel = arguments["channel"].string else { return fail("channel_not_found") }
            return state.withLock { state in
                guard let index = state.channels.firstIndex(where: { $0.id == channel }) else {
                    return (200, ["ok": false, "error": "channel_not_found"], [:])
                }
                if method == "conversations.setTopic" {
                    guard let topic = arguments["topic"].string else {
                        return (200, ["ok": false, "error": "invalid_arguments"], [:])
                    }
                    guard topic.count <= 250 else { return (200, ["ok": false, "error": "too_long"], [:]) }
                    state.channels[index].topic = topic
                } else {
                    let users = (arguments["users"].string ?? "").split(separator: ",").map(String.init)
                    guard !users.isEmpty, users.count <= 1000 else {
                        return (200, ["ok": false, "error": "no_user"], [:])
                    }
                    guard users.allSatisfy({ $0.hasPrefix("U") || $0.hasPrefix("W") }) else {
                        return (200, ["ok": false, "error": "user_not_found"], [:])
                    }
                    state.channels[index].members += users
                }
                return (200, ["ok": true, "channel": ["id": .string(channel)]], [:])
            }
        default:
            return fail("unknown_method")
        }
    }

    /// What Slack would call wrong with these blocks, or nil.
    static func blockProblem(_ blocks: [JSON]) -> String? {
        guard blocks.count <= 50 else { return "invalid_blocks" }
        for block in blocks {
            switch block["type"].string {
            case "section":
                if let text = block["text"].object {
                    guard ["mrkdwn", "plain_text"].contains(text["type"]?.string ?? ""),
                        let value = text["text"]?.string, !value.isEmpty, value.count <= 3000
                    else { return "invalid_blocks" }
                }
                if let fields = block["fields"].array {
                    guard fields.count <= 10,
                        fields.allSatisfy({
                            (1...2000).contains($0["text"].string?.count ?? 0) && $0["type"].string != nil
                        })
                    else { return "invalid_blocks" }
                }
                guard block["text"] != .null || block["fields"] != .null else { return "invalid_blocks" }
            case "actions":
                guard let elements = block["elements"].array, (1...25).contains(elements.count) else {
                    return "invalid_blocks"
                }
                var ids = Set<String>()
                for element in elements {
                    guard element["type"].string == "button", element["text"]["type"].string == "plain_text",
                        let label = element["text"]["text"].string, (1...75).contains(label.count),
                        let id = element["action_id"].string, ids.insert(id).inserted,
                        (element["value"].string?.count ?? 0) <= 2000,
                        element["style"] == .null || ["primary", "danger"].contains(element["style"].string ?? "")
                    else { return "invalid_blocks" }
                }
            case "context", "divider", "header", "rich_text", "image":
                continue
            default:
                return "invalid_blocks"
            }
        }
        return nil
    }
}
