import Logging
import ParleyCore

/// Posts to rooms on any platform, addressed as `platform:room`. The server implements it over its
/// adapters; the engine only knows this protocol.
public protocol RoomMessenger: Sendable {
    /// Posts a message (in a thread when given); returns the platform's id for it, when it has one.
    func send(_ reply: Reply, to room: String, thread: String?) async throws -> String?
    /// Replaces a message posted earlier; false when the platform cannot edit messages.
    func edit(_ reference: String, in room: String, with reply: Reply) async throws -> Bool
    /// Makes a room on `platform` named `name` with a topic, inviting people by their platform ids;
    /// `near` is the room (on that platform) the request came from. Returns the new room's id there,
    /// or nil when the platform cannot make rooms.
    func createRoom(platform: String, name: String, topic: String, inviting: [String], near: String?) async throws
        -> String?
    /// The room (`platform:room`) a direct message to `user` (their id on `platform`) goes to, or nil
    /// when Parley cannot write to them alone there.
    func directRoom(platform: String, user: String) async throws -> String?
}

extension RoomMessenger {
    public func directRoom(platform: String, user: String) async throws -> String? { nil }

    public func createRoom(platform: String, name: String, topic: String, inviting: [String], near: String?)
        async throws -> String?
    {
        nil
    }

    /// Runs `command` as a service identity (an automation, a schedule), under the same policy, gates
    /// and audit as a person's command, and posts the answer under `header` to `room`, when there is one.
    func runAsService(
        _ command: String, as identity: Identity, postingTo room: String?, defaultRoom: String, header: String,
        engine: Engine, logger: Logger
    ) async {
        let inbound = Inbound(sender: identity, room: room ?? defaultRoom, eventID: nil, text: command, isDirect: true)
        guard let response = await engine.handle(inbound), let room else { return }
        var reply = response.reply
        reply.blocks.insert(.text(header), at: 0)
        do {
            _ = try await send(reply, to: room, thread: nil)
        } catch {
            logger.warning("cannot post the result of `\(command)` to \(room): \(error)")
        }
    }
}
