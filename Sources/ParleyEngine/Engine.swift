import Crypto
import Foundation
import Logging
import ParleyCore
import ParleyStore
import Synchronization

/// The running system: every adapter hands it messages, and it dedupes, identifies, parses,
/// authorizes, gates, runs, records and audits each one.
///
/// The engine's own state is immutable, and shared mutable state lives in actors (the audit log,
/// the rate limiter) or the store, so any number of messages are handled at once: a long-running
/// command never holds up another.
public final class Engine: Sendable {
    /// The configuration in force.
    public let config: ParleyConfig
    /// Built-ins and configured commands.
    public let catalogue: CommandCatalogue
    /// Who may run what.
    public let policy: Policy
    /// Who is who.
    public let directory: Directory
    /// The audit chain.
    public let audit: AuditLog
    /// Secret values and their masker.
    public let vault: SecretVault
    let store: any ParleyStorage
    let executors: [any ActionExecutor]
    let logger: Logger
    let rateLimiter = RateLimiter()
    let tracker = RunTracker()
    private let adopted = Mutex<[(RunRecord, Int)]>([])
    let concurrency = ConcurrencyLimiter()

    /// Creates an engine over a store. `executors` default to the exec executor; `auditClock` stamps
    /// audit entries and checkpoints.
    public init(
        config: ParleyConfig, store: any ParleyStorage,
        executors: [any ActionExecutor] = [ExecExecutor(), HTTPExecutor()],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "parley.engine"), auditClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        self.catalogue = CommandCatalogue(Builtins.declarations + config.commands)
        self.policy = Policy(roles: config.roles)
        self.directory = Directory(users: config.users, groups: config.groups)
        self.vault = SecretVault(config: config, environment: environment)
        var key: Curve25519.Signing.PrivateKey?
        do {
            key = try AuditKeys.load(config.audit, dataDirectory: config.dataDirectory, environment: environment)
        } catch {
            logger.error("the audit log cannot be signed: \(error)")
        }
        self.audit = AuditLog(
            store: store, masker: vault.masker, signingKey: key, schedule: config.audit.schedule,
            witnesses: AuditWitnesses.make(config.audit.witnesses), now: auditClock, logger: logger)
        self.store = store
        self.logger = logger
        let alertmanager = config.alerts.alertmanagerURL.map { url in
            AlertmanagerClient(
                baseURL: url, token: try? config.alerts.alertmanagerToken?.resolve(environment: environment).get())
        }
        let services = BuiltinServices(
            catalogue: catalogue, policy: policy, directory: directory, store: store, replyLimits: config.replyLimits,
            runPageURL: config.server.displayURL + "/runs/", masker: vault.masker, alertmanager: alertmanager)
        var byName: [String: BuiltinCommand] = [:]
        for builtin in Builtins.all { byName[builtin.declaration.id] = builtin }
        let runbooks = RunbookExecutor(steps: store, actions: executors, audit: audit, masker: vault.masker)
        self.executors = [BuiltinExecutor(builtins: byName, services: services), ReplyExecutor(), runbooks] + executors
    }

    /// True the first time a delivery id is seen (webhook sources that retry, such as GitHub).
    public func isNewDelivery(_ key: String) async throws -> Bool {
        try await store.firstSighting(of: key)
    }

    /// Call once at start: audits the configuration and any user or role changes since the last start,
    /// then settles the runs dead processes left (see `recoverAbandonedRuns`). Runbooks it takes over
    /// (when `resumeRunbooks`) go on with `resumeRunbooks()`. Returns the interrupted runs.
    public func start(resumeRunbooks: Bool = false) async throws -> [RunRecord] {
        // A chain a stopped or killed process left past due is signed before anything is appended.
        await audit.signIfDue()
        try await PolicySnapshot.auditChanges(engine: self)
        let recovered = try await recoverAbandonedRuns(resumeRunbooks: resumeRunbooks)
        adopted.withLock { $0 = recovered.adopted }
        return recovered.interrupted
    }

    /// Goes on with the runbooks `start(resumeRunbooks: true)` took over.
    public func resumeRunbooks() async {
        await resumeAdoptedRunbooks(adopted.withLock { $0 })
    }

    /// How many actions are running now.
    public var runsInFlight: Int {
        get async { await tracker.count }
    }

    /// Call when stopping: refuses new actions, lets running ones finish within `grace` and stops
    /// the rest (recorded as interrupted), then signs a checkpoint of the audit chain's head, so that
    /// entries removed from its end later are detected.
    ///
    /// Runs to the end even when the caller is cancelled (a service group stopping cancels its
    /// services): a cancelled wait would cut the grace short and a cancelled write lose the checkpoint.
    public func shutdown(grace: Duration = .zero) async {
        await Task.detached { await self.drainAndSign(grace: grace) }.value
    }

    private func drainAndSign(grace: Duration) async {
        let cancelled = await tracker.stop(grace: grace)
        if !cancelled.isEmpty { logger.warning("stopped \(cancelled.count) run(s) still in flight at shutdown") }
        // Give the cancelled runs a moment to record their interruption.
        for _ in 0..<50 where await tracker.count > 0 { try? await Task.sleep(for: .milliseconds(100)) }
        do {
            try await audit.checkpoint()
        } catch {
            logger.error("cannot sign the audit checkpoint at shutdown: \(error)")
        }
        await audit.settleWitnesses()
    }

    /// Handles one message. Returns nil when the message is not for Parley or is a platform's retry.
    /// `onOutput` receives a running action's output a line at a time, masked.
    public func handle(_ inbound: Inbound, onOutput: (@Sendable (String) -> Void)? = nil) async -> EngineResponse? {
        guard let text = config.addressing.commandText(in: inbound.text, isDirect: inbound.isDirect) else {
            return nil
        }
        let principal = directory.principal(for: inbound.sender)
        var context = MessageContext(
            inbound: inbound, principal: principal, text: vault.masker.mask(text), masker: vault.masker)
        if let onOutput {
            let live = LiveOutput(masker: vault.masker, sink: onOutput)
            context.onOutput = { chunk in live.receive(chunk) }
        }
        context.eventKey = inbound.eventID.map { "\(inbound.sender.platform):\($0)" }
        do {
            return try await handle(text, context)
        } catch is DuplicateMessage {
            return nil
        } catch {
            logger.error("cannot handle '\(context.text)': \(vault.masker.mask("\(error)"))")
            return EngineResponse(
                reply: .text(
                    "Parley could not record this command, so it did not run it: \(vault.masker.mask("\(error)"))"),
                outcome: .failed, runID: nil)
        }
    }

    /// Nothing is written until the message's first commit, which carries its event key and its
    /// "received" entry together with the run and the entry that follows (rejected, started, …).
    private func handle(_ text: String, _ context: MessageContext) async throws -> EngineResponse {
        switch catalogue.parse(text) {
        case .failure(let failure):
            let unknown = failure.isUnknownCommand
            var run = context.newRun(decision: unknown ? .unknown : .invalid, reason: failure.message)
            if case .mismatch(let command, _, _) = failure { run.commandID = command }
            return try await reject(
                run, context, kind: .rejected, reply: .text(failure.message), outcome: unknown ? .unknown : .invalid)
        case .success(let parsed):
            if Builtins.openCommands.contains(parsed.command.id) {
                try await arrive(context)
                return try await answerOpenCommand(parsed, context)
            }
            let request = PolicyRequest(
                principal: context.principal, parsed: parsed, room: context.inbound.room,
                platform: context.inbound.sender.platform)
            switch policy.evaluate(request) {
            case .denied(let reason, let decidedBy):
                var run = context.newRun(parsed, decision: .denied, reason: reason)
                run.status = .rejected
                return try await reject(
                    run, context, kind: .denied, reply: .text("denied: \(reason)"), outcome: .denied, detail: decidedBy)
            case .allowed(let grant, let requirements, let rules):
                let explanation = ([grant] + rules.map { "rule '\($0)'" }).joined(separator: "; ")
                if parsed.dryRun {
                    try await arrive(context)
                    return try await describeDryRun(
                        parsed, requirements: requirements, explanation: explanation, context)
                }
                // Only rate-limited commands pay for the key.
                let rateKey =
                    parsed.command.rate == nil
                    ? "" : "\(context.principal.userName ?? context.inbound.sender.description)|\(parsed.command.id)"
                let admittedAt = Date()
                if let limit = parsed.command.rate,
                    let wait = await rateLimiter.admit(rateKey, limit: limit, now: admittedAt)
                {
                    let reason = "\(parsed.command.id) is limited to \(limit) per person; try again in \(wait)s"
                    let run = context.newRun(parsed, decision: .denied, reason: reason)
                    return try await reject(run, context, kind: .rateLimited, reply: .text(reason), outcome: .denied)
                }
                let run = context.newRun(parsed, decision: .allowed, reason: explanation)
                do {
                    return try await admit(parsed, run: run, requirements: requirements, context)
                } catch let duplicate as DuplicateMessage {
                    // A platform's retry of a message already handled does not count against the person.
                    if parsed.command.rate != nil { await rateLimiter.refund(rateKey, at: admittedAt) }
                    throw duplicate
                }
            }
        }
    }

    /// Sends an allowed command through its gates: confirmation, then approvals, then running.
    private func admit(
        _ parsed: ParsedCommand, run: RunRecord, requirements: Requirements, _ context: MessageContext
    ) async throws -> EngineResponse {
        var run = run
        if requirements.confirm {
            run.status = .awaitingConfirmation
            run = try await arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
            return try await requestConfirmation(parsed, run: run, requirements: requirements, context)
        }
        if requirements.approvals > 0 {
            run.status = .awaitingApproval
            run = try await arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
            return try await requestApproval(parsed, run: run, requirements: requirements, context)
        }
        return try await execute(
            parsed, run: run, principal: context.principal, approvers: [], onOutput: context.onOutput,
            arrival: context)
    }

    /// Writes the message's arrival (its event key and "received" entry) with `commit`, in one
    /// transaction shared with concurrent messages. Throws `DuplicateMessage` for a platform's retry.
    @discardableResult
    func arrive(_ context: MessageContext, _ commit: AuditCommit = AuditCommit(drafts: [])) async throws
        -> (entries: [AuditEntry], run: RunRecord?)
    {
        var commit = commit
        commit.drafts.insert(context.draft(.received), at: 0)
        commit.eventKey = context.eventKey
        let result = try await audit.commit(commit)
        if result.isDuplicate { throw DuplicateMessage() }
        return (result.entries, result.run)
    }

    private func reject(
        _ run: RunRecord, _ context: MessageContext, kind: AuditKind, reply: Reply, outcome: EngineResponse.Outcome,
        detail: String = ""
    ) async throws -> EngineResponse {
        var run = run
        run.status = .rejected
        run.finishedAt = Date()
        let draft = context.draft(
            kind, command: run.commandID ?? "", arguments: run.arguments, decision: run.decision.rawValue,
            outcome: run.reason, detail: detail)
        let recorded = try await arrive(context, AuditCommit(drafts: [draft], insertingRun: run))
        return EngineResponse(reply: reply, outcome: outcome, runID: recorded.run?.id)
    }
}

/// A platform delivered a message it had delivered before: nothing is written, nothing runs.
struct DuplicateMessage: Error {}

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
