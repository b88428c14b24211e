import Foundation
import ParleyCore
import ParleyStore

/// `… --dry-run`: what would happen — the decision, the gates, the exact argv or request — with
/// secrets masked, and nothing run. The dry run is recorded as a run and audited.
struct DryRun: Sendable {
    let store: any ParleyStorage
    let audit: AuditLog
    let vault: SecretVault
    let planner: Planner

    /// Describes `parsed` as allowed with `requirements` (`explanation` says by which grant and rules).
    func describe(
        _ parsed: ParsedCommand, requirements: Requirements, explanation: String, _ context: MessageContext
    ) async throws -> EngineResponse {
        let request = ActionRequest(
            parsed: parsed, principal: context.principal, room: context.inbound.room,
            platform: context.inbound.sender.platform, runID: 0, secrets: vault.secrets(for: context.principal.userName)
        )
        let masker = vault.masker
        var fields = [
            ReplyField("command", parsed.command.id),
            ReplyField("decision", "allowed (\(explanation))"),
            ReplyField("requires", PolicyDiff.describe(requirements)),
        ]
        switch parsed.command.action {
        case .exec(let spec):
            let argv = ExecExecutor.renderArgv(spec.argv, context: request.templateContext)
            fields.append(ReplyField("argv", masker.mask(argv.map(Self.quoted).joined(separator: " "))))
            fields.append(ReplyField("workdir", spec.workingDirectory))
            let names = Set(
                ExecExecutor.inheritedVariables + Array(spec.environment.keys) + Array(request.parleyEnvironment.keys))
            fields.append(ReplyField("env", names.sorted().joined(separator: ", ")))
            fields.append(ReplyField("timeout", "\(spec.timeoutSeconds)s"))
        case .http(let spec):
            do {
                let prepared = try HTTPExecutor.prepare(spec, context: request.templateContext)
                fields.append(ReplyField("request", masker.mask("\(prepared.method.rawValue) \(prepared.url)")))
                for (name, value) in prepared.headers {
                    fields.append(ReplyField("header", masker.mask("\(name): \(value)")))
                }
                if case .json(let template) = spec.body,
                    let data = try? JSONSerialization.data(
                        withJSONObject: template.render(request.templateContext), options: [.sortedKeys])
                {
                    fields.append(ReplyField("body", masker.mask(String(decoding: data, as: UTF8.self))))
                }
                fields.append(ReplyField("retries", "\(spec.retries), backoff \(spec.backoffSeconds)s doubling"))
            } catch {
                fields.append(ReplyField("request", "cannot be built: \(error)"))
            }
        case .builtin(let name):
            fields.append(ReplyField("action", "built-in \(name)"))
        case .reply:
            fields.append(ReplyField("action", "reply only; runs nothing"))
            if let template = parsed.command.replyTemplate {
                fields.append(ReplyField("reply", masker.mask(template.render(parsed.templateContext))))
            }
        case .runbook(let book):
            for (index, step) in book.steps.enumerated() {
                fields.append(ReplyField("step \(index + 1)", RunbookPlan.describe(step, request: request)))
            }
            for step in book.onFailure {
                fields.append(ReplyField("on failure", RunbookPlan.describe(step, request: request)))
            }
        }
        if let lock = parsed.command.limits.lock {
            fields.append(ReplyField("lock", lock.render(parsed.templateContext)))
        }
        if let max = parsed.command.limits.maxConcurrent { fields.append(ReplyField("max concurrent", String(max))) }
        var blocks: [ReplyBlock] = [.text("Dry run — nothing was run:"), .fields(fields)]
        if parsed.command.plan != nil {
            switch await planner.plan(parsed, principal: context.principal, room: context.inbound.room, runID: 0) {
            case .success(let plan): blocks += [.text("Plan:"), .code(plan.output)]
            case .failure(let refusal): blocks.append(.text(refusal.message))
            }
        }
        var run = context.newRun(parsed, decision: .allowed, reason: "dry run: \(explanation)")
        run.status = .dryRun
        run.finishedAt = Date()
        run = try await store.insertRun(run)
        try await audit.append(
            context.draft(
                .dryRun, command: parsed.command.id, arguments: parsed.recordedArguments, decision: "allowed",
                outcome: "dry run", runID: run.id))
        return EngineResponse(
            reply: Reply(blocks), outcome: .succeeded, runID: run.id)
    }

    static func quoted(_ argument: String) -> String {
        argument.contains(where: { $0 == " " || $0 == "'" || $0 == "\"" || $0.isNewline }) || argument.isEmpty
            ? "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'" : argument
    }
}

/// A runbook's plan in words, for `--dry-run`: each step with its condition evaluated where it can
/// be (conditions on earlier steps' results are shown as written).
enum RunbookPlan {
    static func describe(_ step: RunbookStep, request: ActionRequest) -> String {
        var text = step.name + ": "
        switch step.kind {
        case .action(.exec(let spec)):
            text += ExecExecutor.renderArgv(spec.argv, context: request.templateContext).map(DryRun.quoted).joined(
                separator: " ")
        case .action(.http(let spec)):
            text += "\(spec.method) \(HTTPExecutor.redactedURL(spec.url.render(request.templateContext)))"
        case .action: text += "action"
        case .parallel(let children): text += "in parallel: " + children.map(\.name).joined(separator: ", ")
        case .approval(let requirements, _): text += "wait for " + PolicyDiff.describe(requirements)
        }
        if let condition = step.when {
            if condition.names.contains(where: { $0.hasPrefix("steps.") }) {
                text += " (when \(condition), decided at run time)"
            } else {
                var values: [String: ConditionValue] = [:]
                for (name, value) in request.parsed.recordedArguments { values[name] = .string(value) }
                text += condition.evaluate(values) ? " (when \(condition): yes)" : " (when \(condition): no — skipped)"
            }
        }
        if step.retries > 0 { text += ", retried up to \(step.retries)×" }
        if step.idempotent { text += ", idempotent" }
        return text
    }
}
