import ParleyCore
import ParleyEngine

/// A chat platform connected to the engine. It turns platform events into `Inbound` messages and
/// renders the engine's `Reply` in the platform's dialect; it decides nothing itself.
public protocol ChatAdapter: Sendable {
    /// The platform name used in identities (`local`, `slack`, `irc` …).
    var platform: String { get }
    /// Connects and handles messages until the connection ends or the task is cancelled.
    func run(engine: Engine) async throws
}
