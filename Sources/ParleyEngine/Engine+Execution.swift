import Foundation
import ParleyCore
import ParleyStore

extension Engine {
    /// Runs a command whose gates are passed. The "started" audit entry is durable before the action
    /// starts; the outcome is recorded and audited after, with secrets masked everywhere.
    /// With `arrival`, `run` is not recorded yet: it is recorded with the message's arrival and its
    /// "started" entry in one commit.
    func execute(
        _ parsed: ParsedCommand, run: RunRecord, principal: Principal, approvers: [String],
        onOutput: (@Sendable (String) -> Void)? = nil, resumeStep: Int? = nil, arrival: MessageContext? = nil
    ) async throws -> EngineResponse {
        var run = run
        var arrival = arrival
        if let context = arrival, parsed.command.limits.lock != nil {
            // A lock names the run holding it: record the run first.
            run = try await arrive(context, AuditCommit(drafts: [], insertingRun: run)).run ?? run
            arrival = nil
        }
        let held: HeldLimits
        switch try await acquireLimits(parsed, runID: run.id ?? 0, principal: principal) {
        case .success(let limits): held = limits
        case .failure(let refusal):
            run.status = .rejected
            run.reason = refusal.message
            run.finishedAt = Date()
            let denied = AuditDraft(
                kind: .denied, actor: principal.userName ?? "guest", identity: principal.identity.description,
                room: run.room, command: parsed.command.id, arguments: parsed.recordedArguments,
                decision: "busy", outcome: refusal.message, runID: run.id)
            if let context = arrival {
                run = try await arrive(context, AuditCommit(drafts: [denied], insertingRun: run)).run ?? run
            } else {
                try await audit.append(denied, updating: run)
            }
            return EngineResponse(reply: .text(refusal.message), outcome: .failed, runID: run.id)
        }
        run.status = .running
        // Whoever runs it owns it now (an approval answered by another process runs it there).
        run.owner = ProcessOwner.current
        var draft = AuditDraft(
            kind: .started, actor: principal.userName ?? "guest", identity: principal.identity.description,
            room: run.room, command: parsed.command.id, arguments: parsed.recordedArguments,
            decision: run.decision.rawValue, runID: run.id,
            detail: [
                approvers.isEmpty ? nil : "approved by " + approvers.joined(separator: ", "),
                resumeStep.map { "resuming at step \($0 + 1)" },
            ].compactMap { $0 }.joined(separator: "; "))
        // The run's new state and its "started" entry are one commit, durable before the action starts;
        // an action that changes nothing (a reply, `whoami`) is recorded once, with its outcome.
        let recordOnce = arrival != nil && Self.changesNothing(parsed.command) && resumeStep == nil
        if !recordOnce {
            do {
                if let context = arrival {
                    run = try await arrive(context, AuditCommit(drafts: [draft], insertingRun: run)).run ?? run
                    draft.runID = run.id
                } else {
                    try await audit.append(draft, updating: run)
                }
            } catch {
                await release(held, runID: run.id ?? 0)
                throw error
            }
        }
        let runID = run.id ?? 0
        let started = Date()
        var result: ActionResult
        if let executor = executors.first(where: { $0.canRun(parsed.command.action) }) {
            var request = ActionRequest(
                parsed: parsed, principal: principal, room: run.room, platform: principal.identity.platform,
                runID: runID, approvers: approvers, secrets: vault.secrets(for: principal.userName), onOutput: onOutput)
            request.resumeStep = resumeStep
            request.masker = vault.masker
            let store = self.store
            request.onProcessStart = { group in
                // Read now, while the program surely exists: a restart checks it before stopping the group.
                let started = ProcessStat.read(pid: group).flatMap { Int64(exactly: $0.startTime) }
                Task { try? await store.setProcessGroup(runID: runID, processGroup: group, startTime: started) }
            }
            let action = parsed.command.action
            let prepared = request
            if recordOnce {
                // Nothing to cancel or stop: it answers at once and has no run number yet.
                result = await executor.execute(action, prepared)
            } else if let task = await tracker.run(runID, { await executor.execute(action, prepared) }) {
                // Cancelling the caller (a dropped connection, a stop) stops the action and its processes.
                result = await withTaskCancellationHandler {
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
            } else {
                result = ActionResult(status: .interrupted, message: "Parley is stopping; the command did not start")
            }
        } else {
            result = ActionResult(status: .failed, message: "no executor can run \(parsed.command.id)")
        }
        await release(held, runID: runID)
        result = mask(result)
        if let gate = result.pendingGate {
            return try await pauseAtGate(gate, parsed: parsed, run: run, principal: principal, result: result)
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
            run = try await arrive(context, AuditCommit(drafts: [draft, finished], insertingRun: run)).run ?? run
        } else {
            try await audit.append(finished, updating: run)
        }
        let reply =
            result.reply
            ?? RunReply.make(
                run: run, result: result, limits: config.replyLimits,
                template: parsed.command.replyTemplate.map { template in
                    var context = parsed.templateContext
                    context["outputs"] = result.outputs
                    context["output"] = result.output
                    context["status"] = result.status.rawValue
                    context["exit_code"] = result.exitCode.map(String.init) ?? ""
                    return vault.masker.mask(template.render(context))
                }, runPageURL: config.server.displayURL + "/runs/")
        return EngineResponse(reply: reply, outcome: .init(result.status), runID: run.id)
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
