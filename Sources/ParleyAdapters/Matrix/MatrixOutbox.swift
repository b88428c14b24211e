import Foundation
import Logging
import ParleyCore

/// Sends Parley's messages into rooms. Each message gets a transaction id once, kept across the
/// retries of that message (the client's, `MatrixClient.policy`), so the homeserver stores it once
/// however often it is sent.
struct MatrixOutbox: Sendable {
    let client: MatrixClient
    let logger: Logger

    /// Sends one event's content; returns its event id.
    @discardableResult
    func send(_ content: JSON, to room: String) async throws -> String {
        let transaction = "parley-" + UUID().uuidString
        let path =
            "/_matrix/client/v3/rooms/\(MatrixClient.encode(room))/send/m.room.message/\(transaction)"
        return try await client.request(.PUT, path, body: content)["event_id"].string ?? ""
    }

    /// Sends a reply as one or more notices, in `thread` when given; returns their event ids.
    @discardableResult
    func send(_ reply: Reply, to room: String, thread: MatrixThread?) async throws -> [String] {
        var ids: [String] = []
        for text in MatrixRendering.messages(reply) {
            ids.append(try await send(Self.placed(text.notice, in: thread), to: room))
        }
        return ids
    }

    /// Replaces the text of Parley's own message `eventID` (`m.replace`).
    func edit(_ eventID: String, in room: String, with text: MatrixText) async throws {
        var fallback = text.plain
        if fallback.utf8.count > 1_000 { fallback = String(fallback.prefix(500)) + " …" }
        let content: JSON = [
            "msgtype": "m.notice", "body": .string("* " + fallback),
            "m.new_content": text.notice,
            "m.relates_to": ["rel_type": "m.replace", "event_id": .string(eventID)],
        ]
        try await send(content, to: room)
    }

    /// `content` placed in a thread: related to its root, as a reply to the message answered.
    static func placed(_ content: JSON, in thread: MatrixThread?) -> JSON {
        guard let thread, case .object(var members) = content else { return content }
        members["m.relates_to"] = [
            "rel_type": "m.thread", "event_id": .string(thread.root), "is_falling_back": true,
            "m.in_reply_to": ["event_id": .string(thread.inReplyTo ?? thread.root)],
        ]
        return .object(members)
    }
}

/// A Matrix thread a reply goes to: its root event, and the message answered in it.
struct MatrixThread: Sendable, Equatable {
    var root: String
    var inReplyTo: String?
}
