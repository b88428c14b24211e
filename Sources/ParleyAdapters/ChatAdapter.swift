import Logging
import ParleyCore
import ParleyEngine
import Synchronization

/// A chat platform connected to the engine. It turns platform events into `Inbound` messages and
/// renders the engine's `Reply` in the platform's dialect; it decides nothing itself.
public protocol ChatAdapter: Sendable {
    /// The platform name used in identities (`local`, `slack`, `irc` …).
    var platform: String { get }
    /// Connects and handles messages until the connection ends or the task is cancelled.
    func run(engine: any MessageHandler) async throws
    /// True while the adapter is connected to its platform (for `/readyz` and `/metrics`).
    var isConnected: Bool { get }
    /// True when its connection receives every event (IRC, Matrix `/sync`, Slack Socket Mode): with
    /// several replicas only one may hold it, or each message is answered once per replica. False for
    /// an adapter that only receives by HTTP, which every replica serves.
    var needsLeader: Bool { get }
    /// Posts a message nobody asked for in a room (an approval's outcome, an alert), in a thread when
    /// given. Adapters that cannot post on their own throw `AdapterError.cannotPost`.
    func post(_ reply: Reply, room: String, thread: String?) async throws
    /// Posts like `post` and returns the platform's id for the (first) message, for later edits and
    /// thread replies; nil where the platform has none (IRC).
    func send(_ reply: Reply, room: String, thread: String?) async throws -> String?
    /// Replaces a message Parley posted; false where the platform cannot edit messages.
    func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool
    /// Makes a room named `name` with `topic`, Parley in it, and invites people by their ids on the
    /// platform; `near` is the room the request came from (Mattermost makes the new channel in its
    /// team). Returns the new room's id, or nil where the platform cannot make rooms (IRC, the terminal).
    func createRoom(name: String, topic: String, inviting: [String], near: String?) async throws -> String?
    /// The room a direct message to `user` (their id on the platform) is posted in: the user id itself
    /// where the platform takes it as a destination (an IRC nick, a Slack user id), a direct channel
    /// it opens (Mattermost); nil where Parley cannot write to one person alone.
    func directRoom(for user: String) async throws -> String?
}

extension ChatAdapter {
    /// Adapters without a connection of their own (the terminal) are always ready.
    public var isConnected: Bool { true }

    /// A connection of its own, unless the adapter says otherwise.
    public var needsLeader: Bool { true }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        throw AdapterError.cannotPost(platform)
    }

    public func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        try await post(reply, room: room, thread: thread)
        return nil
    }

    public func edit(_ reference: String, room: String, with reply: Reply) async throws -> Bool { false }

    public func createRoom(name: String, topic: String, inviting: [String], near: String?) async throws -> String? {
        nil
    }

    public func directRoom(for user: String) async throws -> String? { nil }
}

/// Why an adapter could not do what was asked.
public enum AdapterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The platform cannot take a message Parley starts on its own.
    case cannotPost(String)
    /// The adapter is not connected right now.
    case notConnected(String)
    /// The platform refused a request, with its reason.
    case refused(platform: String, reason: String)

    public var description: String {
        switch self {
        case .cannotPost(let platform): return "the \(platform) adapter cannot post on its own"
        case .notConnected(let platform): return "the \(platform) adapter is not connected"
        case .refused(let platform, let reason): return "\(platform) refused the request: \(reason)"
        }
    }
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

/// A value an adapter's tasks share: set by one, read by any.
public final class SharedValue<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    /// Creates a holder with a first value.
    public init(_ value: Value) {
        self.value = Mutex(value)
    }

    /// The current value.
    public var current: Value { value.withLock { $0 } }

    /// Replaces the value.
    public func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}

extension ConnectionState {
    /// For adapters whose platform calls them over HTTP: runs `check` (a call that proves the
    /// credentials work, returning a line to log when it first succeeds) every five minutes, connected
    /// while it succeeds, retrying with backoff from 1 s to 60 s when it fails, until cancelled.
    func keepChecking(
        _ what: String, logger: Logger, every interval: Duration = .seconds(300),
        _ check: () async throws -> String
    ) async {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                let greeting = try await check()
                if !isConnected { logger.info("\(greeting)") }
                set(true)
                backoff = .seconds(1)
                try await Task.sleep(for: interval)
            } catch is CancellationError {
                break
            } catch {
                set(false)
                logger.warning("\(what) failed: \(error); retrying in \(backoff)")
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(60))
            }
        }
        set(false)
    }
}
