import ParleyCore
import ParleyStore
import Synchronization

/// A command built into Parley: its declaration is its help text and its argument spec.
public struct BuiltinCommand: Sendable {
    /// The declaration the parser and policy see.
    public let declaration: CommandDeclaration
    /// The body; nil for the gate commands (`approve`, `deny`, `yes`, `approvals`), which the
    /// engine answers itself because they release other commands.
    let body: (@Sendable (BuiltinCall) async throws -> Reply)?
    /// True when it only answers: it changes nothing and does not refer to its run, so it is recorded
    /// in one commit with its outcome, before the answer is shown.
    let changesNothing: Bool

    /// Declares a built-in: `BuiltinCommand("echo {message:text}", help: "Repeat a message") { … }`.
    /// Its id is its first word unless `id` names it (`incident.declare`); `also` are further usages
    /// of the same command (another word order, a shorter form).
    init(
        _ usage: String, also: [String] = [], id: String? = nil, help: String, examples: [String] = [],
        changesNothing: Bool = false, body: (@Sendable (BuiltinCall) async throws -> Reply)?
    ) {
        self.changesNothing = changesNothing
        // Built-in usages are constants checked by the test suite, not outside input.
        let patterns = ([usage] + also).map { try! UsagePattern($0) }
        let id = id ?? patterns[0].leadingWords.first ?? usage
        declaration = CommandDeclaration(
            id: id, patterns: patterns, help: help, examples: examples, action: .builtin(id))
        self.body = body
    }
}

/// One invocation of a built-in: its arguments, who asked, and what it may look at.
public struct BuiltinCall: Sendable {
    /// The parsed command.
    public let parsed: ParsedCommand
    /// Who asked.
    public let principal: Principal
    /// The run's number.
    public let runID: Int64
    /// Where it was asked: the room's name on its platform.
    public let room: String
    /// The platform it was asked from.
    public let platform: String
    /// The engine's read-only services.
    let services: BuiltinServices

    /// Who asked, as records name them: the Parley user, else the platform identity.
    var actor: String { principal.userName ?? principal.identity.description }

    /// The text of argument `name`, if given.
    public subscript(_ name: String) -> String? { parsed.arguments[name]?.text }

    /// True when flag `name` was given.
    public func flag(_ name: String) -> Bool { parsed.flags.contains(name) }
}

/// What built-ins may consult: the catalogue, the policy, the directory and the store.
struct BuiltinServices: Sendable {
    let catalogue: CommandCatalogue
    let policy: Policy
    let directory: Directory
    let store: any ParleyStorage
    let replyLimits: ReplyLimits
    /// The web console's run page without the id (`http://host/runs/`), linked from long output.
    let runPageURL: String?
    let masker: SecretMasker
    /// Alertmanager's API, when `alerts.alertmanager_url` is configured.
    let alertmanager: AlertmanagerClient?
    /// How incidents are run.
    let incidents: IncidentSettings
    /// The on-call schedules.
    let oncall: OnCallSettings
    /// Pages people through escalation policies.
    let pager: Pager
    /// Posts to other rooms (stakeholders, an incident's room), once the server has attached its adapters.
    let messenger: MessengerSlot
}

/// The messenger the server attaches to the engine after both are made (the engine is made first);
/// empty in `parley run` and `parley chat`, which post nowhere else.
final class MessengerSlot: Sendable {
    private let current = Mutex<(any RoomMessenger)?>(nil)

    var messenger: (any RoomMessenger)? { current.withLock { $0 } }

    func attach(_ messenger: any RoomMessenger) { current.withLock { $0 = messenger } }
}

/// Answers reply-only commands: nothing runs, the command's `reply:` template is the answer.
struct ReplyExecutor: ActionExecutor {
    func canRun(_ action: ActionSpec) -> Bool { action == .reply }

    func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult {
        ActionResult(status: .succeeded)
    }
}

/// Runs built-in commands.
struct BuiltinExecutor: ActionExecutor {
    let builtins: [String: BuiltinCommand]
    let services: BuiltinServices

    func canRun(_ action: ActionSpec) -> Bool {
        if case .builtin(let name) = action { return builtins[name] != nil }
        return false
    }

    func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult {
        guard case .builtin(let name) = action, let body = builtins[name]?.body else {
            return ActionResult(status: .failed, message: "no built-in command \(action)")
        }
        let call = BuiltinCall(
            parsed: request.parsed, principal: request.principal, runID: request.runID, room: request.room,
            platform: request.platform, services: services)
        do {
            let reply = try await body(call)
            return ActionResult(status: .succeeded, output: reply.plainText, reply: reply)
        } catch {
            return ActionResult(status: .failed, message: "\(name) failed: \(error)")
        }
    }
}
