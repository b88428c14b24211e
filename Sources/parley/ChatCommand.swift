import ArgumentParser
import Foundation
import ParleyAdapters

/// `parley chat`: the terminal console.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to Parley in the terminal (reads a script from stdin when it is not a terminal).")

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var speaker: SpeakerOptions

    func run() async throws {
        let identity = try speaker.resolve()
        let engine = try await configOptions.engine(resumeRunbooks: true)
        let resuming = Task { await engine.resumeRunbooks() }
        let console = TerminalConsole(
            identity: identity, interactive: isatty(STDIN_FILENO) == 1, lines: { StandardInput.lines() },
            output: StandardOutput())
        try await console.run(engine: engine)
        await resuming.value
        await engine.shutdown()
    }
}
