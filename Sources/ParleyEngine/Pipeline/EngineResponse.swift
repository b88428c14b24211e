import Foundation
import ParleyCore
import ParleyStore

/// The engine's answer to one message.
public struct EngineResponse: Sendable {
    /// What to show in the room.
    public var reply: Reply
    /// How it ended, for exit codes and metrics.
    public var outcome: Outcome
    /// The run's number, when one was recorded.
    public var runID: Int64?

    /// Creates a response.
    public init(reply: Reply, outcome: Outcome, runID: Int64?) {
        self.reply = reply
        self.outcome = outcome
        self.runID = runID
    }

    /// How a message ended.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case succeeded, failed
        case timedOut = "timed_out"
        case interrupted, denied, unknown, invalid
        /// Waiting at a gate: a confirmation or approvals.
        case pending

        init(_ status: RunStatus) {
            switch status {
            case .succeeded: self = .succeeded
            case .timedOut: self = .timedOut
            case .interrupted: self = .interrupted
            case .awaitingApproval, .awaitingConfirmation: self = .pending
            case .dryRun: self = .succeeded
            case .failed, .running, .rejected, .expired, .cancelled: self = .failed
            }
        }
    }
}

/// An engine response as JSON: `{"run_id": 12, "outcome": "succeeded", "text": "…", "blocks": […]}`,
/// the shape `parley run --json` prints and the JSON API returns.
public struct ReplyEnvelope: Encodable, Sendable {
    public let runID: Int64?
    public let outcome: String
    public let text: String
    public let blocks: [ReplyBlock]

    /// The JSON form of a response.
    public init(_ response: EngineResponse) {
        runID = response.runID
        outcome = response.outcome.rawValue
        text = response.reply.plainText
        blocks = response.reply.blocks
    }

    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
        case outcome, text, blocks
    }
}
