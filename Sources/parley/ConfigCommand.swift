import ArgumentParser
import ParleyCore

/// `parley config …`: work with the configuration file.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration.", subcommands: [Check.self])

    /// `parley config check`: report every problem with file, line and column.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration; prints each problem as file:line:column and exits 78 if any.")

        @OptionGroup var configOptions: ConfigOptions

        func run() async throws {
            let config = try configOptions.load()
            let source = config.sourcePath ?? "built-in defaults"
            print(
                "\(source): ok — \(config.commands.count) command\(config.commands.count == 1 ? "" : "s"), "
                    + "\(config.users.count) user\(config.users.count == 1 ? "" : "s"), "
                    + "\(config.roles.count) role\(config.roles.count == 1 ? "" : "s")")
        }
    }
}
