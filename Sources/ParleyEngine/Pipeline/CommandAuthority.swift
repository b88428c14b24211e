import ParleyCore

/// What the pipeline's identify, parse and authorize steps read, built once from the configuration:
/// the command catalogue (built-ins first), the directory of people and the policy.
struct CommandAuthority: Sendable {
    /// Built-ins and configured commands.
    let catalogue: CommandCatalogue
    /// Who may run what.
    let policy: Policy
    /// Who is who.
    let directory: Directory

    init(config: ParleyConfig) {
        let builtins = Builtins.declarations.map { declaration in
            guard declaration.id == "incident.declare" else { return declaration }
            var declare = declaration
            declare.rules = config.incidents.declareRules
            return declare
        }
        catalogue = CommandCatalogue(builtins + config.commands)
        policy = Policy(roles: config.roles)
        directory = Directory(users: config.users, groups: config.groups)
    }
}
