import Crypto
import Foundation
import ParleyAdapters
import ParleyCore
import Synchronization
import Testing

/// The Synapse `scripts/test` started: its URL and the shared secret that registers accounts.
public struct MatrixTestHomeserver: Sendable {
    public let url: String
    public let secret: String

    /// The homeserver from `PARLEY_TEST_MATRIX_URL` and `PARLEY_TEST_MATRIX_SECRET`; nil without them.
    public static func fromEnvironment() -> MatrixTestHomeserver? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["PARLEY_TEST_MATRIX_URL"], let secret = environment["PARLEY_TEST_MATRIX_SECRET"]
        else { return nil }
        return MatrixTestHomeserver(url: url, secret: secret)
    }

    /// A new account, registered through Synapse's shared-secret admin API; its name starts with `prefix`.
    public func register(_ prefix: String, admin: Bool = false) async throws -> MatrixPerson {
        let name = "\(prefix)\(UInt32.random(in: 100_000...999_999))"
        let password = "pw-\(UUID().uuidString)"
        let anonymous = MatrixClient(homeserver: url)
        let nonce = try #require(try await anonymous.request(.GET, "/_synapse/admin/v1/register")["nonce"].string)
        let message = Data("\(nonce)\0\(name)\0\(password)\0\(admin ? "admin" : "notadmin")".utf8)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        let answer = try await anonymous.request(
            .POST, "/_synapse/admin/v1/register",
            body: [
                "nonce": .string(nonce), "username": .string(name), "password": .string(password),
                "admin": .bool(admin),
                "mac": .string(mac.map { String(format: "%02x", $0) }.joined()),
            ])
        let token = try #require(answer["access_token"].string)
        let userID = try #require(answer["user_id"].string)
        return MatrixPerson(
            userID: userID, name: name, password: password, token: token, client: anonymous.signedIn(with: token))
    }
}

/// A test account: speaks in rooms through the client-server API.
public struct MatrixPerson: Sendable {
    public let userID: String
    public let name: String
    public let password: String
    public let token: String
    public let client: MatrixClient

    /// Creates a room, inviting `invite`; a direct chat when `direct`.
    public func createRoom(invite: [MatrixPerson], direct: Bool = false, alias: String? = nil) async throws -> String {
        var body: JSON = [
            "invite": .array(invite.map { .string($0.userID) }), "is_direct": .bool(direct),
            "preset": direct ? "trusted_private_chat" : "public_chat",
        ]
        if let alias, case .object(var members) = body {
            members["room_alias_name"] = .string(alias)
            body = .object(members)
        }
        let answer = try await client.request(.POST, "/_matrix/client/v3/createRoom", body: body)
        return try #require(answer["room_id"].string)
    }

    /// Joins a room (an id or an alias).
    public func join(_ room: String) async throws {
        try await client.request(.POST, "/_matrix/client/v3/join/\(MatrixClient.encode(room))", body: [:])
    }

    /// Says `text` in `room`, in `thread` when given; returns the event id.
    @discardableResult
    public func say(_ text: String, in room: String, thread: String? = nil) async throws -> String {
        var content: [String: JSON] = ["msgtype": "m.text", "body": .string(text)]
        if let thread {
            content["m.relates_to"] = [
                "rel_type": "m.thread", "event_id": .string(thread), "is_falling_back": true,
                "m.in_reply_to": ["event_id": .string(thread)],
            ]
        }
        let path =
            "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/send/m.room.message/\(UUID().uuidString)"
        let answer = try await client.request(.PUT, path, body: .object(content))
        return try #require(answer["event_id"].string)
    }

    /// The user ids joined to `room`.
    public func members(of room: String) async throws -> Set<String> {
        let answer = try await client.request(
            .GET, "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/joined_members")
        return Set((answer["joined"].object ?? [:]).keys)
    }

    /// Waits until `user` has joined `room`; false after `seconds`.
    public func waitUntil(_ user: String, joins room: String, seconds: Int = 20) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await members(of: room).contains(user) { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await members(of: room).contains(user)
    }
}

/// One message someone posted, as a person's client shows it: edits applied in place.
public struct MatrixSeenMessage: Sendable {
    public var room: String
    public var eventID: String
    public var sender: String
    public var thread: String?
    public var msgtype: String
    public var text: String
    public var html: String?
    /// The largest event content (in JSON bytes) that carried this message or one of its edits.
    public var size: Int
    /// How many times it was edited (`m.replace`).
    public var edits = 0
}

/// Follows `/sync` as a person and keeps every message posted by `sender`, edits applied in place.
public final class MatrixWatcher: Sendable {
    private final class Seen: Sendable {
        let messages = Mutex<[MatrixSeenMessage]>([])
    }

    private let seen: Seen
    private let task: Task<Void, Never>

    public init(as person: MatrixPerson, watching sender: String) {
        let seen = Seen()
        self.seen = seen
        task = Task {
            var since: String?
            while !Task.isCancelled {
                var query = [("timeout", "5000"), ("filter", #"{"room":{"timeline":{"limit":500}}}"#)]
                if let since { query.append(("since", since)) }
                guard
                    let batch = try? await person.client.request(
                        .GET, "/_matrix/client/v3/sync", query: query, timeout: .seconds(20))
                else {
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                since = batch["next_batch"].string
                for (room, joined) in batch["rooms"]["join"].object ?? [:] {
                    for event in joined["timeline"]["events"].array ?? [] {
                        guard event["type"].string == "m.room.message", event["sender"].string == sender else {
                            continue
                        }
                        seen.messages.withLock { Self.apply(event, in: room, to: &$0) }
                    }
                }
            }
        }
    }

    private static func apply(_ event: JSON, in room: String, to seen: inout [MatrixSeenMessage]) {
        let content = event["content"]
        guard let eventID = event["event_id"].string else { return }
        let size = content.encoded.count
        let relation = content["m.relates_to"]
        let new = content["m.new_content"]
        if relation["rel_type"].string == "m.replace", let original = relation["event_id"].string,
            let index = seen.firstIndex(where: { $0.eventID == original })
        {
            seen[index].text = new["body"].string ?? ""
            seen[index].html = new["formatted_body"].string
            seen[index].size = max(seen[index].size, size)
            seen[index].edits += 1
            return
        }
        seen.append(
            MatrixSeenMessage(
                room: room, eventID: eventID, sender: event["sender"].string ?? "",
                thread: relation["rel_type"].string == "m.thread" ? relation["event_id"].string : nil,
                msgtype: content["msgtype"].string ?? "", text: content["body"].string ?? "",
                html: content["formatted_body"].string, size: size))
    }

    /// Everything seen so far, in order.
    public var messages: [MatrixSeenMessage] { seen.messages.withLock { $0 } }

    /// Waits for a message matching `test`, up to `seconds`.
    public func wait(seconds: Int = 20, for test: (MatrixSeenMessage) -> Bool) async throws -> MatrixSeenMessage? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let found = messages.first(where: test) { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        return messages.first(where: test)
    }

    public func stop() { task.cancel() }
}

extension TestService {
    /// The Synapse `scripts/test` starts.
    public static let synapse = TestService.environment(
        "Synapse", variables: ["PARLEY_TEST_MATRIX_URL", "PARLEY_TEST_MATRIX_SECRET"],
        hint: "scripts/test starts it and sets PARLEY_TEST_MATRIX_URL and PARLEY_TEST_MATRIX_SECRET")
}
