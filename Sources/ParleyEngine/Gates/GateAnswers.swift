import Foundation
import ParleyCore
import ParleyStore

/// Answers the commands anyone may type because they answer something: `approve`, `deny`, `yes`,
/// `approvals` and `cancel`. Each answer is checked (who may answer, is it still pending, is it
/// still the same command), recorded and audited, and a passed gate releases its command.
struct GateAnswers: Sendable {
    let catalogue: CommandCatalogue
    let policy: Policy
    let directory: Directory
    let store: any ParleyStorage
    let audit: AuditLog
    let gates: Gatekeeper
    let executor: Executor
    /// The incident a released command is about, decided again as when it arrived.
    let incidents: IncidentScope

    /// Answers one of them, and records the answer as a run of its own.
    func answer(_ parsed: ParsedCommand, _ context: MessageContext) async throws -> EngineResponse {
        let code = (parsed.arguments["id"] ?? parsed.arguments["code"])?.text.uppercased() ?? ""
        let answer: GateAnswer
        switch parsed.command.id {
        case "approvals": answer = try await listApprovals()
        case "cancel": answer = try await cancel(parsed.arguments["run"]?.number, context)
        case "yes": answer = try await confirm(code, context)
        case "approve": answer = try await vote(code, approve: true, reason: "", context)
        default: answer = try await vote(code, approve: false, reason: parsed.arguments["reason"]?.text ?? "", context)
        }
        var record = context.newRun(parsed, decision: answer.accepted ? .allowed : .denied, reason: answer.summary)
        record.status = answer.accepted ? .succeeded : .rejected
        record.finishedAt = Date()
        record = try await store.insertRun(record)
        // Whether this answer settled the gate or found it settled, the message that asked for it
        // can stop offering buttons.
        // Only what the message shows depends on it: a failure to read it must not hide what ran.
        let settled =
            ["yes", "approve", "deny"].contains(parsed.command.id) ? try? await gates.settlement(of: code) : nil
        if let released = answer.released {
            var blocks = answer.reply.blocks
            blocks.append(contentsOf: released.reply.blocks)
            return EngineResponse(
                reply: Reply(blocks), outcome: released.outcome, runID: released.runID,
                openedGate: released.openedGate, settledGate: settled)
        }
        return EngineResponse(
            reply: answer.reply, outcome: answer.accepted ? .succeeded : .denied, runID: record.id,
            audience: answer.audience, settledGate: settled)
    }

    private struct GateAnswer {
        var accepted: Bool
        var reply: Reply
        var summary: String
        var released: EngineResponse?
        var audience = EngineResponse.Audience.room

        static func refused(_ text: String, audience: EngineResponse.Audience = .room) -> GateAnswer {
            GateAnswer(accepted: false, reply: .text(text), summary: text, released: nil, audience: audience)
        }
    }

    private func listApprovals() async throws -> GateAnswer {
        _ = try await gates.expireDue()
        let pending = try await store.pendingApprovals().filter { $0.kind == .approval }
        guard !pending.isEmpty else {
            return GateAnswer(
                accepted: true, reply: .text("No approval requests are pending."), summary: "none pending")
        }
        var rows: [[String]] = []
        for request in pending {
            let votes = try await store.votes(approvalID: request.id).filter(\.approve).count
            rows.append([
                request.id, request.text, request.requesterUser ?? request.requesterIdentity,
                "\(votes)/\(request.required)", request.approverRoles.joined(separator: ", "),
                Gatekeeper.span(max(0, Int(request.expiresAt.timeIntervalSinceNow))),
            ])
        }
        return GateAnswer(
            accepted: true,
            reply: Reply([.table(header: ["id", "command", "by", "approvals", "approvers", "expires in"], rows: rows)]),
            summary: "\(pending.count) pending")
    }

    /// Stops a run: its requester, or anyone who may run its command, may.
    private func cancel(_ number: Int?, _ context: MessageContext) async throws -> GateAnswer {
        guard let number, let run = try await store.run(id: Int64(number)) else {
            return .refused("no run #\(number ?? 0)")
        }
        guard run.status == .running else {
            return .refused("run #\(number) is not running (it \(run.status.rawValue))")
        }
        let isRequester =
            run.userName != nil
            ? run.userName == context.principal.userName : run.identity == context.inbound.sender.description
        if !isRequester {
            guard let command = run.commandID.flatMap(catalogue.command(id:)),
                policy.decide(context.principal, command: command).isAllowed
            else {
                return .refused(
                    "only \(run.userName ?? run.identity) or someone who may run \(run.commandID ?? "it") may cancel run #\(number)"
                )
            }
        }
        guard await executor.tracker.cancel(Int64(number), by: context.actor) else {
            return .refused("run #\(number) is running in another Parley process; cancel it there")
        }
        let text = "Cancelling run #\(number) (`\(run.text)`); its processes are being stopped."
        return GateAnswer(accepted: true, reply: .text(text), summary: text)
    }

    private func confirm(_ code: String, _ context: MessageContext) async throws -> GateAnswer {
        guard let request = try await store.approval(id: code), request.kind == .confirmation,
            requester(of: request).isSamePerson(as: context.principal)
        else {
            return .refused("no confirmation \(code) is waiting for you")
        }
        if try await gates.expireIfDue(request) { return .refused("confirmation \(code) expired; ask again") }
        guard request.status == .pending else {
            return .refused("confirmation \(code) was already \(request.status.rawValue)")
        }
        guard
            try await store.releaseApproval(id: code, reason: "confirmed", at: Date(), owner: ProcessOwner.current)
                != nil
        else {
            return .refused("confirmation \(code) was already answered")
        }
        try await audit.append(
            context.draft(
                .confirmed, command: request.commandID, outcome: "confirmed", runID: request.runID,
                detail: "code \(code)"))
        if request.thenApprovals > 0 {
            guard let (parsed, run) = try await reload(request) else {
                return .refused("`\(request.text)` no longer parses the same way; ask again")
            }
            var waiting = run
            waiting.status = .awaitingApproval
            try await store.updateRun(waiting)
            let requirements = Requirements(approvals: request.thenApprovals, approvers: request.approverRoles)
            let response = try await gates.requestApproval(parsed, run: waiting, requirements: requirements, context)
            return GateAnswer(accepted: true, reply: .text("Confirmed."), summary: "confirmed", released: response)
        }
        let released = try await release(request, approvers: [])
        return GateAnswer(accepted: true, reply: .text("Confirmed."), summary: "confirmed", released: released)
    }

    private func vote(_ code: String, approve: Bool, reason: String, _ context: MessageContext) async throws
        -> GateAnswer
    {
        guard let request = try await store.approval(id: code), request.kind == .approval else {
            return .refused("no approval request \(code); `approvals` lists the pending ones")
        }
        if try await gates.expireIfDue(request) {
            return .refused("approval request \(code) expired; nothing will run")
        }
        guard request.status == .pending else {
            return .refused("approval request \(code) was already \(request.status.rawValue)")
        }
        let voter = context.principal
        let requester = requester(of: request)
        let isRequester = voter.isSamePerson(as: requester)
        if isRequester && approve {
            try await audit.append(
                context.draft(
                    .denied, command: request.commandID, decision: "self-approval refused", runID: request.runID,
                    detail: "request \(code)"))
            // Nobody else needs to read this: where the platform can, only the requester sees it.
            return .refused(
                "you asked for `\(request.text)`, so you cannot approve it; someone else must", audience: .sender)
        }
        if !isRequester, let why = ineligibility(of: voter, for: request) { return .refused(why) }
        let key = voter.userName ?? voter.identity.description
        let recorded = try await store.addVote(
            ApprovalVote(
                approvalID: code, voter: key, identity: voter.identity.description, approve: approve, reason: reason))
        guard recorded else { return .refused("you already answered \(code); each person counts once") }
        if !approve { return try await refuse(request, by: context, reason: reason, withdrawn: isRequester) }
        try await audit.append(
            context.draft(
                .approvalGranted, command: request.commandID, outcome: "approved", runID: request.runID,
                detail: "request \(code)"))
        let approvers = try await store.votes(approvalID: code).filter(\.approve).map(\.voter)
        guard approvers.count >= request.required else {
            let missing = request.required - approvers.count
            let text = "Approved by \(context.actor); \(code) needs \(missing) more approval\(missing == 1 ? "" : "s")."
            return GateAnswer(accepted: true, reply: .text(text), summary: text)
        }
        // Only the answer that moves the request out of pending releases the command: exactly once.
        guard
            try await store.releaseApproval(id: code, reason: "quorum", at: Date(), owner: ProcessOwner.current) != nil
        else {
            return GateAnswer(
                accepted: true, reply: .text("Approved; \(code) was already released."), summary: "late approval")
        }
        try await audit.append(
            context.draft(
                .approved, command: request.commandID, outcome: "quorum", runID: request.runID,
                detail: "request \(code) approved by \(approvers.joined(separator: ", "))"))
        let released = try await release(request, approvers: approvers)
        let text =
            "Approved by \(approvers.joined(separator: ", ")); running `\(request.text)` as \(request.requesterUser ?? request.requesterIdentity)."
        return GateAnswer(accepted: true, reply: .text(text), summary: text, released: released)
    }

    private func refuse(_ request: ApprovalRequest, by context: MessageContext, reason: String, withdrawn: Bool)
        async throws
        -> GateAnswer
    {
        let why =
            withdrawn
            ? "withdrawn by \(context.actor)" : "denied by \(context.actor)" + (reason.isEmpty ? "" : ": \(reason)")
        guard try await store.settleApproval(id: request.id, status: .denied, reason: why, at: Date()) else {
            return .refused("approval request \(request.id) was already answered")
        }
        if var run = try await store.run(id: request.runID) {
            run.status = .rejected
            run.finishedAt = Date()
            run.reason = why
            try await store.updateRun(run)
        }
        try await audit.append(
            context.draft(
                .approvalDenied, command: request.commandID, outcome: why, runID: request.runID,
                detail: "request \(request.id)"))
        let text = "`\(request.text)` will not run: \(why)."
        return GateAnswer(accepted: true, reply: .text(text), summary: text)
    }

    private func requester(of request: ApprovalRequest) -> Principal {
        directory.principal(
            for: Identity(request.requesterIdentity)
                ?? Identity(platform: request.platform, id: request.requesterIdentity))
    }

    /// Why `voter` may not answer `request`, or nil when they may.
    private func ineligibility(of voter: Principal, for request: ApprovalRequest) -> String? {
        if !request.approverRoles.isEmpty {
            guard voter.roles.contains(where: request.approverRoles.contains) else {
                return
                    "approving \(request.id) needs role \(ParameterType.list(request.approverRoles)); you have \(voter.roles.joined(separator: ", "))"
            }
            return nil
        }
        guard let command = catalogue.command(id: request.commandID) else {
            return "\(request.commandID) no longer exists"
        }
        if case .denied(let reason, _) = policy.decide(voter, command: command) {
            return "only people who may run \(request.commandID) may approve it: \(reason)"
        }
        return nil
    }

    /// Re-parses the stored command and checks it is exactly the one that was approved.
    private func reload(_ request: ApprovalRequest) async throws -> (ParsedCommand, RunRecord)? {
        guard case .success(let parsed) = catalogue.parse(request.text),
            Gatekeeper.commandHash(parsed) == request.commandHash,
            let run = try await store.run(id: request.runID)
        else { return nil }
        return (parsed, run)
    }

    /// Runs an approved or confirmed command as its requester, if it is still the same command and
    /// the requester may still run it.
    private func release(_ request: ApprovalRequest, approvers: [String]) async throws -> EngineResponse {
        guard let (parsed, run) = try await reload(request) else {
            return try await fail(
                request, "`\(request.text)` no longer means the same command (the configuration changed); nothing ran")
        }
        let requester = requester(of: request)
        var check = PolicyRequest(principal: requester, parsed: parsed, room: request.room, platform: request.platform)
        try await incidents.apply(to: &check, parsed)
        if case .denied(let reason, _) = policy.evaluate(check) {
            return try await fail(request, "\(requester.displayName) may no longer run it: \(reason)")
        }
        if let replanned = try await gates.checkPlan(request, parsed: parsed, requester: requester, run: run) {
            return replanned
        }
        return try await executor.run(
            Executor.Job(parsed: parsed, principal: requester, approvers: approvers, resumeStep: request.step), run: run
        )
    }

    private func fail(_ request: ApprovalRequest, _ reason: String) async throws -> EngineResponse {
        if var run = try await store.run(id: request.runID) {
            run.status = .rejected
            run.reason = reason
            run.finishedAt = Date()
            try await store.updateRun(run)
        }
        return EngineResponse(reply: .text(reason), outcome: .denied, runID: request.runID)
    }
}
