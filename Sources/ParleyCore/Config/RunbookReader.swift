import Foundation
import Yams

/// Reads a command's `runbook:` — its steps and `on_failure` steps.
struct RunbookReader {
    let reader: YAMLReader
    let command: String
    let arguments: Set<String>
    /// Reads an action (exec or http) with the names runbook templates may use.
    let readAction: (Node) -> ActionSpec?
    /// Compiles a template with the names runbook templates may use.
    let template: (String, Node) -> TextTemplate?

    static let stepKeys = ["name", "action", "parallel", "approval", "when", "retry", "timeout", "idempotent"]

    func read(_ node: Node) -> RunbookSpec? {
        var spec = RunbookSpec(steps: [])
        var names = Set<String>()
        for entry in reader.mapping(node, "runbook of '\(command)'", allowed: ["steps", "on_failure"]) {
            let steps = readSteps(entry.value, names: &names)
            if entry.key == "steps" { spec.steps = steps } else { spec.onFailure = steps }
        }
        guard !spec.steps.isEmpty else {
            reader.report(node, "the runbook of '\(command)' needs steps:")
            return nil
        }
        return spec
    }

    private func readSteps(_ node: Node, names: inout Set<String>) -> [RunbookStep] {
        guard case .sequence(let sequence) = node else {
            reader.report(node, "steps must be a list, each step starting with '- '")
            return []
        }
        return sequence.compactMap { readStep($0, names: &names) }
    }

    private func readStep(_ node: Node, names: inout Set<String>) -> RunbookStep? {
        var fields: [String: Node] = [:]
        for entry in reader.mapping(node, "a step of '\(command)'", allowed: Self.stepKeys) {
            fields[entry.key] = entry.value
        }
        guard case .mapping = node else { return nil }
        guard let nameNode = fields["name"], let name = reader.string(nameNode, "name"), !name.isEmpty,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        else {
            reader.report(node, "each step of '\(command)' needs a name: of letters, digits, '-' and '_'")
            return nil
        }
        guard names.insert(name).inserted else {
            reader.report(nameNode, "step name '\(name)' is used twice in '\(command)'")
            return nil
        }
        let kinds = ["action", "parallel", "approval"].filter { fields[$0] != nil }
        guard kinds.count == 1 else {
            reader.report(node, "step '\(name)' needs exactly one of action:, parallel: or approval:")
            return nil
        }
        let kind: RunbookStep.Kind
        if let actionNode = fields["action"] {
            guard var action = readAction(actionNode) else { return nil }
            if let timeoutNode = fields["timeout"], let text = reader.string(timeoutNode, "timeout") {
                if let seconds = DurationText.seconds(text), seconds > 0 {
                    action = Self.withTimeout(action, seconds)
                } else {
                    reader.report(timeoutNode, "timeout '\(text)' is not a duration; write 90s or 10m")
                }
            }
            kind = .action(action)
        } else if let parallelNode = fields["parallel"] {
            let children = readSteps(parallelNode, names: &names)
            guard !children.isEmpty else { return nil }
            if children.contains(where: { if case .approval = $0.kind { return true } else { return false } }) {
                reader.report(parallelNode, "an approval cannot run in parallel with other steps")
            }
            kind = .parallel(children)
        } else {
            kind = readApproval(fields["approval"]!, step: name)
        }
        var step = RunbookStep(name: name, kind: kind)
        if let whenNode = fields["when"], let text = reader.string(whenNode, "when") {
            do {
                let condition = try Condition.parse(text)
                let known = arguments.union(RuleReader.conditionNames)
                for unknown in condition.names where !known.contains(unknown) && !unknown.hasPrefix("steps.") {
                    reader.report(
                        whenNode,
                        "condition '\(text)' uses unknown name '\(unknown)'; it can use the arguments, steps.NAME.status and steps.NAME.outputs.FIELD"
                    )
                }
                step.when = condition
            } catch {
                reader.report(whenNode, "condition '\(text)' is malformed: \(error.message) (column \(error.column))")
            }
        }
        if let retryNode = fields["retry"] { readRetry(retryNode, into: &step) }
        if let idempotentNode = fields["idempotent"] {
            step.idempotent = reader.string(idempotentNode, "idempotent") == "true"
        }
        return step
    }

    private func readApproval(_ node: Node, step: String) -> RunbookStep.Kind {
        var requirements = Requirements(approvals: 1)
        var message: TextTemplate?
        for entry in reader.mapping(node, "approval of step '\(step)'", allowed: ["approvals", "approvers", "message"])
        {
            switch entry.key {
            case "approvals":
                if let count = reader.int(entry.value, "approvals"), (1...10).contains(count) {
                    requirements.approvals = count
                } else {
                    reader.report(entry.value, "approvals must be from 1 to 10")
                }
            case "approvers": requirements.approvers = reader.strings(entry.value, "approvers").map(\.0)
            default: message = reader.string(entry.value, "message").flatMap { template($0, entry.value) }
            }
        }
        return .approval(requirements, message: message)
    }

    private func readRetry(_ node: Node, into step: inout RunbookStep) {
        if case .scalar = node, let count = reader.int(node, "retry") {
            step.retries = max(0, min(10, count))
            return
        }
        for entry in reader.mapping(node, "retry", allowed: ["attempts", "backoff"]) {
            if entry.key == "attempts", let attempts = reader.int(entry.value, "attempts") {
                guard (1...11).contains(attempts) else {
                    reader.report(entry.value, "attempts must be from 1 to 11")
                    continue
                }
                step.retries = attempts - 1
            } else if entry.key == "backoff", let text = reader.string(entry.value, "backoff") {
                if let seconds = DurationText.interval(text) {
                    step.backoffSeconds = seconds
                } else {
                    reader.report(entry.value, "backoff '\(text)' is not a duration; write 500ms or 2s")
                }
            }
        }
    }

    static func withTimeout(_ action: ActionSpec, _ seconds: Int) -> ActionSpec {
        switch action {
        case .exec(var spec):
            spec.timeoutSeconds = seconds
            return .exec(spec)
        case .http(var spec):
            spec.timeoutSeconds = seconds
            return .http(spec)
        default: return action
        }
    }
}
