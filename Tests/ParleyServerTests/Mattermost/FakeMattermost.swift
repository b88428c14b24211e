import Foundation
import Hummingbird
import NIOCore
import ParleyAdapters
import ParleyCore
import Synchronization

/// A local stand-in for Mattermost's REST API v4, as strict as the real server about the bot token,
/// JSON bodies, ids, message length and interactive attachments. Records posts as people would see them.
final class FakeMattermost: Sendable {
    struct Post: Sendable {
        var id: String
        var channel: String
        var root: String?
        var message: String
        var userID: String
        var buttons: [JSON]
    }

    /// A message only one person sees (`POST /posts/ephemeral`).
    struct Ephemeral: Sendable {
        var user: String
        var channel: String
        var root: String?
        var message: String
    }

    /// A channel Parley made (`POST /channels`), with the members it added.
    struct Channel: Sendable {
        var id: String
        var team: String
        var name: String
        var displayName: String
        var purpose: String
        var type: String
        var members: [String]
    }

    struct State {
        var channels: [Channel] = []
        var posts: [Post] = []
        var ephemerals: [Ephemeral] = []
        var calls: [(path: String, at: ContinuousClock.Instant, status: Int)] = []
        var rateLimit = 0
    }

    let token: String
    let botID = "parleybot00000000000000000"
    /// The team every channel people speak in belongs to.
    static let teamID = "teamacme000000000000000000"

    var channels: [Channel] { state.withLock { $0.channels } }
    let state = Mutex(State())

    init(token: String) {
        self.token = token
    }

    /// Mattermost ids: 26 lowercase letters and digits.
    static func isID(_ text: String) -> Bool {
        text.count == 26 && text.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber }
    }

    static func newID() -> String {
        String((0..<26).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    var posts: [Post] { state.withLock { $0.posts } }
    var ephemerals: [Ephemeral] { state.withLock { $0.ephemerals } }
    func rateLimitNext(_ count: Int) { state.withLock { $0.rateLimit = count } }
    func calls(_ path: String) -> [(at: ContinuousClock.Instant, status: Int)] {
        state.withLock { $0.calls.filter { $0.path == path }.map { ($0.at, $0.status) } }
    }

    /// A post a person made (so the adapter can look it up); returns its id.
    func personPosted(channel: String, user: String, message: String, root: String? = nil) -> String {
        let id = Self.newID()
        state.withLock {
            $0.posts.append(Post(id: id, channel: channel, root: root, message: message, userID: user, buttons: []))
        }
        return id
    }

    /// What the bot posted, in order.
    var botPosts: [Post] { posts.filter { $0.userID == botID } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/api/v4/users/me") { request, _ in
            self.respond("users/me", request, body: []) { _ in
                (200, ["id": .string(self.botID), "username": "parley", "is_bot": true])
            }
        }
        router.get("/api/v4/posts/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return self.respond("posts/get", request, body: []) { _ in
                guard let post = self.state.withLock({ $0.posts.first { $0.id == id } }) else {
                    return (404, ["id": "app.post.get.app_error", "message": "Unable to get the post."])
                }
                return (200, Self.json(post))
            }
        }
        router.post("/api/v4/posts") { request, _ in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.respond("posts/create", request, body: body, json: true) { json in
                guard let channel = json["channel_id"].string, Self.isID(channel) else {
                    return (400, ["id": "api.context.invalid_param.app_error", "message": "Invalid channel_id"])
                }
                if let root = json["root_id"].string, !root.isEmpty, !Self.isID(root) {
                    return (400, ["id": "api.context.invalid_param.app_error", "message": "Invalid root_id"])
                }
                if let problem = Self.problem(json) { return (400, ["message": .string(problem)]) }
                let post = Post(
                    id: Self.newID(), channel: channel, root: json["root_id"].string.flatMap { $0.isEmpty ? nil : $0 },
                    message: json["message"].string ?? "", userID: self.botID,
                    buttons: json["props"]["attachments"][0]["actions"].array ?? [])
                self.state.withLock { $0.posts.append(post) }
                return (201, Self.json(post))
            }
        }
        router.post("/api/v4/posts/ephemeral") { request, _ in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.respond("posts/ephemeral", request, body: body, json: true) { json in
                let post = json["post"]
                guard let user = json["user_id"].string, Self.isID(user), let channel = post["channel_id"].string,
                    Self.isID(channel)
                else {
                    return (
                        400, ["id": "api.context.invalid_param.app_error", "message": "Invalid user_id or channel_id"]
                    )
                }
                if let problem = Self.problem(post) { return (400, ["message": .string(problem)]) }
                let ephemeral = Ephemeral(
                    user: user, channel: channel, root: post["root_id"].string.flatMap { $0.isEmpty ? nil : $0 },
                    message: post["message"].string ?? "")
                self.state.withLock { $0.ephemerals.append(ephemeral) }
                return (201, ["id": .string(Self.newID()), "channel_id": .string(channel), "message": post["message"]])
            }
        }
        router.put("/api/v4/posts/:id/patch") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.respond("posts/patch", request, body: body, json: true) { json in
                if let problem = Self.problem(json) { return (400, ["message": .string(problem)]) }
                return self.state.withLock { state -> (Int, JSON) in
                    guard let index = state.posts.firstIndex(where: { $0.id == id }) else {
                        return (404, ["message": "Unable to get the post."])
                    }
                    guard state.posts[index].userID == self.botID else {
                        return (403, ["message": "You do not have the appropriate permissions."])
                    }
                    if let message = json["message"].string { state.posts[index].message = message }
                    // Props given replace the post's props, buttons and all.
                    if json["props"] != .null {
                        state.posts[index].buttons = json["props"]["attachments"][0]["actions"].array ?? []
                    }
                    return (200, Self.json(state.posts[index]))
                }
            }
        }
        router.get("/api/v4/channels/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return self.respond("channels/get", request, body: []) { _ in
                guard Self.isID(id) else { return (400, ["message": "Invalid channel_id"]) }
                return (200, ["id": .string(id), "team_id": .string(Self.teamID), "name": "ops", "type": "O"])
            }
        }
        router.post("/api/v4/channels") { request, _ in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.respond("channels/create", request, body: body, json: true) { json in
                guard json["team_id"].string == Self.teamID else { return (400, ["message": "Invalid team_id"]) }
                // Mattermost's rules: a name of 1 to 64 lowercase letters, digits, '-' and '_', starting
                // with a letter or digit; a display name of at most 64 characters; type O or P.
                let name = json["name"].string ?? ""
                guard (1...64).contains(name.count), name.first?.isLetter == true || name.first?.isNumber == true,
                    name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") })
                else { return (400, ["id": "model.channel.is_valid.name.app_error", "message": "Invalid name"]) }
                let display = json["display_name"].string ?? ""
                guard (1...64).contains(display.count) else { return (400, ["message": "Invalid display_name"]) }
                guard ["O", "P"].contains(json["type"].string ?? "") else { return (400, ["message": "Invalid type"]) }
                guard (json["purpose"].string ?? "").count <= 250 else { return (400, ["message": "Invalid purpose"]) }
                return self.state.withLock { state -> (Int, JSON) in
                    guard !state.channels.contains(where: { $0.name == name }) else {
                        return (400, ["id": "store.sql_channel.save_channel.exists.app_error", "message": "exists"])
                    }
                    let channel = Channel(
                        id: Self.newID(), team: Self.teamID, name: name, displayName: display,
                        purpose: json["purpose"].string ?? "", type: json["type"].string ?? "O", members: [self.botID])
                    state.channels.append(channel)
                    return (201, ["id": .string(channel.id), "name": .string(name), "team_id": .string(Self.teamID)])
                }
            }
        }
        router.post("/api/v4/channels/direct") { request, _ in
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            let users = (JSON(parsing: body)?.array ?? []).compactMap(\.string)
            return self.respond("channels/direct", request, body: body, json: false) { _ in
                guard users.count == 2, users.allSatisfy(Self.isID), users.contains(self.botID) else {
                    return (400, ["message": "Invalid user ids: a direct channel is between two users"])
                }
                // Mattermost names a direct channel after its two members: the same pair, the same channel.
                let id = String(("dm" + users.sorted().joined()).prefix(26))
                return (201, ["id": .string(id), "type": "D"])
            }
        }
        router.post("/api/v4/channels/:id/members") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            return self.respond("channels/members", request, body: body, json: true) { json in
                guard let user = json["user_id"].string, Self.isID(user) else {
                    return (400, ["message": "Invalid user_id"])
                }
                return self.state.withLock { state -> (Int, JSON) in
                    guard let index = state.channels.firstIndex(where: { $0.id == id }) else {
                        return (404, ["message": "Unable to find the channel."])
                    }
                    state.channels[index].members.append(user)
                    return (201, ["channel_id": .string(id), "user_id": .string(user)])
                }
            }
        }
        return router
    }

    static func problem(_ json: JSON) -> String? {
        let message = json["message"].string ?? ""
        guard message.unicodeScalars.count <= 16383 else { return "Message too long" }
        let actions = json["props"]["attachments"][0]["actions"]
        if actions != .null {
            guard let buttons = actions.array else { return "Invalid attachments" }
            for button in buttons {
                guard button["name"].string?.isEmpty == false, button["integration"]["url"].string != nil,
                    button["integration"]["context"].object != nil
                else { return "Invalid action: needs name and integration url" }
            }
        }
        return nil
    }

    static func json(_ post: Post) -> JSON {
        [
            "id": .string(post.id), "channel_id": .string(post.channel), "root_id": .string(post.root ?? ""),
            "message": .string(post.message), "user_id": .string(post.userID),
        ]
    }

    private func respond(
        _ path: String, _ request: Request, body: [UInt8], json: Bool = false, handler: (JSON) -> (Int, JSON)
    ) -> Response {
        let (status, answer): (Int, JSON) = {
            let limited = state.withLock { state -> Bool in
                guard state.rateLimit > 0 else { return false }
                state.rateLimit -= 1
                return true
            }
            if limited { return (429, ["message": "Too many requests"]) }
            guard request.headers[.authorization] == "Bearer \(token)" else {
                return (401, ["id": "api.context.session_expired.app_error", "message": "Invalid or expired session"])
            }
            guard json else { return handler(.null) }
            guard request.headers[.contentType]?.hasPrefix("application/json") == true,
                let parsed = JSON(parsing: body), parsed.object != nil
            else { return (400, ["message": "Invalid or missing JSON body"]) }
            return handler(parsed)
        }()
        state.withLock { $0.calls.append((path, .now, status)) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == 429 { headers[.retryAfter] = "1" }
        return Response(
            status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.encoded)))
    }
}
