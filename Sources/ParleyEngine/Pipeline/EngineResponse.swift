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
    /// Who the reply is for: the room, or only the person who sent the message.
    public var audience: Audience
    /// The gate the reply asks people to answer (its Approve and Deny buttons), when it opens one.
    public var openedGate: OpenedGate?
    /// The gate this message answered, once it is settled (by this answer or before it), so that the
    /// message that asked for it can stop offering its buttons.
    public var settledGate: SettledGate?

    /// Creates a response.
    public init(
        reply: Reply, outcome: Outcome, runID: Int64?, audience: Audience = .room, openedGate: OpenedGate? = nil,
        settledGate: SettledGate? = nil
    ) {
        self.reply = reply
        self.outcome = outcome
        self.runID = runID
        self.audience = audience
        self.openedGate = openedGate
        self.settledGate = settledGate
    }

    /// Who a reply is for.
    public enum Audience: String, Sendable, Equatable {
        /// Everyone in the room the message came from.
        case room
        /// Only its sender (a refusal nobody else needs to read), where the platform can show a
        /// message to one person; in the room elsewhere.
        case sender
    }

    /// How a message ended.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        case succeeded, failed
        case timedOut = "timed_out"
        case interrupted, denied, unknown, invalid
        /// Waiting at a gate: a confirmation or approvals.
        case pending

        public init(_ status: RunStatus) {
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
