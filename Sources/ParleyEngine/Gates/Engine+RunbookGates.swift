import Foundation
import ParleyCore
import ParleyStore

extension Engine {
    /// A runbook reached an approval step: the run waits, and an approval request bound to the
    /// command and to the step is posted.
    func pauseAtGate(
        _ gate: PendingGate, parsed: ParsedCommand, run: RunRecord, principal: Principal, result: ActionResult
    ) async throws -> EngineResponse {
        var run = run
        run.status = .awaitingApproval
        run.output = result.output
        try await store.updateRun(run)
        let inbound = Inbound(
            sender: principal.identity, room: run.room, thread: run.thread, text: run.text, isDirect: true)
        let context = MessageContext(inbound: inbound, principal: principal, text: run.text, masker: vault.masker)
        let request = try await createGate(
            .approval, parsed: parsed, run: run, context: context, required: gate.requirements.approvals,
            approvers: gate.requirements.approvers, thenApprovals: 0, seconds: config.approvals.expirySeconds,
            step: gate.step)
        try await audit.append(
            context.draft(
                .approvalRequested, command: parsed.command.id, arguments: parsed.recordedArguments,
                decision: "allowed",
                outcome: "awaiting \(request.required) approval(s) at step \(gate.step + 1)", runID: run.id,
                detail: "request \(request.id): \(gate.message)"))
        var reply = approvalReply(request)
        reply.blocks.insert(.text(vault.masker.mask(gate.message)), at: 0)
        return EngineResponse(reply: reply, outcome: .pending, runID: run.id)
    }

    /// Runbooks a stopped process left mid-way that can go on: the next step had not started, or it
    /// is idempotent. Adopts them for this process; the others are left to be marked interrupted.
    func adoptResumableRunbooks() async throws -> [(RunRecord, Int)] {
        var adopted: [(RunRecord, Int)] = []
        for run in try await store.abandonedRuns(isAlive: ProcessOwner.isAlive) {
            guard let id = run.id, let command = run.commandID.flatMap(catalogue.command(id:)),
                case .runbook(let book) = command.action
            else { continue }
            let saved = Dictionary(
                try await store.steps(runID: id).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            guard
                let next = book.steps.indices.first(where: { index in
                    !([.succeeded, .skipped, .approved] as [StepStatus]).contains(
                        saved[String(index)]?.status ?? .running)
                        || saved[String(index)] == nil
                })
            else { continue }
            let step = book.steps[next]
            let started = saved[String(next)] != nil || saved.keys.contains { $0.hasPrefix("\(next).") }
            guard !started || Self.isIdempotent(step) else { continue }
            guard try await store.adoptRun(id: id, owner: ProcessOwner.current, from: run.owner) else { continue }
            adopted.append((run, next))
        }
        return adopted
    }

    static func isIdempotent(_ step: RunbookStep) -> Bool {
        if case .parallel(let children) = step.kind { return step.idempotent || children.allSatisfy(isIdempotent) }
        return step.idempotent
    }

    /// Goes on with adopted runbooks, as their requesters; returns the responses (nobody waits for them).
    @discardableResult
    public func resumeAdoptedRunbooks(_ adopted: [(RunRecord, Int)]) async -> [EngineResponse] {
        var responses: [EngineResponse] = []
        for (run, step) in adopted {
            guard case .success(let parsed) = catalogue.parse(run.text) else { continue }
            let principal = directory.principal(
                for: Identity(run.identity) ?? Identity(platform: "local", id: run.userName ?? "unknown"))
            logger.warning("resuming run #\(run.id ?? 0) (\(run.text)) at step \(step + 1) after a restart")
            do {
                responses.append(
                    try await execute(parsed, run: run, principal: principal, approvers: [], resumeStep: step))
            } catch {
                logger.error("cannot resume run #\(run.id ?? 0): \(error)")
            }
        }
        return responses
    }
}
