import Foundation
import ParleyCore
import ParleyStore

/// The last step of the pipeline: runs a command whose gates are passed, with its limits held,
/// tracked so that it can be cancelled or drained at a stop, and records and audits the outcome.
/// The "started" entry is durable before the action starts; secrets are masked in everything kept.
struct Executor: Sendable {
    let config: ParleyConfig
    let store: any ParleyStorage
    let audit: AuditLog
    let vault: SecretVault
    /// Every action kind's executor, the built-ins first.
    let actions: [any ActionExecutor]
    let tracker: RunTracker
    let admission: any RunAdmission
    let gates: Gatekeeper

    /// One run on its way: what it runs, as whom, and where its output goes.
    struct Job: Sendable {
        var parsed: ParsedCommand
        var principal: Principal
        var approvers: [String] = []
        var onOutput: (@Sendable (String) -> Void)? = nil
        /// A runbook going on from this step (after an approval step or a restart).
        var resumeStep: Int? = nil
    }

    /// Runs `job`. With `arrival`, `run` is not recorded yet: it is recorded with the message's
    /// arrival and its "started" entry in one commit; an action that changes nothing (a reply,
    /// `whoami`) is then recorded once, with its outcome.
    func run(_ job: Job, run: RunRecord, arrival: MessageContext? = nil) async throws -> EngineResponse {
        var run = run
        var arrival = arrival
        if let context = arrival,
            job.parsed.command.limits.lock != nil || job.parsed.command.limits.maxConcurrent != nil
        {
            // A lock and a max_concurrent slot name the run holding them: record the run first.
            run = try await audit.arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
            arrival = nil
        }
        let held: HeldLimits
        switch try await admission.acquire(job.parsed, runID: run.id ?? 0, holder: job.principal.displayName) {
        case .success(let limits): held = limits
        case .failure(let refusal): return try await refuse(job, run: run, refusal, arrival: arrival)
        }
        run.status = .running
        // Whoever runs it owns it now (an approval answered by another process runs it there).
        run.owner = ProcessOwner.current
        var draft = startedDraft(job, run: run)
        let recordOnce = arrival != nil && Self.changesNothing(job.parsed.command) && job.resumeStep == nil
        if !recordOnce {
            do {
                // The run's new state and its "started" entry are one commit, durable before the action starts.
                if let context = arrival {
                    run = try await audit.arrive(context, AuditCommit(drafts: [draft], insertingRun: run)).run ?? run
                    draft.runID = run.id
                } else {
                    try await audit.append(draft, updating: run)
                }
            } catch {
                await admission.release(held, runID: run.id ?? 0)
                throw error
            }
        }
        let started = Date()
        var result = await perform(job, run: run, tracked: !recordOnce)
        await admission.release(held, runID: run.id ?? 0)
        result = mask(result)
        if let gate = result.pendingGate {
            return try await gates.pause(
                at: gate, parsed: job.parsed, run: run, principal: job.principal, result: result)
        }
        run.status = result.status
        run.exitCode = result.exitCode
        run.output = result.output
        run.outputTruncated = result.outputTruncated
        run.finishedAt = Date()
        run.durationMilliseconds = Int(Date().timeIntervalSince(started) * 1000)
        if let message = result.message { run.reason = message }
        var finished = draft
        finished.kind =
            result.status == .interrupted ? .interrupted : result.status == .cancelled ? .cancelled : .finished
        finished.outcome = result.status.rawValue + (result.exitCode.map { " (exit \($0))" } ?? "")
        finished.detail = result.message ?? ""
        if recordOnce, let context = arrival {
            run = try await audit.arrive(context, AuditCommit(drafts: [draft, finished], insertingRun: run)).run ?? run
        } else {
            try await audit.append(finished, updating: run)
        }
        return EngineResponse(reply: reply(job, run: run, result: result), outcome: .init(result.status), runID: run.id)
    }

    /// The command's limits refused it: the run is recorded as rejected ("busy").
    private func refuse(_ job: Job, run: RunRecord, _ refusal: RefusalReason, arrival: MessageContext?) async throws
        -> EngineResponse
    {
        var run = run
        run.status = .rejected
        run.reason = refusal.message
        run.finishedAt = Date()
        let denied = AuditDraft(
            kind: .denied, actor: job.principal.userName ?? "guest", identity: job.principal.identity.description,
            room: run.room, command: job.parsed.command.id, arguments: job.parsed.recordedArguments,
            decision: "busy", outcome: refusal.message, runID: run.id)
        if let context = arrival {
            run = try await audit.arrive(context, AuditCommit(drafts: [denied], insertingRun: run)).run ?? run
        } else {
            try await audit.append(denied, updating: run)
        }
        return EngineResponse(reply: .text(refusal.message), outcome: .failed, runID: run.id)
    }

    private func startedDraft(_ job: Job, run: RunRecord) -> AuditDraft {
        AuditDraft(
            kind: .started, actor: job.principal.userName ?? "guest", identity: job.principal.identity.description,
            room: run.room, command: job.parsed.command.id, arguments: job.parsed.recordedArguments,
            decision: run.decision.rawValue, runID: run.id,
            detail: [
                job.approvers.isEmpty ? nil : "approved by " + job.approvers.joined(separator: ", "),
                job.resumeStep.map { "resuming at step \($0 + 1)" },
            ].compactMap { $0 }.joined(separator: "; "))
    }

    /// Runs the action. A `tracked` one can be cancelled and is stopped by a shutdown; cancelling
    /// the caller (a dropped connection, a stop) stops the action and its processes.
    private func perform(_ job: Job, run: RunRecord, tracked: Bool) async -> ActionResult {
        let runID = run.id ?? 0
        let action = job.parsed.command.action
        guard let executor = actions.first(where: { $0.canRun(action) }) else {
            return ActionResult(status: .failed, message: "no executor can run \(job.parsed.command.id)")
        }
        var request = ActionRequest(
            parsed: job.parsed, principal: job.principal, room: run.room, platform: job.principal.identity.platform,
            runID: runID, approvers: job.approvers, secrets: vault.secrets(for: job.principal.userName),
            onOutput: job.onOutput)
        request.epoch = run.id == nil ? nil : run.epoch
        request.resumeStep = job.resumeStep
        request.masker = vault.masker
        let store = self.store
        request.onProcessStart = { group in
            // Read now, while the program surely exists: a restart checks it before stopping the group.
            let started = ProcessStat.read(pid: group).flatMap { Int64(exactly: $0.startTime) }
            Task { try? await store.setProcessGroup(runID: runID, processGroup: group, startTime: started) }
        }
        let prepared = request
        // Nothing to cancel or stop: it answers at once and has no run number yet.
        guard tracked else { return await executor.execute(action, prepared) }
        guard let task = await tracker.run(runID, { await executor.execute(action, prepared) }) else {
            return ActionResult(status: .interrupted, message: "Parley is stopping; the command did not start")
        }
        var result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        if task.isCancelled {
            if let canceller = await tracker.canceller(of: runID) {
                result.status = .cancelled
                result.message = "cancelled by \(canceller)"
            } else {
                result.status = .interrupted
                result.message = "Parley stopped while this run was in flight; its processes were stopped"
            }
        }
        await tracker.finished(runID)
        return result
    }

    /// The command's reply template, or the standard run reply.
    private func reply(_ job: Job, run: RunRecord, result: ActionResult) -> Reply {
        if let reply = result.reply { return reply }
        let template = job.parsed.command.replyTemplate.map { template in
            var context = job.parsed.templateContext
            context["outputs"] = result.outputs
            context["output"] = result.output
            context["status"] = result.status.rawValue
            context["exit_code"] = result.exitCode.map(String.init) ?? ""
            return vault.masker.mask(template.render(context))
        }
        return RunReply.make(
            run: run, result: result, limits: config.replyLimits, template: template,
            runPageURL: config.server.displayURL + "/runs/")
    }

    /// True for actions with no effect outside the reply, and no limits to hold.
    static func changesNothing(_ command: CommandDeclaration) -> Bool {
        guard command.limits == RunLimits() else { return false }
        switch command.action {
        case .reply: return true
        case .builtin(let name): return Builtins.changingNothing.contains(name)
        case .exec, .http, .runbook: return false
        }
    }

    private func mask(_ result: ActionResult) -> ActionResult {
        let masker = vault.masker
        guard !masker.isEmpty else { return result }
        var masked = result
        masked.output = masker.mask(result.output)
        masked.message = result.message.map(masker.mask)
        masked.reply = result.reply.map(masker.mask)
        masked.outputs = result.outputs.mapValues(masker.mask)
        masked.table = result.table.map { ($0.header, $0.rows.map { $0.map(masker.mask) }) }
        return masked
    }
}
