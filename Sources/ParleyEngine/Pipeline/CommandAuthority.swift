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
        catalogue = CommandCatalogue(Builtins.declarations + config.commands)
        policy = Policy(roles: config.roles)
        directory = Directory(users: config.users, groups: config.groups)
    }
}
