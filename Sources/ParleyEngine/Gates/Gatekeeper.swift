import Foundation
import ParleyCore
import ParleyStore

/// Puts allowed commands behind their gates: asks for a confirmation or for approvals (with the
/// plan approvers see), pauses a runbook at an approval step, asks again when a plan changed, and
/// expires what nobody answered in time. It never runs anything: `GateAnswers` releases what passes.
struct Gatekeeper: Sendable {
    let settings: ApprovalSettings
    let store: any ParleyStorage
    let audit: AuditLog
    let masker: SecretMasker
    let planner: Planner

    /// Asks the requester to confirm (`yes CODE`).
    func requestConfirmation(
        _ parsed: ParsedCommand, run: RunRecord, requirements: Requirements, _ context: MessageContext
    ) async throws -> EngineResponse {
        let request = try await createGate(
            .confirmation, parsed: parsed, run: run, context: context, required: 1,
            approvers: requirements.approvers, thenApprovals: requirements.approvals,
            seconds: settings.confirmSeconds)
        try await audit.append(
            context.draft(
                .confirmationRequested, command: parsed.command.id, arguments: parsed.recordedArguments,
                decision: "allowed", outcome: "awaiting confirmation", runID: run.id, detail: "code \(request.id)"))
        return EngineResponse(
            reply: Reply([
                .text(
                    "`\(context.text)` needs your confirmation: type `yes \(request.id)` within \(Self.span(settings.confirmSeconds)) (run #\(run.id ?? 0))."
                ),
                .actions([ReplyAction(label: "Confirm", command: "yes \(request.id)", style: "danger")]),
            ]), outcome: .pending, runID: run.id, openedGate: OpenedGate(request))
    }

    /// Asks for approvals, showing the command's plan first when it has one.
    func requestApproval(
        _ parsed: ParsedCommand, run: RunRecord, requirements: Requirements, _ context: MessageContext
    ) async throws -> EngineResponse {
        var plan: PlanOutcome?
        if parsed.command.plan != nil {
            switch await planner.plan(
                parsed, principal: context.principal, room: context.inbound.room, runID: run.id ?? 0)
            {
            case .success(let outcome): plan = outcome
            case .failure(let refusal): return try await failRun(run, reason: refusal.message)
            }
        }
        let request = try await createGate(
            .approval, parsed: parsed, run: run, context: context, required: requirements.approvals,
            approvers: requirements.approvers, thenApprovals: 0, seconds: settings.expirySeconds,
            planHash: plan?.hash)
        try await audit.append(
            context.draft(
                .approvalRequested, command: parsed.command.id, arguments: parsed.recordedArguments,
                decision: "allowed", outcome: "awaiting \(request.required) approval(s)", runID: run.id,
                detail:
                    "request \(request.id), approvers: \(request.approverRoles.joined(separator: ",")), hash \(request.commandHash)"
            ))
        var reply = approvalReply(request)
        if let plan { reply.blocks.insert(contentsOf: [.text("Plan:"), .code(plan.output)], at: 0) }
        return EngineResponse(reply: reply, outcome: .pending, runID: run.id, openedGate: OpenedGate(request))
    }

    /// A runbook reached an approval step: the run waits, and an approval request bound to the
    /// command and to the step is posted.
    func pause(
        at gate: PendingGate, parsed: ParsedCommand, run: RunRecord, principal: Principal, result: ActionResult
    ) async throws -> EngineResponse {
        var run = run
        run.status = .awaitingApproval
        run.output = result.output
        try await store.updateRun(run)
        let context = MessageContext(resuming: run, as: principal, masker: masker)
        let request = try await createGate(
            .approval, parsed: parsed, run: run, context: context, required: gate.requirements.approvals,
            approvers: gate.requirements.approvers, thenApprovals: 0, seconds: settings.expirySeconds,
            step: gate.step)
        try await audit.append(
            context.draft(
                .approvalRequested, command: parsed.command.id, arguments: parsed.recordedArguments,
                decision: "allowed",
                outcome: "awaiting \(request.required) approval(s) at step \(gate.step + 1)", runID: run.id,
                detail: "request \(request.id): \(gate.message)"))
        var reply = approvalReply(request)
        reply.blocks.insert(.text(masker.mask(gate.message)), at: 0)
        return EngineResponse(reply: reply, outcome: .pending, runID: run.id, openedGate: OpenedGate(request))
    }

    /// At release: plans again, and refuses — asking anew — when the plan is not the approved one.
    /// Nil when the command may go on.
    func checkPlan(_ request: ApprovalRequest, parsed: ParsedCommand, requester: Principal, run: RunRecord) async throws
        -> EngineResponse?
    {
        guard let approved = request.planHash else { return nil }
        switch await planner.plan(parsed, principal: requester, room: request.room, runID: request.runID) {
        case .failure(let refusal):
            return try await failRun(run, reason: refusal.message)
        case .success(let plan) where plan.hash == approved:
            return nil
        case .success(let plan):
            var waiting = run
            waiting.status = .awaitingApproval
            try await store.updateRun(waiting)
            let context = MessageContext(resuming: run, as: requester, masker: masker)
            let again = try await createGate(
                .approval, parsed: parsed, run: waiting, context: context, required: request.required,
                approvers: request.approverRoles, thenApprovals: 0, seconds: settings.expirySeconds,
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
            return EngineResponse(reply: reply, outcome: .pending, runID: run.id, openedGate: OpenedGate(again))
        }
    }

    /// The message with the Approve and Deny buttons.
    func approvalReply(_ request: ApprovalRequest) -> Reply {
        let who = request.approverRoles.isEmpty ? "someone who may run it" : ParameterType.list(request.approverRoles)
        let count = request.required == 1 ? "1 approval" : "\(request.required) approvals"
        return Reply([
            .text(
                "`\(request.text)` by \(request.requesterUser ?? request.requesterIdentity) needs \(count) from \(who) (not the requester). Answer `approve \(request.id)` or `deny \(request.id) [reason]` within \(Self.span(Int(request.expiresAt.timeIntervalSince(request.createdAt)))) (run #\(request.runID))."
            ),
            .actions([
                ReplyAction(label: "Approve", command: "approve \(request.id)", style: "primary"),
                ReplyAction(label: "Deny", command: "deny \(request.id)", style: "danger"),
            ]),
        ])
    }

    /// Marks a pending request expired when its time is up; true when it is (now) expired.
    func expireIfDue(_ request: ApprovalRequest, now: Date = Date()) async throws -> Bool {
        guard request.status == .pending, now >= request.expiresAt else { return request.status == .expired }
        guard try await store.settleApproval(id: request.id, status: .expired, reason: "expired", at: now) else {
            return false
        }
        if var run = try await store.run(id: request.runID) {
            run.status = .expired
            run.finishedAt = now
            run.reason = "\(request.kind == .approval ? "approval" : "confirmation") \(request.id) expired"
            try await store.updateRun(run)
        }
        try await audit.append(
            AuditDraft(
                kind: .approvalExpired, actor: "system", identity: request.requesterIdentity, room: request.room,
                command: request.commandID, outcome: "expired", runID: request.runID, detail: "request \(request.id)"))
        return true
    }

    /// Settles every pending request whose time is up; returns how many expired.
    func expireDue() async throws -> Int {
        var count = 0
        for request in try await store.pendingApprovals() where try await expireIfDue(request) { count += 1 }
        return count
    }

    /// Ends a run that cannot go on (its plan failed).
    func failRun(_ run: RunRecord, reason: String) async throws -> EngineResponse {
        var run = run
        run.status = .failed
        run.reason = reason
        run.finishedAt = Date()
        try await store.updateRun(run)
        return EngineResponse(reply: .text(reason), outcome: .failed, runID: run.id)
    }

    private func createGate(
        _ kind: GateKind, parsed: ParsedCommand, run: RunRecord, context: MessageContext, required: Int,
        approvers: [String], thenApprovals: Int, seconds: Int, step: Int? = nil, planHash: String? = nil
    ) async throws -> ApprovalRequest {
        let now = Date()
        var lastError: (any Error)?
        // Short codes can collide; the primary key says so and another is drawn.
        for _ in 0..<8 {
            var request = ApprovalRequest(
                id: Self.gateCode(kind), kind: kind, runID: run.id ?? 0, commandID: parsed.command.id,
                text: context.text, commandHash: Self.commandHash(parsed), requesterUser: context.principal.userName,
                requesterIdentity: context.inbound.sender.description, room: context.inbound.room,
                platform: context.inbound.sender.platform, thread: context.inbound.thread, required: required,
                approverRoles: approvers, thenApprovals: thenApprovals, createdAt: now,
                expiresAt: now.addingTimeInterval(TimeInterval(seconds)), step: step)
            request.planHash = planHash
            do {
                try await store.insertApproval(request)
                return request
            } catch {
                lastError = error
            }
        }
        throw lastError ?? CancellationError()
    }

    /// SHA-256 of the exact command and arguments: an approval releases this and nothing else.
    static func commandHash(_ parsed: ParsedCommand) -> String {
        var canonical = parsed.recordedArguments
        canonical["\u{0}command"] = parsed.command.id
        let text = AuditEntry.canonicalJSON(canonical)
        return HexDigest.sha256(text)
    }

    /// The characters of approval ids.
    static let approvalAlphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")

    static func gateCode(_ kind: GateKind) -> String {
        switch kind {
        case .confirmation: return String(format: "%04d", Int.random(in: 0...9999))
        case .approval:
            // 8 of 31 letters and digits that cannot be mistaken for each other (no I, L, O, 0, 1):
            // 2^39 ids, so a busy year never collides and nobody guesses one; typed in any case.
            var generator = SystemRandomNumberGenerator()
            return String(
                (0..<8).map { _ in approvalAlphabet[Int(generator.next(upperBound: UInt(approvalAlphabet.count)))] })
        }
    }

    /// `90` → `90s`, `600` → `10m`, `7200` → `2h`.
    static func span(_ seconds: Int) -> String {
        if seconds >= 3600 && seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 60 { return "\(Int((Double(seconds) / 60).rounded()))m" }
        return "\(seconds)s"
    }
}
