import Foundation
import ParleyCore
import ParleyStore

/// What a plan showed: its output (masked) and the hash an approval binds to.
struct PlanOutcome {
    let output: String
    let hash: String
}

/// Runs a command's plan phase (read-only by contract, e.g. `terraform plan`) so that approvers see
/// what would change, and hashes its output so that an approval releases that plan and no other.
struct Planner: Sendable {
    let actions: [any ActionExecutor]
    let vault: SecretVault

    /// Runs the plan of `parsed` as `principal` and hashes its output.
    func plan(_ parsed: ParsedCommand, principal: Principal, room: String, runID: Int64) async
        -> Result<PlanOutcome, RefusalReason>
    {
        guard let plan = parsed.command.plan else { return .failure(RefusalReason("no plan")) }
        guard let executor = actions.first(where: { $0.canRun(plan) }) else {
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
}
