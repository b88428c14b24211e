import Foundation

/// What happened to a command, from the moment the engine received it.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    /// The command was refused before running: unknown, invalid or denied.
    case rejected
    /// Waiting for the requester to confirm.
    case awaitingConfirmation = "awaiting_confirmation"
    /// Waiting for approvals.
    case awaitingApproval = "awaiting_approval"
    /// An approval or confirmation ran out of time.
    case expired
    /// The action is running.
    case running
    /// The action finished successfully.
    case succeeded
    /// The action finished with a failure (non-zero exit, or it could not start).
    case failed
    /// The action ran past its timeout and was stopped.
    case timedOut = "timed_out"
    /// The process running the action stopped before the action finished.
    case interrupted
    /// Someone cancelled it while it ran.
    case cancelled
    /// Shown with --dry-run; nothing ran.
    case dryRun = "dry_run"
}

/// The engine's verdict on a message before running anything.
public enum RunDecision: String, Sendable, Codable {
    /// Parsed and permitted.
    case allowed
    /// Parsed but not permitted.
    case denied
    /// No such command.
    case unknown
    /// A known command with wrong arguments.
    case invalid
}

/// One command as it reached the engine: who, where, what, the decision and the outcome.
/// A value with one field per fact recorded about a run (it is the `run` row's model).
public struct RunRecord: Sendable, Equatable, Codable {
    /// The run's number, assigned by the store.
    public var id: Int64?
    /// When the engine received the command.
    public var createdAt: Date
    /// When the run reached a final status.
    public var finishedAt: Date?
    /// The Parley user, or nil for a guest.
    public var userName: String?
    /// The platform identity that sent it (`slack:U123`).
    public var identity: String
    /// Where it was said.
    public var room: String
    /// The thread, where the platform has threads.
    public var thread: String?
    /// The text as typed.
    public var text: String
    /// The command's id, once recognised.
    public var commandID: String?
    /// The parsed arguments, as text.
    public var arguments: [String: String]
    /// The verdict.
    public var decision: RunDecision
    /// Why: the granting role, the denial, or the parse error.
    public var reason: String
    /// Where the run stands.
    public var status: RunStatus
    /// The program's exit status, when it exited.
    public var exitCode: Int?
    /// How long the action ran, in milliseconds.
    public var durationMilliseconds: Int?
    /// The action's combined output, up to the action's cap.
    public var output: String
    /// True when output beyond the cap was dropped.
    public var outputTruncated: Bool
    /// The process running it (`host/pid/starttime/bootid`, or `host/pid` as recorded before start
    /// times were), so that another process does not take it for abandoned.
    public var owner: String?
    /// The process group of the program it last started, so a restart can stop what a crash left running.
    public var processGroup: Int32?
    /// When that program started (clock ticks after boot), so a restart never stops a later process
    /// that was given the same number.
    public var processStartTime: Int64?
    /// The run's fencing token: it grows by one each time another process takes the run over (a
    /// survivor adopting or interrupting a dead replica's run). A state change is written only while
    /// the stored epoch is still this one, so a replica that was slow, not dead, cannot finish a run
    /// someone else has taken over (`RunTakenOver`).
    public var epoch: Int64 = 0

    /// Creates a record.
    public init(
        id: Int64? = nil, createdAt: Date = Date(), finishedAt: Date? = nil, userName: String?, identity: String,
        room: String, thread: String? = nil, text: String, commandID: String? = nil, arguments: [String: String] = [:],
        decision: RunDecision, reason: String = "", status: RunStatus, exitCode: Int? = nil,
        durationMilliseconds: Int? = nil, output: String = "", outputTruncated: Bool = false, owner: String? = nil
    ) {
        self.owner = owner
        self.id = id
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.userName = userName
        self.identity = identity
        self.room = room
        self.thread = thread
        self.text = text
        self.commandID = commandID
        self.arguments = arguments
        self.decision = decision
        self.reason = reason
        self.status = status
        self.exitCode = exitCode
        self.durationMilliseconds = durationMilliseconds
        self.output = output
        self.outputTruncated = outputTruncated
    }
}

/// Which runs to list, newest first.
public struct RunQuery: Sendable, Equatable {
    /// At most this many.
    public var limit: Int
    /// Only this user's runs.
    public var userName: String?
    /// Only runs of this command.
    public var commandID: String?
    /// Only runs in this status.
    public var status: RunStatus?
    /// Leave out these commands (the engine hides its own chatter such as `help`).
    public var excludingCommands: Set<String>

    /// Creates a query.
    public init(
        limit: Int = 10, userName: String? = nil, commandID: String? = nil, status: RunStatus? = nil,
        excludingCommands: Set<String> = []
    ) {
        self.limit = limit
        self.userName = userName
        self.commandID = commandID
        self.status = status
        self.excludingCommands = excludingCommands
    }
}
