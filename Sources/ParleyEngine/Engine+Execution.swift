import Foundation
import ParleyCore
import ParleyStore

extension Engine {
    /// Runs a command whose gates are passed. The "started" audit entry is durable before the action
    /// starts; the outcome is recorded and audited after, with secrets masked everywhere.
    func execute(
        _ parsed: ParsedCommand, run: RunRecord, principal: Principal, approvers: [String],
        onOutput: (@Sendable (String) -> Void)? = nil, resumeStep: Int? = nil
    ) async throws -> EngineResponse {
        var run = run
        let runID = run.id ?? 0
        let held: HeldLimits
        switch try await acquireLimits(parsed, runID: runID, principal: principal) {
        case .success(let limits): held = limits
        case .failure(let refusal):
            run.status = .rejected
            run.reason = refusal.message
            run.finishedAt = Date()
            try await store.updateRun(run)
            try await audit.append(
                AuditDraft(
                    kind: .denied, actor: principal.userName ?? "guest", identity: principal.identity.description,
                    room: run.room, command: parsed.command.id, arguments: parsed.recordedArguments,
                    decision: "busy", outcome: refusal.message, runID: runID))
            return EngineResponse(reply: .text(refusal.message), outcome: .failed, runID: runID)
        }
        run.status = .running
        let draft = AuditDraft(
            kind: .started, actor: principal.userName ?? "guest", identity: principal.identity.description,
            room: run.room, command: parsed.command.id, arguments: parsed.recordedArguments,
            decision: run.decision.rawValue, runID: runID,
            detail: [
                approvers.isEmpty ? nil : "approved by " + approvers.joined(separator: ", "),
                resumeStep.map { "resuming at step \($0 + 1)" },
            ].compactMap { $0 }.joined(separator: "; "))
        // The run's new state and its "started" entry are one commit, durable before the action starts.
        try await audit.append(draft, updating: run)
        let started = Date()
        var result: ActionResult
        if let executor = executors.first(where: { $0.canRun(parsed.command.action) }) {
            var request = ActionRequest(
                parsed: parsed, principal: principal, room: run.room, platform: principal.identity.platform,
                runID: runID, approvers: approvers, secrets: vault.secrets(for: principal.userName), onOutput: onOutput)
            request.resumeStep = resumeStep
            let store = self.store
            request.onProcessStart = { group in
                Task { try? await store.setProcessGroup(runID: runID, processGroup: group) }
            }
            let action = parsed.command.action
            let prepared = request
            if let task = await tracker.run(runID, { await executor.execute(action, prepared) }) {
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
        try await audit.append(finished, updating: run)
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
                })
        return EngineResponse(reply: reply, outcome: .init(result.status), runID: run.id)
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
