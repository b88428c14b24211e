import Foundation
import ParleyCore
import ParleyStore

/// Runs runbooks: steps in order, parallel groups, conditions, retries with backoff, approval gates
/// and `on_failure` steps, saving every step's state as it changes so a restart knows where it stood.
struct RunbookExecutor: ActionExecutor {
    let steps: any StepStore
    let actions: [any ActionExecutor]
    let audit: AuditLog
    /// Step records are read back into chat by `run ID`, so they are masked before they are saved.
    let masker: SecretMasker

    func canRun(_ action: ActionSpec) -> Bool {
        if case .runbook = action { return true }
        return false
    }

    func execute(_ action: ActionSpec, _ request: ActionRequest) async -> ActionResult {
        guard case .runbook(let book) = action else {
            return ActionResult(status: .failed, message: "the runbook executor cannot run \(action)")
        }
        var done: [String: StepSummary] = [:]
        var saved: [String: StepRecord] = [:]
        for record in (try? await steps.steps(runID: request.runID)) ?? [] { saved[record.path] = record }
        var log: [String] = []
        for (index, step) in book.steps.enumerated() {
            let path = String(index)
            if let record = saved[path], [.succeeded, .skipped, .approved].contains(record.status) {
                done[step.name] = StepSummary(
                    status: record.status.rawValue, output: record.output, outputs: record.outputs)
                log.append(line(step.name, record.status.rawValue))
                continue
            }
            if Task.isCancelled { return ActionResult(status: .interrupted, output: log.joined(separator: "\n")) }
            if case .approval(let requirements, let message) = step.kind {
                if request.resumeStep == index {
                    await save(
                        StepRecord(
                            runID: request.runID, path: path, name: step.name, status: .approved, finishedAt: Date(),
                            message: "approved by \(request.approvers.joined(separator: ", "))"), epoch: request.epoch)
                    done[step.name] = StepSummary(status: StepStatus.approved.rawValue)
                    log.append(line(step.name, "approved by \(request.approvers.joined(separator: ", "))"))
                    continue
                }
                if let condition = step.when, !condition.evaluate(values(request, done)) {
                    await skip(step, path: path, request: request, into: &done, log: &log)
                    continue
                }
                guard
                    await save(
                        StepRecord(
                            runID: request.runID, path: path, name: step.name, status: .awaitingApproval,
                            startedAt: Date()), epoch: request.epoch)
                else { return takenOver(step, log) }
                var context = request
                context.steps = done
                var result = ActionResult(status: .awaitingApproval, output: log.joined(separator: "\n"))
                result.pendingGate = PendingGate(
                    step: index, requirements: requirements,
                    message: message?.render(context.templateContext)
                        ?? "runbook \(request.parsed.command.id) waits at step \(step.name)")
                return result
            }
            let outcome = await run(step, path: path, request: request, done: &done, log: &log)
            if outcome.status != .succeeded {
                let failure = outcome.message ?? "step \(step.name) \(outcome.status.rawValue)"
                await runOnFailure(book, request: request, done: &done, log: &log)
                var result = ActionResult(
                    status: outcome.status == .interrupted ? .interrupted : .failed, exitCode: outcome.exitCode,
                    output: log.joined(separator: "\n"), message: failure)
                result.table = summaryTable(book, done)
                return result
            }
        }
        var result = ActionResult(status: .succeeded, output: log.joined(separator: "\n"))
        result.table = summaryTable(book, done)
        result.outputs = done.values.reduce(into: [:]) { $0.merge($1.outputs) { _, new in new } }
        return result
    }

    private func line(_ name: String, _ status: String) -> String { "[\(name)] \(status)" }

    /// What a runbook ends with here when another replica took its run over: nothing more starts.
    private func takenOver(_ step: RunbookStep, _ log: [String]) -> ActionResult {
        ActionResult(
            status: .interrupted, output: log.joined(separator: "\n"),
            message: "another replica took this run over; step \(step.name) was not started here")
    }

    /// Runs one step (an action with retries, or a parallel group), saving its state.
    private func run(
        _ step: RunbookStep, path: String, request: ActionRequest, done: inout [String: StepSummary],
        log: inout [String]
    ) async -> ActionResult {
        if let condition = step.when, !condition.evaluate(values(request, done)) {
            await skip(step, path: path, request: request, into: &done, log: &log)
            return ActionResult(status: .succeeded)
        }
        switch step.kind {
        case .action(let action):
            let result = await attempt(step, action: action, path: path, request: request, done: done)
            done[step.name] = StepSummary(
                status: result.status.rawValue, output: result.output, outputs: result.outputs)
            log.append(line(step.name, result.status.rawValue + (result.message.map { ": \($0)" } ?? "")))
            if !result.output.isEmpty { log.append(result.output.trimmingCharacters(in: .newlines)) }
            return result
        case .parallel(let children):
            let before = done
            let results = await withTaskGroup(of: (RunbookStep, ActionResult).self) { group in
                for (offset, child) in children.enumerated() {
                    group.addTask {
                        var childDone = before
                        var childLog: [String] = []
                        let result = await run(
                            child, path: "\(path).\(offset)", request: request, done: &childDone, log: &childLog)
                        return (child, result)
                    }
                }
                return await group.reduce(into: [(RunbookStep, ActionResult)]()) { $0.append($1) }
            }
            for (child, result) in results.sorted(by: { $0.0.name < $1.0.name }) {
                done[child.name] = StepSummary(
                    status: result.status.rawValue, output: result.output, outputs: result.outputs)
                log.append(line(child.name, result.status.rawValue + (result.message.map { ": \($0)" } ?? "")))
            }
            let failed = results.first { $0.1.status != .succeeded }
            done[step.name] = StepSummary(status: failed == nil ? "succeeded" : "failed")
            return failed?.1 ?? ActionResult(status: .succeeded)
        case .approval:
            return ActionResult(status: .failed, message: "an approval gate cannot run inside a parallel group")
        }
    }

    /// Runs an action step, retrying with doubling backoff.
    private func attempt(
        _ step: RunbookStep, action: ActionSpec, path: String, request: ActionRequest, done: [String: StepSummary]
    ) async -> ActionResult {
        guard let executor = actions.first(where: { $0.canRun(action) }) else {
            return ActionResult(status: .failed, message: "no executor can run step \(step.name)")
        }
        var stepRequest = request
        stepRequest.steps = done
        if let sink = request.onOutput {
            let name = step.name
            stepRequest.onOutput = { chunk in sink("[\(name)] " + chunk) }
        }
        var result = ActionResult(status: .failed)
        let started = Date()
        for attempt in 1...(step.retries + 1) {
            if attempt > 1 {
                try? await Task.sleep(for: DurationText.backoff(step.backoffSeconds, attempt: attempt))
            }
            if Task.isCancelled {
                return ActionResult(status: .interrupted, message: "stopped before step \(step.name)")
            }
            guard
                await save(
                    StepRecord(
                        runID: request.runID, path: path, name: step.name, status: .running, attempts: attempt,
                        startedAt: started), epoch: request.epoch)
            else { return takenOver(step, []) }
            _ = try? await audit.append(
                draft(request, .started, step: step.name, outcome: attempt > 1 ? "attempt \(attempt)" : ""))
            result = await executor.execute(action, stepRequest)
            if Task.isCancelled && result.status != .succeeded { result.status = .interrupted }
            let status: StepStatus =
                result.status == .succeeded ? .succeeded : result.status == .interrupted ? .interrupted : .failed
            await save(
                StepRecord(
                    runID: request.runID, path: path, name: step.name, status: status, attempts: attempt,
                    startedAt: started,
                    finishedAt: Date(), output: String(masker.mask(result.output).suffix(64 * 1024)),
                    outputs: result.outputs,
                    message: result.message ?? ""), epoch: request.epoch)
            _ = try? await audit.append(draft(request, .finished, step: step.name, outcome: result.status.rawValue))
            if result.status == .succeeded || result.status == .interrupted { break }
        }
        return result
    }

    private func skip(
        _ step: RunbookStep, path: String, request: ActionRequest, into done: inout [String: StepSummary],
        log: inout [String]
    ) async {
        await save(
            StepRecord(
                runID: request.runID, path: path, name: step.name, status: .skipped, finishedAt: Date(),
                message: "condition false"), epoch: request.epoch)
        done[step.name] = StepSummary(status: StepStatus.skipped.rawValue)
        log.append(line(step.name, "skipped (\(step.when?.description ?? "condition") is false)"))
    }

    private func runOnFailure(
        _ book: RunbookSpec, request: ActionRequest, done: inout [String: StepSummary], log: inout [String]
    ) async {
        for (index, step) in book.onFailure.enumerated() {
            _ = await run(step, path: "f\(index)", request: request, done: &done, log: &log)
        }
    }

    /// Condition values: the arguments, the context, and `steps.NAME.status|output|outputs.FIELD`.
    private func values(_ request: ActionRequest, _ done: [String: StepSummary]) -> [String: ConditionValue] {
        var values: [String: ConditionValue] = [:]
        for (name, value) in request.parsed.recordedArguments { values[name] = .string(value) }
        values["user"] = .string(request.principal.userName ?? "")
        values["room"] = .string(request.room)
        values["platform"] = .string(request.platform)
        values["roles"] = .list(request.principal.roles.map { .string($0) })
        for (name, summary) in done {
            values["steps.\(name).status"] = .string(summary.status)
            values["steps.\(name).output"] = .string(summary.output)
            for (field, value) in summary.outputs { values["steps.\(name).outputs.\(field)"] = .string(value) }
        }
        return values
    }

    private func summaryTable(_ book: RunbookSpec, _ done: [String: StepSummary]) -> (
        header: [String], rows: [[String]]
    ) {
        func rows(_ steps: [RunbookStep]) -> [[String]] {
            steps.flatMap { step -> [[String]] in
                var own = [[step.name, done[step.name]?.status ?? "not run"]]
                if case .parallel(let children) = step.kind { own += rows(children).map { ["  " + $0[0], $0[1]] } }
                return own
            }
        }
        let failureRows = rows(book.onFailure).filter { $0[1] != "not run" }.map { ["on_failure: " + $0[0], $0[1]] }
        return (["step", "status"], rows(book.steps) + failureRows)
    }

    /// Saves a step's state while the run is still this process's; false when another replica took
    /// it over (this one was paused or cut off past its heartbeat): nothing more may start here.
    /// A store that cannot be reached does not stop the runbook (the run's own record is fenced too).
    @discardableResult
    private func save(_ record: StepRecord, epoch: Int64?) async -> Bool {
        var masked = record
        masked.output = masker.mask(record.output)
        masked.outputs = record.outputs.mapValues(masker.mask)
        masked.message = masker.mask(record.message)
        return (try? await steps.saveStep(masked, epoch: epoch)) ?? true
    }

    private func draft(_ request: ActionRequest, _ kind: AuditKind, step: String, outcome: String) -> AuditDraft {
        AuditDraft(
            kind: kind, actor: request.principal.userName ?? "guest", identity: request.principal.identity.description,
            room: request.room, command: request.parsed.command.id, arguments: request.parsed.recordedArguments,
            outcome: outcome, runID: request.runID, detail: "step \(step)")
    }
}
