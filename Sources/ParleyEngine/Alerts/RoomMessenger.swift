import ParleyCore

/// Posts to rooms on any platform, addressed as `platform:room`. The server implements it over its
/// adapters; the engine only knows this protocol.
public protocol RoomMessenger: Sendable {
    /// Posts a message (in a thread when given); returns the platform's id for it, when it has one.
    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String?
    /// Replaces a message posted earlier; false when the platform cannot edit messages.
    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool
}
