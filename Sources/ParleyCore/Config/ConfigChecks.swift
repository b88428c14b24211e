import Yams

/// Checks that need the whole configuration: can each approval requirement ever be met?
struct ConfigChecks {
    let config: ParleyConfig
    let builtins: [CommandDeclaration]
    let reader: YAMLReader

    /// Reports approval requirements that not enough people could ever meet (the requester never counts).
    func checkApprovers(_ references: [RuleReader.ApprovalReference]) {
        let directory = Directory(users: config.users, groups: config.groups)
        let policy = Policy(roles: config.roles)
        let people = directory.allPrincipals
        for reference in references {
            guard let command = config.commands.first(where: { $0.id == reference.command }) else { continue }
            let required = reference.requirements.approvals
            let approvers = reference.requirements.approvers
            let eligible = people.filter { person in
                approvers.isEmpty
                    ? policy.decide(person, command: command).isAllowed
                    : person.roles.contains(where: approvers.contains)
            }
            // Someone must ask, and the asker cannot approve: N approvals need N eligible others.
            let requesters = people.filter { policy.decide($0, command: command).isAllowed }
            let worst = requesters.map { requester in eligible.filter { !$0.isSamePerson(as: requester) }.count }.min()
            guard let worst, worst < required else { continue }
            let who =
                approvers.isEmpty ? "people who may run \(command.id)" : "holders of \(ParameterType.list(approvers))"
            reader.report(
                reference.node,
                "'\(command.id)' needs \(required) approval\(required == 1 ? "" : "s") from \(who), but only \(eligible.count) user\(eligible.count == 1 ? "" : "s") qualif\(eligible.count == 1 ? "ies" : "y") and a requester cannot approve their own request"
            )
        }
    }
}
