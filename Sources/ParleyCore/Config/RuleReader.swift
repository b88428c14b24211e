import Foundation
import Yams

/// Reads a command's `rules:`; role names are checked later, once `roles:` is read.
struct RuleReader {
    let reader: YAMLReader

    /// A role named by a rule, with where it was named.
    struct RoleReference {
        let role: String
        let node: Node
        let command: String
    }

    /// A rule's approval requirement, with where it was written, for the eligibility check.
    struct ApprovalReference {
        let command: String
        let requirements: Requirements
        let node: Node
    }

    static let ruleKeys = ["name", "when", "rooms", "platforms", "hours", "timezone", "deny", "require"]
    static let requireKeys = ["roles", "approvals", "approvers", "confirm"]
    /// Names a condition may use besides the command's arguments.
    static let conditionNames: Set<String> = [
        "room", "platform", "user", "roles", "groups", "command",
        // The incident a command is about (the one it names, or the one open in its room).
        "incident", "incident.role", "incident.severity", "incident.status",
    ]

    func readRules(
        _ node: Node, command: String, arguments: Set<String>, roles: inout [RoleReference],
        approvals: inout [ApprovalReference]
    ) -> [CommandRule] {
        guard case .sequence(let sequence) = node else {
            reader.report(node, "rules must be a list of rules, each starting with '- '")
            return []
        }
        return sequence.compactMap { ruleNode in
            readRule(ruleNode, command: command, arguments: arguments, roles: &roles, approvals: &approvals)
        }
    }

    private func readRule(
        _ node: Node, command: String, arguments: Set<String>, roles: inout [RoleReference],
        approvals: inout [ApprovalReference]
    ) -> CommandRule? {
        var rule = CommandRule()
        var fields: [String: Node] = [:]
        for entry in reader.mapping(node, "a rule of '\(command)'", allowed: Self.ruleKeys) {
            fields[entry.key] = entry.value
        }
        rule.name = fields["name"].flatMap { reader.string($0, "name") }
        if let whenNode = fields["when"], let text = reader.string(whenNode, "when") {
            rule.when = readCondition(text, at: whenNode, command: command, arguments: arguments)
        }
        rule.rooms = fields["rooms"].map { reader.strings($0, "rooms").map(\.0) }
        rule.platforms = fields["platforms"].map { reader.strings($0, "platforms").map(\.0) }
        rule.deny = fields["deny"].flatMap { reader.string($0, "deny") }
        if let hoursNode = fields["hours"], let text = reader.string(hoursNode, "hours") {
            var zone = TimeZone(identifier: "UTC")!
            if let zoneNode = fields["timezone"], let name = reader.string(zoneNode, "timezone") {
                if let found = TimeZone(identifier: name) {
                    zone = found
                } else {
                    reader.report(zoneNode, "unknown time zone '\(name)'; use a name such as Europe/Paris or UTC")
                }
            }
            do {
                rule.window = try TimeWindow(text, timeZone: zone)
            } catch {
                reader.report(hoursNode, "hours '\(text)': \(error.message)")
            }
        }
        if let requireNode = fields["require"] {
            rule.require = readRequirements(requireNode, command: command, roles: &roles)
            if rule.require.approvals > 0 {
                approvals.append(ApprovalReference(command: command, requirements: rule.require, node: requireNode))
            }
        }
        if rule.deny == nil && fields["require"] == nil && rule.rooms == nil && rule.platforms == nil
            && rule.window == nil
        {
            reader.report(node, "this rule of '\(command)' neither denies, restricts nor requires anything")
        }
        return rule
    }

    private func readCondition(_ text: String, at node: Node, command: String, arguments: Set<String>) -> Condition? {
        do {
            let condition = try Condition.parse(text)
            let known = arguments.union(Self.conditionNames)
            for name in condition.names.subtracting(known).sorted() {
                let near = known.filter { EditDistance.between($0, name) <= 2 }.sorted()
                let hint =
                    near.first.map { "; did you mean '\($0)'?" }
                    ?? "; it can use \(known.sorted().joined(separator: ", "))"
                reader.report(node, "condition '\(text)' uses unknown name '\(name)'\(hint)")
            }
            return condition
        } catch {
            let mark = node.mark
            // Quoted scalars start one column before their text.
            let offset = node.scalar?.style == .plain ? 0 : 1
            reader.report(
                line: mark?.line ?? 0, column: (mark?.column ?? 0) + offset + error.column - 1,
                "condition '\(text)' is malformed: \(error.message) (column \(error.column))")
            return nil
        }
    }

    private func readRequirements(_ node: Node, command: String, roles: inout [RoleReference]) -> Requirements {
        var requirements = Requirements()
        for field in reader.mapping(node, "require", allowed: Self.requireKeys) {
            switch field.key {
            case "roles", "approvers":
                let names = reader.strings(field.value, field.key)
                for (role, roleNode) in names {
                    roles.append(RoleReference(role: role, node: roleNode, command: command))
                }
                if field.key == "roles" {
                    requirements.roles = names.map(\.0)
                } else {
                    requirements.approvers = names.map(\.0)
                }
            case "approvals":
                if let count = reader.int(field.value, "approvals") {
                    if count < 0 || count > 10 {
                        reader.report(field.value, "approvals must be between 0 and 10")
                    } else {
                        requirements.approvals = count
                    }
                }
            default:
                let value = reader.string(field.value, "confirm")
                if value != "true" && value != "false" { reader.report(field.value, "confirm must be true or false") }
                requirements.confirm = value == "true"
            }
        }
        return requirements
    }
}
