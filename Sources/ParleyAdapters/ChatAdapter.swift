import ParleyCore
import ParleyEngine
import Synchronization

/// A chat platform connected to the engine. It turns platform events into `Inbound` messages and
/// renders the engine's `Reply` in the platform's dialect; it decides nothing itself.
public protocol ChatAdapter: Sendable {
    /// The platform name used in identities (`local`, `slack`, `irc` …).
    var platform: String { get }
    /// Connects and handles messages until the connection ends or the task is cancelled.
    func run(engine: Engine) async throws
    /// True while the adapter is connected to its platform (for `/readyz` and `/metrics`).
    var isConnected: Bool { get }
}

extension ChatAdapter {
    /// Adapters without a connection of their own (the terminal) are always ready.
    public var isConnected: Bool { true }
}

/// A connection state that an adapter's running task sets and anyone may read.
public final class ConnectionState: Sendable {
    private let connected = Mutex(false)

    /// Creates a state, disconnected.
    public init() {}

    /// Records whether the adapter is connected.
    public func set(_ value: Bool) { connected.withLock { $0 = value } }

    /// Whether the adapter is connected.
    public var isConnected: Bool { connected.withLock { $0 } }
}
