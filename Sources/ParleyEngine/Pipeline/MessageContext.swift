import Foundation
import ParleyCore
import ParleyStore

/// One message on its way through the engine: who, where, and the text (secrets masked).
struct MessageContext: Sendable {
    let inbound: Inbound
    let principal: Principal
    /// The command text, masked, as records and audit keep it.
    let text: String
    /// Masks secrets in what the run record keeps (a pasted token is still a token).
    let masker: SecretMasker
    /// Where live output goes, if the adapter shows it.
    var onOutput: (@Sendable (String) -> Void)? = nil
    /// The platform event's key (`slack:Ev1`): recorded with the message's first commit, so a
    /// platform's retry writes nothing and runs nothing.
    var eventKey: String? = nil

    var actor: String { principal.userName ?? "guest" }

    init(inbound: Inbound, principal: Principal, text: String, masker: SecretMasker) {
        self.inbound = inbound
        self.principal = principal
        self.text = text
        self.masker = masker
    }

    /// The context of a run that goes on later (an approval, a runbook step, a restart) as its requester.
    init(resuming run: RunRecord, as principal: Principal, masker: SecretMasker) {
        let inbound = Inbound(
            sender: principal.identity, room: run.room, thread: run.thread, text: run.text, isDirect: true)
        self.init(inbound: inbound, principal: principal, text: run.text, masker: masker)
    }

    func newRun(_ parsed: ParsedCommand? = nil, decision: RunDecision, reason: String) -> RunRecord {
        RunRecord(
            userName: principal.userName, identity: inbound.sender.description, room: inbound.room,
            thread: inbound.thread, text: text, commandID: parsed?.command.id,
            arguments: (parsed?.recordedArguments ?? [:]).mapValues(masker.mask), decision: decision,
            reason: masker.mask(reason), status: .running,
            owner: ProcessOwner.current)
    }

    func draft(
        _ kind: AuditKind, command: String = "", arguments: [String: String] = [:], decision: String = "",
        outcome: String = "", runID: Int64? = nil, detail: String = ""
    ) -> AuditDraft {
        AuditDraft(
            kind: kind, actor: actor, identity: inbound.sender.description, room: inbound.room, command: command,
            arguments: arguments, decision: decision, outcome: outcome, runID: runID,
            detail: detail.isEmpty && kind == .received ? text : detail)
    }
}

/// A platform delivered a message it had delivered before: nothing is written, nothing runs.
struct DuplicateMessage: Error {}

extension AuditLog {
    /// Writes a message's arrival (its event key and "received" entry) with `commit`, in one
    /// transaction shared with concurrent messages. Throws `DuplicateMessage` for a platform's retry.
    @discardableResult
    nonisolated func arrive(_ context: MessageContext, _ commit: AuditCommit = AuditCommit(drafts: [])) async throws
        -> (entries: [AuditEntry], run: RunRecord?)
    {
        var commit = commit
        commit.drafts.insert(context.draft(.received), at: 0)
        commit.eventKey = context.eventKey
        let result = try await self.commit(commit)
        if result.isDuplicate { throw DuplicateMessage() }
        return (result.entries, result.run)
    }
}
