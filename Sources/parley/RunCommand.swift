import ArgumentParser
import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine

/// `parley run "deploy api to staging"`: one command, one answer, an exit status that says how it went.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one command and exit.",
        discussion: """
            Exit status: 0 succeeded, 1 failed, 2 unknown command, 3 invalid arguments, 4 denied, \
            5 timed out, 6 waiting for confirmation or approval, 74 store unavailable, 78 invalid configuration.
            """)

    @Argument(help: "The command, as you would type it in chat.")
    var text: String

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var speaker: SpeakerOptions

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        let identity = try speaker.resolve()
        let engine = try await configOptions.engine()
        let inbound = Inbound(sender: identity, room: "cli", text: text, isDirect: true)
        let handled = await engine.handle(inbound)
        await engine.shutdown()
        guard let response = handled else { throw ExitCode(ExitStatus.unknownCommand) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(ReplyEnvelope(response)), as: UTF8.self))
        } else {
            print(TerminalRenderer.render(response.reply))
        }
        let status = Self.exitStatus(response.outcome)
        if status != 0 { throw ExitCode(status) }
    }

    static func exitStatus(_ outcome: EngineResponse.Outcome) -> Int32 {
        switch outcome {
        case .succeeded: return 0
        case .failed, .interrupted: return ExitStatus.failed
        case .unknown: return ExitStatus.unknownCommand
        case .invalid: return ExitStatus.invalidArguments
        case .denied: return ExitStatus.denied
        case .timedOut: return ExitStatus.timedOut
        case .pending: return ExitStatus.pending
        }
    }
}
