/// One message as an adapter received it, before Parley decided anything about it.
public struct Inbound: Sendable {
    /// Who sent it.
    public var sender: Identity
    /// A display name for replies and logs, when the platform gives one.
    public var senderName: String?
    /// Where it was said (`#ops`, a Matrix room id, `terminal`).
    public var room: String
    /// The thread it belongs to, where the platform has threads.
    public var thread: String?
    /// The platform's own id for the event; used to drop platform retries.
    public var eventID: String?
    /// The text as typed.
    public var text: String
    /// True in a direct conversation, where no prefix or mention is needed.
    public var isDirect: Bool

    /// Creates an inbound message.
    public init(
        sender: Identity, senderName: String? = nil, room: String, thread: String? = nil,
        eventID: String? = nil, text: String, isDirect: Bool
    ) {
        self.sender = sender
        self.senderName = senderName
        self.room = room
        self.thread = thread
        self.eventID = eventID
        self.text = text
        self.isDirect = isDirect
    }
}
