import Foundation
import ParleyCore
import ParleyStore

#if canImport(Glibc)
    import Glibc
#endif

extension Engine {
    /// Settles the runs that processes which are gone left `running`: stops the programs they left
    /// behind, takes over runbooks that can resume (when `resumeRunbooks`), marks the other runs
    /// interrupted (audited) and releases the locks nobody holds any more.
    ///
    /// Safe to call again and again, from any number of processes: a run is interrupted or taken
    /// over once, in one transaction, and only when its owner is dead.
    func recoverAbandonedRuns(resumeRunbooks: Bool) async throws -> (
        interrupted: [RunRecord], adopted: [(RunRecord, Int)]
    ) {
        try await stopOrphans()
        let taken = resumeRunbooks ? try await adoptResumableRunbooks() : []
        if !taken.isEmpty { logger.warning("taking over \(taken.count) runbook run(s) a stopped process left mid-way") }
        let resumable = resumeRunbooks ? [] : try await adoptableIDs()
        let reason = "Parley stopped while this run was in flight"
        let runs = try await store.interruptUnfinishedRuns(reason: reason) { run in
            // A resumable runbook waits for a long-running Parley to resume it.
            if let id = run.id, resumable.contains(id) { return false }
            guard let owner = run.owner else { return true }
            // Runs this process took over carry its own name as owner; they are alive.
            return !ProcessOwner.isAlive(owner)
        }
        for run in runs {
            logger.warning("run #\(run.id ?? 0) was interrupted by a restart: \(vault.masker.mask(run.text))")
            try await audit.append(
                AuditDraft(
                    kind: .interrupted, actor: run.userName ?? "guest", identity: run.identity, room: run.room,
                    command: run.commandID ?? "", arguments: run.arguments, outcome: "interrupted", runID: run.id,
                    detail: reason))
        }
        let released = try await store.releaseStaleLocks()
        if released > 0 { logger.warning("released \(released) lock(s) held by runs that no longer run") }
        return (runs, taken)
    }

    /// Call every few seconds while serving: settles the runs of processes that died since the last
    /// look (a `parley run` killed mid-command, a server killed while another was already starting)
    /// and goes on with the runbooks it takes over. Returns the interrupted runs.
    @discardableResult
    public func recoverAbandonedRuns() async throws -> [RunRecord] {
        let recovered = try await recoverAbandonedRuns(resumeRunbooks: true)
        if !recovered.adopted.isEmpty {
            let adopted = recovered.adopted
            Task { await resumeAdoptedRunbooks(adopted) }
        }
        return recovered.interrupted
    }

    /// A killed Parley leaves its programs running in their own process groups; stop them before
    /// anything is resumed or marked interrupted, so nothing half-finished goes on unseen. A group is
    /// stopped only while it is still the one the run's program leads, never a later process that was
    /// given the same number.
    private func stopOrphans() async throws {
        for run in try await store.abandonedRuns(isAlive: ProcessOwner.isAlive) {
            guard let group = run.processGroup, group > 1, ProcessOwner.isOnThisHost(run.owner) else { continue }
            guard
                ProcessOwner.isProgramGroup(
                    group, startTime: run.processStartTime, owner: run.owner, runCreatedAt: run.createdAt)
            else {
                logger.notice("process group \(group) of run #\(run.id ?? 0) is gone or no longer its program's")
                continue
            }
            if kill(-group, SIGKILL) == 0 {
                logger.warning("stopped process group \(group) left running by run #\(run.id ?? 0)")
            }
        }
    }

    private func adoptableIDs() async throws -> Set<Int64> {
        var ids = Set<Int64>()
        for run in try await store.abandonedRuns(isAlive: ProcessOwner.isAlive) {
            guard let id = run.id, let command = run.commandID.flatMap(catalogue.command(id:)),
                case .runbook = command.action
            else { continue }
            let saved = try await store.steps(runID: id)
            let inProgress = saved.filter { $0.status == .running }
            if inProgress.isEmpty
                || inProgress.allSatisfy({ record in
                    guard case .runbook(let book) = command.action,
                        let index = Int(record.path.split(separator: ".")[0]),
                        book.steps.indices.contains(index)
                    else { return false }
                    return Self.isIdempotent(book.steps[index])
                })
            {
                ids.insert(id)
            }
        }
        return ids
    }
}
