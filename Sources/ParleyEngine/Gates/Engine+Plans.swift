import Foundation
import ParleyCore
import ParleyStore

/// What a plan showed: its output (masked) and the hash an approval binds to.
struct PlanOutcome {
    let output: String
    let hash: String
}

extension Engine {
    /// Runs a command's plan phase (read-only by contract) and hashes its output.
    func runPlan(_ parsed: ParsedCommand, principal: Principal, room: String, runID: Int64) async
        -> Result<PlanOutcome, RefusalReason>
    {
        guard let plan = parsed.command.plan else { return .failure(RefusalReason("no plan")) }
        guard let executor = executors.first(where: { $0.canRun(plan) }) else {
            return .failure(RefusalReason("no executor can run the plan of \(parsed.command.id)"))
        }
        let request = ActionRequest(
            parsed: parsed, principal: principal, room: room, platform: principal.identity.platform, runID: runID,
            secrets: vault.secrets(for: principal.userName))
        let result = await executor.execute(plan, request)
        guard result.status == .succeeded else {
            let detail = result.message ?? "exit status \(result.exitCode.map(String.init) ?? "?")"
            return .failure(
                RefusalReason(
                    vault.masker.mask("the plan of \(parsed.command.id) failed (\(detail)):\n\(result.output)")))
        }
        let hash = HexDigest.sha256(result.output)
        return .success(PlanOutcome(output: vault.masker.mask(result.output), hash: hash))
    }

    /// At release: plans again, and refuses — asking anew — when the plan is not the approved one.
    func checkPlan(_ request: ApprovalRequest, parsed: ParsedCommand, requester: Principal, run: RunRecord) async throws
        -> EngineResponse?
    {
        guard let approved = request.planHash else { return nil }
        switch await runPlan(parsed, principal: requester, room: request.room, runID: request.runID) {
        case .failure(let refusal):
            return try await failRun(run, reason: refusal.message)
        case .success(let plan) where plan.hash == approved:
            return nil
        case .success(let plan):
            var waiting = run
            waiting.status = .awaitingApproval
            try await store.updateRun(waiting)
            let inbound = Inbound(
                sender: requester.identity, room: run.room, thread: run.thread, text: run.text, isDirect: true)
            let context = MessageContext(inbound: inbound, principal: requester, text: run.text, masker: vault.masker)
            let again = try await createGate(
                .approval, parsed: parsed, run: waiting, context: context, required: request.required,
                approvers: request.approverRoles, thenApprovals: 0, seconds: config.approvals.expirySeconds,
                planHash: plan.hash)
            try await audit.append(
                context.draft(
                    .approvalRequested, command: parsed.command.id, arguments: parsed.recordedArguments,
                    decision: "plan changed", outcome: "awaiting \(again.required) approval(s)", runID: run.id,
                    detail: "request \(again.id) replaces \(request.id): the plan changed"))
            var reply = approvalReply(again)
            reply.blocks.insert(
                contentsOf: [
                    .text("The plan changed since \(request.id) was approved, so nothing was applied. The new plan:"),
                    .code(plan.output),
                ], at: 0)
            return EngineResponse(reply: reply, outcome: .pending, runID: run.id)
        }
    }

    func failRun(_ run: RunRecord, reason: String) async throws -> EngineResponse {
        var run = run
        run.status = .failed
        run.reason = reason
        run.finishedAt = Date()
        try await store.updateRun(run)
        return EngineResponse(reply: .text(reason), outcome: .failed, runID: run.id)
    }
}
