import ParleyCore

/// What an adapter needs of the running system: a place to hand messages, and the configuration and
/// directory it reads to turn platform events into them. `Engine` is the one in production; tests may
/// hand an adapter anything that answers.
public protocol MessageHandler: Sendable {
    /// The configuration in force (addressing names, the server's public URL, the data directory).
    var config: ParleyConfig { get }
    /// Who is who, for adapters that decide what to let in (room invitations).
    var directory: Directory { get }
    /// Handles one message. Returns nil when the message is not for Parley or is a platform's retry.
    /// `onOutput` receives a running action's output a line at a time, masked.
    func handle(_ inbound: Inbound, onOutput: (@Sendable (String) -> Void)?) async -> EngineResponse?
    /// How gate `id` (an approval request or a confirmation) ended, once it has; nil while it waits.
    /// A gate whose time is up is expired first. For adapters that update the message that asked.
    func settledGate(_ id: String) async -> SettledGate?
    /// A small value an adapter keeps across restarts and takeovers (Matrix's sync position), from
    /// the store every replica shares; nil when none was kept.
    func adapterState(_ key: String) async throws -> String?
    /// Keeps `value` for `adapterState(key)`.
    func setAdapterState(_ key: String, _ value: String) async throws
    /// A message someone pinned (or marked 📌) in `room`, for the timeline of the incident open
    /// there; `eventID` is the platform's id of the pin, so a redelivery adds nothing. False when no
    /// incident is open in the room.
    func pin(_ text: String, by sender: Identity, in room: String, eventID: String) async -> Bool
}

extension MessageHandler {
    public func pin(_ text: String, by sender: Identity, in room: String, eventID: String) async -> Bool { false }

    /// Handles one message whose output is shown only with the reply.
    public func handle(_ inbound: Inbound) async -> EngineResponse? {
        await handle(inbound, onOutput: nil)
    }
}

extension Engine: MessageHandler {
    public func adapterState(_ key: String) async throws -> String? {
        try await store.metadata("adapter:" + key)
    }

    public func setAdapterState(_ key: String, _ value: String) async throws {
        try await store.setMetadata("adapter:" + key, value)
    }

    public func settledGate(_ id: String) async -> SettledGate? {
        do {
            return try await gates.settlement(of: id)
        } catch {
            logger.warning("cannot read gate \(id): \(error)")
            return nil
        }
    }
}
