import Foundation
import Logging
import ParleyCore
import ParleyStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Settles what processes that are gone left behind: their programs still running, runbooks that
/// can go on (taken over for this process) and runs to mark interrupted; releases their locks.
/// Runs at start and every few seconds while serving.
final class StartupRecovery: Sendable {
    let catalogue: CommandCatalogue
    let directory: Directory
    let store: any ParleyStorage
    let audit: AuditLog
    let executor: Executor
    let logger: Logger
    /// The runbooks taken over at start, until `resumeAdopted()` goes on with them.
    private let adopted = Mutex<[(RunRecord, Int)]>([])

    init(
        catalogue: CommandCatalogue, directory: Directory, store: any ParleyStorage, audit: AuditLog,
        executor: Executor, logger: Logger
    ) {
        self.catalogue = catalogue
        self.directory = directory
        self.store = store
        self.audit = audit
        self.executor = executor
        self.logger = logger
    }

    /// At start: settles the runs dead processes left; keeps the runbooks it takes over (when
    /// `resumeRunbooks`) for `resumeAdopted()`. Returns the interrupted runs.
    func atStart(resumeRunbooks: Bool) async throws -> [RunRecord] {
        let recovered = try await recover(resumeRunbooks: resumeRunbooks)
        adopted.withLock { $0 = recovered.adopted }
        return recovered.interrupted
    }

    /// Goes on with the runbooks `atStart(resumeRunbooks: true)` took over.
    func resumeAdopted() async {
        await resume(adopted.withLock { $0 })
    }

    /// While serving: settles the runs of processes that died since the last look and goes on, in
    /// the background, with the runbooks it takes over. Returns the interrupted runs.
    func sweep() async throws -> [RunRecord] {
        let recovered = try await recover(resumeRunbooks: true)
        if !recovered.adopted.isEmpty {
            let adopted = recovered.adopted
            Task { await self.resume(adopted) }
        }
        return recovered.interrupted
    }

    /// Settles the runs that processes which are gone left `running`: stops the programs they left
    /// behind, takes over runbooks that can resume (when `resumeRunbooks`), marks the other runs
    /// interrupted (audited) and releases the locks nobody holds any more.
    ///
    /// Safe to call again and again, from any number of processes: a run is interrupted or taken
    /// over once, in one transaction, and only when its owner is dead.
    private func recover(resumeRunbooks: Bool) async throws -> (
        interrupted: [RunRecord], adopted: [(RunRecord, Int)]
    ) {
        let liveness = await OwnerLiveness.current(store, logger: logger)
        let remote = try await stopOrphans(liveness)
        let taken = resumeRunbooks ? try await adoptResumableRunbooks(liveness) : []
        if !taken.isEmpty { logger.warning("taking over \(taken.count) runbook run(s) a stopped process left mid-way") }
        let resumable = resumeRunbooks ? [] : try await adoptableIDs(liveness)
        let reason = "Parley stopped while this run was in flight"
        let runs = try await store.interruptUnfinishedRuns(reason: reason) { run in
            // A resumable runbook waits for a long-running Parley to resume it.
            if let id = run.id, resumable.contains(id) { return false }
            guard let owner = run.owner else { return true }
            // Runs this process took over carry its own name as owner; they are alive.
            return !liveness.isAlive(owner)
        }
        for run in runs {
            var detail = reason
            if let group = run.processGroup, group > 1, let id = run.id, remote.contains(id) {
                // Its program ran on the dead replica's host, out of this one's reach.
                detail +=
                    "; its program (process group \(group) on \(run.owner.flatMap(Self.host) ?? "another host")) may still run there"
            }
            logger.warning("run #\(run.id ?? 0) was interrupted (\(detail)): \(executor.vault.masker.mask(run.text))")
            try await audit.append(
                AuditDraft(
                    kind: .interrupted, actor: run.userName ?? "guest", identity: run.identity, room: run.room,
                    command: run.commandID ?? "", arguments: run.arguments, outcome: "interrupted", runID: run.id,
                    detail: detail))
        }
        let released = try await store.releaseStaleLocks()
        if released > 0 { logger.warning("released \(released) lock(s) held by runs that no longer run") }
        return (runs, taken)
    }

    /// A killed Parley leaves its programs running in their own process groups; stop them before
    /// anything is resumed or marked interrupted, so nothing half-finished goes on unseen. A group is
    /// stopped only while it is still the one the run's program leads, never a later process that was
    /// given the same number.
    ///
    /// A program whose group was never noted (Parley was killed between starting it and writing the
    /// note, or a runbook started several) is found by the run it carries in its environment
    /// (`OrphanScan`).
    ///
    /// Returns the abandoned runs whose programs ran on another host, where this process cannot stop them.
    private func stopOrphans(_ liveness: OwnerLiveness) async throws -> Set<Int64> {
        var wanted = Set<OrphanScan.Wanted>()
        var remote = Set<Int64>()
        for run in try await store.abandonedRuns(isAlive: liveness.isAlive) {
            guard ProcessOwner.isOnThisHost(run.owner) else {
                if let id = run.id {
                    remote.insert(id)
                    if let group = run.processGroup, group > 1 {
                        logger.error(
                            "run #\(id) was left by the dead replica \(run.owner ?? "?"); its process group \(group) ran on \(run.owner.flatMap(Self.host) ?? "another host") and cannot be stopped from here"
                        )
                    }
                }
                continue
            }
            // Every run is looked for by its environment too: a runbook's steps (or a parallel group)
            // start several programs, and only the last one's group is noted.
            if let id = run.id, let owner = run.owner { wanted.insert(.init(runID: id, owner: owner)) }
            guard let group = run.processGroup, group > 1 else { continue }
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
        for (run, group) in OrphanScan.groups(of: wanted) where kill(-group, SIGKILL) == 0 {
            logger.warning(
                "stopped process group \(group) left running by run #\(run.runID) (found by its environment)")
        }
        return remote
    }

    /// The host part of an owner's name.
    static func host(_ owner: String) -> String? { OwnerName(owner)?.host }

    private func adoptableIDs(_ liveness: OwnerLiveness) async throws -> Set<Int64> {
        var ids = Set<Int64>()
        for run in try await store.abandonedRuns(isAlive: liveness.isAlive) {
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

    /// Runbooks a stopped process left mid-way that can go on: the next step had not started, or it
    /// is idempotent. Adopts them for this process; the others are left to be marked interrupted.
    private func adoptResumableRunbooks(_ liveness: OwnerLiveness) async throws -> [(RunRecord, Int)] {
        var adopted: [(RunRecord, Int)] = []
        for run in try await store.abandonedRuns(isAlive: liveness.isAlive) {
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
            guard try await store.adoptRun(id: id, owner: ProcessOwner.current, from: run.owner),
                let taken = try await store.run(id: id)
            else { continue }
            // Adopting moved the run's epoch on: its changes from here on are this process's.
            adopted.append((taken, next))
        }
        return adopted
    }

    static func isIdempotent(_ step: RunbookStep) -> Bool {
        if case .parallel(let children) = step.kind { return step.idempotent || children.allSatisfy(isIdempotent) }
        return step.idempotent
    }

    /// Goes on with adopted runbooks, as their requesters; returns the responses (nobody waits for them).
    @discardableResult
    func resume(_ adopted: [(RunRecord, Int)]) async -> [EngineResponse] {
        var responses: [EngineResponse] = []
        for (run, step) in adopted {
            guard case .success(let parsed) = catalogue.parse(run.text) else { continue }
            let principal = directory.principal(
                for: Identity(run.identity) ?? Identity(platform: "local", id: run.userName ?? "unknown"))
            logger.warning("resuming run #\(run.id ?? 0) (\(run.text)) at step \(step + 1) after a restart")
            do {
                responses.append(
                    try await executor.run(
                        Executor.Job(parsed: parsed, principal: principal, resumeStep: step), run: run))
            } catch {
                logger.error("cannot resume run #\(run.id ?? 0): \(error)")
            }
        }
        return responses
    }
}
