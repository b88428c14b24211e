import Crypto
import Foundation
import Logging
import ParleyCore
import ParleyStore

/// The running system: every adapter hands it messages, and each goes through one pipeline —
/// dedupe ▶ identify ▶ parse ▶ authorize ▶ gate ▶ execute ▶ reply — with every step audited.
///
/// The engine reads as that pipeline (`handle`); each step is a collaborator with its own file and
/// its own dependencies: `Gatekeeper` (confirmations, approvals, plans, expiry), `GateAnswers`
/// (`approve`, `deny`, `yes`, `cancel`), `RunAdmission` (rates, concurrency, locks), `Executor`,
/// `DryRun` and `StartupRecovery`. It is the composition root that builds each once, hence more
/// stored properties than a type usually has: what it is made of (configuration, authority, store,
/// audit, secrets, log), then the steps.
///
/// Its own state is immutable; shared mutable state lives in actors (the audit log, the limits) or
/// the store, so any number of messages are handled at once: a long-running command never holds
/// up another.
public final class Engine: Sendable {
    /// The configuration in force.
    public let config: ParleyConfig
    /// The commands, who is who and who may run what.
    let authority: CommandAuthority
    /// The audit chain.
    public let audit: AuditLog
    /// Secret values and their masker.
    public let vault: SecretVault
    let store: any ParleyStorage
    let logger: Logger

    let admission: any RunAdmission
    let gates: Gatekeeper
    let answers: GateAnswers
    let dryRun: DryRun
    let executor: Executor
    let recovery: StartupRecovery
    /// Where built-ins post beyond their own room (incidents' stakeholders), once attached.
    let messengerSlot: MessengerSlot
    /// Pages people through escalation policies.
    let pager: Pager

    /// Lets built-ins post to other rooms through `messenger` (the server's adapters).
    public func attach(messenger: any RoomMessenger) { messengerSlot.attach(messenger) }

    /// Built-ins and configured commands.
    public var catalogue: CommandCatalogue { authority.catalogue }
    /// Who may run what.
    public var policy: Policy { authority.policy }
    /// Who is who.
    public var directory: Directory { authority.directory }

    /// Creates an engine over a store. `executors` run the configured actions (programs and HTTP
    /// requests by default; built-ins, replies and runbooks are always there); `auditClock` stamps
    /// audit entries and checkpoints.
    public init(
        config: ParleyConfig, store: any ParleyStorage,
        executors: [any ActionExecutor] = [ExecExecutor(), HTTPExecutor()],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "parley.engine"), auditClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.config = config
        let authority = CommandAuthority(config: config)
        self.authority = authority
        let vault = SecretVault(config: config, environment: environment)
        self.vault = vault
        var key: Curve25519.Signing.PrivateKey?
        do {
            key = try AuditKeys.load(config.audit, dataDirectory: config.dataDirectory, environment: environment)
        } catch {
            logger.error("the audit log cannot be signed: \(error)")
        }
        signingPublicKey = key.map(AuditKeys.publicKeyText)
        let audit = AuditLog(
            store: store, masker: vault.masker, signingKey: key, schedule: config.audit.schedule,
            witnesses: AuditWitnesses.make(config.audit.witnesses), now: auditClock, logger: logger)
        self.audit = audit
        self.store = store
        self.logger = logger
        let alertmanager = config.alerts.alertmanagerURL.map { url in
            AlertmanagerClient(
                baseURL: url, token: try? config.alerts.alertmanagerToken?.resolve(environment: environment).get())
        }
        let slot = MessengerSlot()
        messengerSlot = slot
        let pager = Pager(
            settings: config.paging, oncall: config.oncall, directory: authority.directory, store: store,
            environment: environment, masker: vault.masker, logger: logger)
        self.pager = pager
        let services = BuiltinServices(
            catalogue: authority.catalogue, policy: authority.policy, directory: authority.directory, store: store,
            replyLimits: config.replyLimits, runPageURL: config.server.displayURL + "/runs/", masker: vault.masker,
            alertmanager: alertmanager, incidents: config.incidents, oncall: config.oncall, pager: pager,
            messenger: slot)
        var byName: [String: BuiltinCommand] = [:]
        for builtin in Builtins.all { byName[builtin.declaration.id] = builtin }
        let runbooks = RunbookExecutor(steps: store, actions: executors, audit: audit, masker: vault.masker)
        let actions = [BuiltinExecutor(builtins: byName, services: services), ReplyExecutor(), runbooks] + executors
        let planner = Planner(actions: actions, vault: vault)
        let admission = StoreRunAdmission(store: store, logger: logger)
        self.admission = admission
        let gates = Gatekeeper(
            settings: config.approvals, store: store, audit: audit, masker: vault.masker, planner: planner)
        self.gates = gates
        let executor = Executor(
            config: config, store: store, audit: audit, vault: vault, actions: actions, tracker: RunTracker(),
            admission: admission, gates: gates)
        self.executor = executor
        self.answers = GateAnswers(
            catalogue: authority.catalogue, policy: authority.policy, directory: authority.directory, store: store,
            audit: audit, gates: gates, executor: executor,
            incidents: IncidentScope(store: store, settings: config.incidents))
        self.dryRun = DryRun(store: store, audit: audit, vault: vault, planner: planner)
        self.recovery = StartupRecovery(
            catalogue: authority.catalogue, directory: authority.directory, store: store, audit: audit,
            executor: executor, logger: logger)
    }

    // MARK: Lifecycle

    /// Call once at start: audits the configuration and any user or role changes since the last start,
    /// then settles the runs dead processes left (`StartupRecovery`). Runbooks it takes over
    /// (when `resumeRunbooks`) go on with `resumeRunbooks()`. Returns the interrupted runs.
    public func start(resumeRunbooks: Bool = false) async throws -> [RunRecord] {
        try await checkSharedSigningKey()
        // A chain a stopped or killed process left past due is signed before anything is appended.
        await audit.signIfDue()
        try await PolicySnapshot.auditChanges(engine: self)
        return try await recovery.atStart(resumeRunbooks: resumeRunbooks)
    }

    /// The public half of the key this process signs audit checkpoints with.
    let signingPublicKey: String?

    /// Replicas sharing a PostgreSQL database sign checkpoints with one key (`audit.signing_key`, a
    /// secret reference), so that the log verifies offline with one public key. The first replica
    /// records the public key in the database; one with another key refuses to start, naming both,
    /// instead of signing checkpoints nobody can verify together. (One SQLite file is one host's,
    /// whose data directory holds the key.)
    private func checkSharedSigningKey() async throws {
        guard store is PostgresStore, let ours = signingPublicKey else { return }
        let name = "audit_signing_public_key"
        guard let recorded = try await store.metadata(name) else {
            try await store.setMetadata(name, ours)
            return
        }
        guard recorded != ours else { return }
        throw AuditKeyError(
            message: """
                this replica signs audit checkpoints with public key \(ours), but this database's checkpoints \
                are signed with \(recorded): replicas sharing a database must share the key. Set audit.signing_key \
                to the same env: or file: reference on every replica (`parley audit public-key` prints a replica's)
                """)
    }

    /// Goes on with the runbooks `start(resumeRunbooks: true)` took over.
    public func resumeRunbooks() async {
        await recovery.resumeAdopted()
    }

    /// Call every few seconds while serving: settles the runs of processes that died since the last
    /// look (a `parley run` killed mid-command, a server killed while another was already starting)
    /// and goes on with the runbooks it takes over. Returns the interrupted runs.
    @discardableResult
    public func recoverAbandonedRuns() async throws -> [RunRecord] {
        try await recovery.sweep()
    }

    /// When this process started, as its replica row tells.
    private static let startedAt = Date()

    /// Announces this replica in the store until `ttl` from now (it serves, and the runs it owns are
    /// alive), then stops the runs it executes that a survivor took over meanwhile (this replica was
    /// paused or cut off from the database past its heartbeat): their programs are stopped and
    /// nothing is posted or recorded for them, since their epochs moved on. Returns their ids.
    @discardableResult
    public func heartbeat(ttl: Duration) async throws -> [Int64] {
        let tracker = executor.tracker
        // Read before the store is asked: a run tracked by then was recorded as ours before.
        let tracked = await tracker.runIDs
        let owned = try await store.heartbeat(
            id: ProcessOwner.current, host: ProcessInfo.processInfo.hostName, version: Builtins.version,
            startedAt: Self.startedAt, ttl: ttl)
        var lost: [Int64] = []
        for id in tracked.sorted() where owned[id] == nil {
            if await tracker.cancel(id, by: "the replica that took it over") { lost.append(id) }
        }
        if !lost.isEmpty {
            logger.warning(
                "another replica took over run(s) \(lost.map { "#\($0)" }.joined(separator: ", ")) while this one was unreachable; stopped them here"
            )
        }
        return lost
    }

    /// Takes this replica's row out of the store at a clean stop (its runs are settled by then).
    public func leaveCluster() async {
        do {
            try await store.removeReplica(id: ProcessOwner.current)
        } catch {
            logger.warning("cannot remove this replica from the store: \(error)")
        }
    }

    /// Settles every pending approval or confirmation whose time is up; returns how many expired.
    @discardableResult
    public func expireDueApprovals() async throws -> Int {
        try await gates.expireDue()
    }

    /// True the first time a delivery id is seen (webhook sources that retry, such as GitHub).
    public func isNewDelivery(_ key: String) async throws -> Bool {
        try await store.firstSighting(of: key)
    }

    /// How many actions are running now.
    public var runsInFlight: Int {
        get async { await executor.tracker.count }
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
        let tracker = executor.tracker
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

    // MARK: The pipeline

    /// What became of a message, for callers that answer differently when nothing is posted.
    public enum Handled: Sendable {
        /// Answered (a refusal, a failure to record it, an outcome).
        case answered(EngineResponse)
        /// Not a command for Parley.
        case notForParley
        /// A platform's retry of a message already handled.
        case duplicate
        /// Its run was taken over by another replica while this one was too slow; that one answers.
        case takenOver(runID: Int64)
    }

    /// Handles one message. Returns nil when the message is not for Parley or is a platform's retry.
    /// `onOutput` receives a running action's output a line at a time, masked.
    public func handle(_ inbound: Inbound, onOutput: (@Sendable (String) -> Void)? = nil) async -> EngineResponse? {
        if case .answered(let response) = await handleGivingReason(inbound, onOutput: onOutput) { return response }
        return nil
    }

    /// Handles one message like `handle`, telling why nothing is answered when nothing is.
    public func handleGivingReason(_ inbound: Inbound, onOutput: (@Sendable (String) -> Void)? = nil) async -> Handled {
        guard let text = config.addressing.commandText(in: inbound.text, isDirect: inbound.isDirect) else {
            return .notForParley
        }
        // Identify.
        let principal = directory.principal(for: inbound.sender)
        var context = MessageContext(
            inbound: inbound, principal: principal, text: vault.masker.mask(text), masker: vault.masker)
        if let onOutput {
            let live = LiveOutput(masker: vault.masker, sink: onOutput)
            context.onOutput = { chunk in live.receive(chunk) }
        }
        // Dedupe: the key is written with the message's first commit, which a retry cannot repeat.
        context.eventKey = inbound.eventID.map { "\(inbound.sender.platform):\($0)" }
        do {
            return .answered(try await handle(text, context))
        } catch is DuplicateMessage {
            return .duplicate
        } catch StoreError.runTakenOver(let id) {
            // This replica was too slow: a survivor took the run over and answers for it.
            logger.warning("run #\(id) was taken over by another replica; this one posts nothing for it")
            return .takenOver(runID: id)
        } catch {
            logger.error("cannot handle '\(context.text)': \(vault.masker.mask("\(error)"))")
            return .answered(
                EngineResponse(
                    reply: .text(
                        "Parley could not record this command, so it did not run it: \(vault.masker.mask("\(error)"))"
                    ),
                    outcome: .failed, runID: nil))
        }
    }

    /// Parse ▶ authorize ▶ gate ▶ execute. Nothing is written until the message's first commit,
    /// which carries its event key and its "received" entry together with the run and the entry that
    /// follows (rejected, started, …).
    private func handle(_ text: String, _ context: MessageContext) async throws -> EngineResponse {
        let parsed: ParsedCommand
        switch catalogue.parse(text) {
        case .failure(let failure):
            let unknown = failure.isUnknownCommand
            var run = context.newRun(decision: unknown ? .unknown : .invalid, reason: failure.message)
            if case .mismatch(let command, _, _) = failure { run.commandID = command }
            return try await reject(
                run, context, kind: .rejected, reply: .text(failure.message), outcome: unknown ? .unknown : .invalid)
        case .success(let command): parsed = command
        }
        if Builtins.openCommands.contains(parsed.command.id) {
            try await audit.arrive(context)
            return try await answers.answer(parsed, context)
        }
        var request = PolicyRequest(
            principal: context.principal, parsed: parsed, room: context.inbound.room,
            platform: context.inbound.sender.platform)
        try await IncidentScope(store: store, settings: config.incidents).apply(to: &request, parsed)
        switch policy.evaluate(request) {
        case .denied(let reason, let decidedBy):
            let run = context.newRun(parsed, decision: .denied, reason: reason)
            return try await reject(
                run, context, kind: .denied, reply: .text("denied: \(reason)"), outcome: .denied, detail: decidedBy)
        case .allowed(let grant, let requirements, let rules):
            let explanation = ([grant] + rules.map { "rule '\($0)'" }).joined(separator: "; ")
            if parsed.dryRun {
                try await audit.arrive(context)
                return try await dryRun.describe(parsed, requirements: requirements, explanation: explanation, context)
            }
            return try await admit(parsed, requirements: requirements, explanation: explanation, context)
        }
    }

    /// Counts an allowed command against its rate limit, then sends it through its gates:
    /// confirmation, then approvals, then running.
    private func admit(
        _ parsed: ParsedCommand, requirements: Requirements, explanation: String, _ context: MessageContext
    ) async throws -> EngineResponse {
        // Only rate-limited commands pay for the key.
        let rateKey =
            parsed.command.rate == nil
            ? "" : "\(context.principal.userName ?? context.inbound.sender.description)|\(parsed.command.id)"
        let admittedAt = Date()
        if let limit = parsed.command.rate,
            let wait = try await admission.admitRate(rateKey, limit: limit, now: admittedAt)
        {
            let reason = "\(parsed.command.id) is limited to \(limit) per person; try again in \(wait)s"
            let run = context.newRun(parsed, decision: .denied, reason: reason)
            return try await reject(run, context, kind: .rateLimited, reply: .text(reason), outcome: .denied)
        }
        var run = context.newRun(parsed, decision: .allowed, reason: explanation)
        do {
            if requirements.confirm {
                run.status = .awaitingConfirmation
                run = try await audit.arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
                return try await gates.requestConfirmation(parsed, run: run, requirements: requirements, context)
            }
            if requirements.approvals > 0 {
                run.status = .awaitingApproval
                run = try await audit.arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
                return try await gates.requestApproval(parsed, run: run, requirements: requirements, context)
            }
            let job = Executor.Job(parsed: parsed, principal: context.principal, onOutput: context.onOutput)
            return try await executor.run(job, run: run, arrival: context)
        } catch let duplicate as DuplicateMessage {
            // A platform's retry of a message already handled does not count against the person.
            if parsed.command.rate != nil { await admission.refundRate(rateKey, at: admittedAt) }
            throw duplicate
        }
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
        let recorded = try await audit.arrive(context, AuditCommit(drafts: [draft], insertingRun: run))
        return EngineResponse(reply: reply, outcome: outcome, runID: recorded.run?.id)
    }
}
