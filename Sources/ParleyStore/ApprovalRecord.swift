import Foundation

/// A gate a command waits at: other people's approvals, or the requester's confirmation.
public enum GateKind: String, Sendable, Codable {
    case approval
    case confirmation
}

/// Where a gate stands.
public enum GateStatus: String, Sendable, Codable {
    case pending, approved, denied, expired
}

/// A command waiting at a gate, stored so that it survives a restart.
/// A record: its fields are the columns of the `approval` table.
public struct ApprovalRequest: Sendable, Equatable, Codable {
    /// The short code people type: `approve K7QXM2TA`, `yes 4821`.
    public var id: String
    public var kind: GateKind
    /// The run that waits.
    public var runID: Int64
    public var commandID: String
    /// The command as typed.
    public var text: String
    /// SHA-256 of the exact parsed command and arguments: the approval releases only this.
    public var commandHash: String
    public var requesterUser: String?
    public var requesterIdentity: String
    public var room: String
    public var platform: String
    public var thread: String?
    /// Approvals needed.
    public var required: Int
    /// Roles whose holders may approve; empty means anyone who may run the command.
    public var approverRoles: [String]
    /// True when the request also needs approvals after this confirmation.
    public var thenApprovals: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var status: GateStatus
    public var decidedAt: Date?
    public var reason: String
    /// For a runbook's approval gate: the index of the step that waits.
    public var step: Int?
    /// SHA-256 of the plan output the approvers saw; the action runs only if a fresh plan matches.
    public var planHash: String?

    /// Creates a request.
    public init(
        id: String, kind: GateKind, runID: Int64, commandID: String, text: String, commandHash: String,
        requesterUser: String?, requesterIdentity: String, room: String, platform: String, thread: String? = nil,
        required: Int, approverRoles: [String], thenApprovals: Int = 0, createdAt: Date = Date(), expiresAt: Date,
        status: GateStatus = .pending, decidedAt: Date? = nil, reason: String = "", step: Int? = nil
    ) {
        self.step = step
        self.id = id
        self.kind = kind
        self.runID = runID
        self.commandID = commandID
        self.text = text
        self.commandHash = commandHash
        self.requesterUser = requesterUser
        self.requesterIdentity = requesterIdentity
        self.room = room
        self.platform = platform
        self.thread = thread
        self.required = required
        self.approverRoles = approverRoles
        self.thenApprovals = thenApprovals
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.status = status
        self.decidedAt = decidedAt
        self.reason = reason
    }
}

/// One person's answer to an approval request.
public struct ApprovalVote: Sendable, Equatable, Codable {
    public var approvalID: String
    /// The voter's Parley user name (or identity, for a guest): one vote per person.
    public var voter: String
    public var identity: String
    public var approve: Bool
    public var reason: String
    public var at: Date

    /// Creates a vote.
    public init(
        approvalID: String, voter: String, identity: String, approve: Bool, reason: String = "", at: Date = Date()
    ) {
        self.approvalID = approvalID
        self.voter = voter
        self.identity = identity
        self.approve = approve
        self.reason = reason
        self.at = at
    }
}
