import ArgumentParser
import Foundation
import ParleyCore
import ParleyEngine

/// `parley policy …`: ask the policy questions without running anything.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Check decisions and review policy changes.",
        subcommands: [Check.self, Diff.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the decision for a command as someone would type it, and why; runs nothing.",
            discussion: "Exit status 0 allowed, 2 unknown command, 3 invalid arguments, 4 denied.")

        @Argument(help: "The command, as typed in chat.") var text: String
        @OptionGroup var configOptions: ConfigOptions
        @OptionGroup var speaker: SpeakerOptions
        @Option(help: "The room it would be typed in.") var room: String = "terminal"

        func run() async throws {
            let config = try configOptions.load()
            let identity = try speaker.resolve()
            let catalogue = CommandCatalogue(Builtins.declarations + config.commands)
            let directory = Directory(users: config.users, groups: config.groups)
            let principal = directory.principal(for: identity)
            print("who:      \(principal.displayName) (\(identity)); roles: \(principal.roles.joined(separator: ", "))")
            let parsed: ParsedCommand
            switch catalogue.parse(text) {
            case .failure(let failure):
                print("decision: not a valid command\n\(failure.message)")
                throw ExitCode(failure.isUnknownCommand ? ExitStatus.unknownCommand : ExitStatus.invalidArguments)
            case .success(let command): parsed = command
            }
            print("command:  \(parsed.command.id) \(AuditEntryFormat.arguments(parsed.recordedArguments))")
            let request = PolicyRequest(principal: principal, parsed: parsed, room: room, platform: identity.platform)
            switch Policy(roles: config.roles).evaluate(request) {
            case .allowed(let grant, let requirements, let rules):
                print("decision: allowed")
                print("by:       \(grant)")
                if !rules.isEmpty { print("rules:    \(rules.joined(separator: "; "))") }
                print("requires: \(PolicyDiff.describe(requirements))")
            case .denied(let reason, let decidedBy):
                print("decision: denied")
                print("by:       \(decidedBy)")
                print("reason:   \(reason)")
                throw ExitCode(ExitStatus.denied)
            }
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what changing from OLD to NEW grants or revokes, user by user and command by command.",
            discussion: "Exit status 0 when nothing changes, 1 when something does.")

        @Argument(help: "The configuration now in force.") var old: String
        @Argument(help: "The proposed configuration.") var new: String

        func run() async throws {
            let loader = ConfigLoader(builtins: Builtins.declarations)
            let before: ParleyConfig
            let after: ParleyConfig
            do {
                before = try loader.load(path: old)
                after = try loader.load(path: new)
            } catch {
                printError(error.description)
                throw ExitCode(ExitStatus.config)
            }
            let changes = PolicyDiff.changes(from: before, to: after, builtins: Builtins.declarations)
            guard !changes.isEmpty else {
                print("no change in who may run what")
                return
            }
            for change in changes { print(change.text) }
            throw ExitCode(1)
        }
    }
}

enum AuditEntryFormat {
    static func arguments(_ arguments: [String: String]) -> String {
        arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
