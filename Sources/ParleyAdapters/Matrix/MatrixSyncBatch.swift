import ParleyCore

/// What a `/sync` answer says, read without acting on it: the rooms with new timeline events, the
/// invitations, and each event as a message the engine may be handed. Pure, so that the decoding of
/// a homeserver's answer can be tested and fuzzed apart from the connection.
struct MatrixSyncBatch: Sendable {
    /// The whole answer.
    let body: JSON
    /// The account Parley is signed in as.
    let userID: String

    /// The position to sync from next time.
    var nextBatch: String? { body["next_batch"].string }

    /// The joined rooms with their part of the answer, by room id.
    var joinedRooms: [String: JSON] { body["rooms"]["join"].object ?? [:] }

    /// The rooms Parley is invited to, each with the user who invited it when the answer says so.
    var invitations: [(room: String, inviter: String?)] {
        (body["rooms"]["invite"].object ?? [:]).map { room, invite in
            let inviter = (invite["invite_state"]["events"].array ?? []).first {
                $0["type"].string == "m.room.member" && $0["state_key"].string == userID
                    && $0["content"]["membership"].string == "invite"
            }?["sender"].string
            return (room, inviter)
        }
    }

    /// True when a joined room's part has a membership change, so its member count is stale.
    static func changesMembers(_ joined: JSON) -> Bool {
        let events = (joined["timeline"]["events"].array ?? []) + (joined["state"]["events"].array ?? [])
        return events.contains { $0["type"].string == "m.room.member" }
    }

    /// The timeline from after Parley's own most recent join: what was said before it came in is not for it.
    func sinceOwnJoin(_ events: [JSON]) -> [JSON] {
        guard let joinedAt = events.lastIndex(where: isOwnJoin) else { return events }
        return Array(events[events.index(after: joinedAt)...])
    }

    func isOwnJoin(_ event: JSON) -> Bool {
        event["type"].string == "m.room.member" && event["state_key"].string == userID
            && event["content"]["membership"].string == "join"
            && event["unsigned"]["prev_content"]["membership"].string != "join"
    }
}

/// A room message someone other than Parley sent, as a `/sync` event carries it.
struct MatrixMessage: Sendable, Equatable {
    let eventID: String
    let sender: String
    /// The body of a plain-text message (`m.text`); nil for notices, images and the like.
    let text: String?
    /// True for an edit (`m.replace`) of an earlier message.
    let isEdit: Bool
    /// The thread root, for a message in a thread.
    let thread: String?

    /// The message in an event; nil when the event is not a message, lacks its id or sender, or is Parley's own.
    init?(_ event: JSON, userID: String) {
        guard event["type"].string == "m.room.message", let eventID = event["event_id"].string,
            let sender = event["sender"].string, sender != userID
        else { return nil }
        let content = event["content"]
        let relation = content["m.relates_to"]
        self.eventID = eventID
        self.sender = sender
        self.text = content["msgtype"].string == "m.text" ? content["body"].string : nil
        self.isEdit = relation["rel_type"].string == "m.replace"
        self.thread = relation["rel_type"].string == "m.thread" ? relation["event_id"].string : nil
    }
}
