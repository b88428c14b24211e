import Foundation
import ParleyCore
import ParleyStore

/// Runs one kind of action. A new kind of action is a new executor; the parser and adapters do not change.
public protocol ActionExecutor: Sendable {
    /// True when this executor runs `action`.
    func canRun(_ action: ActionSpec) -> Bool
    /// Runs `action` for `request` and reports how it went. Never throws: failures are results.
    func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult
}

/// Everything an action needs to know about the command it runs for.
/// One value with everything an executor may read of a run, so executors take a single argument.
public struct ActionRequest: Sendable {
    /// The command and its checked arguments.
    public var parsed: ParsedCommand
    /// Who asked.
    public var principal: Principal
    /// Where it was asked.
    public var room: String
    /// The platform the message came from.
    public var platform: String
    /// The run's number.
    public var runID: Int64
    /// The run's lease epoch when the action started: what it records is written only while the run
    /// is still at it (nil: unfenced, for a run that is not recorded).
    public var epoch: Int64?
    /// Who approved the run, when it needed approvals.
    public var approvers: [String]
    /// Secret values the action may put in its environment, by name.
    public var secrets: [String: String]
    /// Receives output as it is produced (already masked), for live progress in the room.
    public var onOutput: (@Sendable (String) -> Void)?
    /// Told the process group of each program the action starts.
    public var onProcessStart: (@Sendable (Int32) -> Void)?
    /// Results of the runbook steps before this one, by step name.
    public var steps: [String: StepSummary] = [:]
    /// For a runbook resumed after an approval or a restart: the step to go on from.
    public var resumeStep: Int?
    /// Every secret Parley knows, so an executor can mask output before it cuts it to its cap.
    public var masker = SecretMasker(values: [])

    /// Creates a request.
    public init(
        parsed: ParsedCommand, principal: Principal, room: String, platform: String, runID: Int64,
        approvers: [String] = [], secrets: [String: String] = [:], onOutput: (@Sendable (String) -> Void)? = nil
    ) {
        self.onOutput = onOutput
        self.parsed = parsed
        self.principal = principal
        self.room = room
        self.platform = platform
        self.runID = runID
        self.approvers = approvers
        self.secrets = secrets
    }

    /// Arguments, flags and facts about the request, for rendering templates.
    public var templateContext: [String: Any] {
        var context = parsed.templateContext
        context["user"] = principal.displayName
        context["identity"] = principal.identity.description
        context["room"] = room
        context["platform"] = platform
        context["run_id"] = String(runID)
        context["command"] = parsed.command.id
        context["secrets"] = secrets
        if !steps.isEmpty { context["steps"] = steps.mapValues(\.templateValue) }
        return context
    }

    /// Variables every action's environment receives: who asked, where, which run.
    public var parleyEnvironment: [String: String] {
        [
            "PARLEY_USER": principal.userName ?? "",
            "PARLEY_IDENTITY": principal.identity.description,
            "PARLEY_ROLES": principal.roles.joined(separator: ","),
            "PARLEY_ROOM": room,
            "PARLEY_RUN_ID": String(runID),
            // With the run id, lets a restart find the program if its group was never noted (`OrphanScan`).
            OrphanScan.ownerVariable: ProcessOwner.current,
            "PARLEY_COMMAND": parsed.command.id,
            "PARLEY_APPROVERS": approvers.joined(separator: ","),
        ]
    }
}

/// What a finished runbook step left for the steps after it.
public struct StepSummary: Sendable, Equatable {
    public var status: String
    public var output: String
    public var outputs: [String: String]

    /// Creates a summary.
    public init(status: String, output: String = "", outputs: [String: String] = [:]) {
        self.status = status
        // `{{steps.pods.output}}` reads better without the program's final newline.
        self.output = output.trimmingCharacters(in: .newlines)
        self.outputs = outputs
    }

    var templateValue: [String: Any] { ["status": status, "output": output, "outputs": outputs] }
}

/// A runbook waiting at an approval gate.
public struct PendingGate: Sendable {
    /// The step that waits.
    public var step: Int
    public var requirements: Requirements
    /// What the approvers are told ("about to drain node-3").
    public var message: String
}

/// How an action went.
/// A value with one field per thing an action reports.
public struct ActionResult: Sendable {
    /// succeeded, failed or timedOut.
    public var status: RunStatus
    /// The program's exit status, when it exited.
    public var exitCode: Int?
    /// What the action printed (or, for built-ins, nothing: they answer with `reply`).
    public var output: String
    /// True when output beyond the cap was dropped.
    public var outputTruncated: Bool
    /// A sentence about a failure that is not in the output (could not start, killed by a signal).
    public var message: String?
    /// A ready-made reply, for actions that answer in rich form rather than with output.
    public var reply: Reply?
    /// Named values the action produced (extracted response fields), for the reply and later steps.
    public var outputs: [String: String] = [:]
    /// A table the action produced (rows of a JSON response).
    public var table: (header: [String], rows: [[String]])?
    /// Set when a runbook stopped at an approval gate.
    public var pendingGate: PendingGate?

    /// Creates a result.
    public init(
        status: RunStatus, exitCode: Int? = nil, output: String = "", outputTruncated: Bool = false,
        message: String? = nil, reply: Reply? = nil
    ) {
        self.status = status
        self.exitCode = exitCode
        self.output = output
        self.outputTruncated = outputTruncated
        self.message = message
        self.reply = reply
    }
}
