import NIOCore
import Synchronization

/// The adapter's current connection, shared by the session that owns it and anyone posting through it.
final class IRCLink: Sendable {
    /// What is known about the connection.
    struct Current: Sendable {
        var writer: IRCWriter
        var channel: any Channel
        /// Parley's nick on the server.
        var nick: String
        /// Parley's `nick!user@host` as the server relays it, once seen.
        var source: String?
        /// The channels Parley is in, lowercased.
        var channels: Set<String> = []
    }

    private let state = Mutex<Current?>(nil)

    var current: Current? { state.withLock { $0 } }

    func open(_ current: Current) { state.withLock { $0 = current } }

    func close() { state.withLock { $0 = nil } }

    func update(_ change: (inout Current) -> Void) {
        state.withLock { current in
            guard var value = current else { return }
            change(&value)
            current = value
        }
    }
}
