import ArgumentParser
import ParleyEngine

/// The `parley` command line.
@main
struct ParleyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parley",
        abstract: "ChatOps server: operate production from chat, safely.",
        version: Builtins.version,
        subcommands: [
            ServeCommand.self, ChatCommand.self, RunCommand.self, ConfigCommand.self, PolicyCommand.self,
            AuditCommand.self, UsersCommand.self, TokensCommand.self, MigrateCommand.self, ClusterCommand.self,
            IncidentCommand.self,
        ]
    )
}
