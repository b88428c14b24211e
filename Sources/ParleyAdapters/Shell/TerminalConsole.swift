import Foundation
import ParleyCore
import ParleyEngine

/// The terminal console (`parley chat`): a direct conversation with Parley, one line per message.
///
/// Interactive, each command runs in its own task and its reply prints when it is ready, so a long
/// deploy never blocks the prompt. Reading a script from a pipe, commands run one after another,
/// in order, like a shell script.
public struct TerminalConsole: ChatAdapter {
    public let platform = "local"
    /// Who is typing.
    public let identity: Identity
    /// True at a terminal: prompt, and concurrent commands.
    public let interactive: Bool
    private let lines: @Sendable () -> AsyncStream<String>
    private let output: any ConsoleOutput

    /// Creates a console reading `lines` and writing to `output`.
    public init(
        identity: Identity, interactive: Bool, lines: @escaping @Sendable () -> AsyncStream<String>,
        output: any ConsoleOutput
    ) {
        self.identity = identity
        self.interactive = interactive
        self.lines = lines
        self.output = output
    }

    public func run(engine: any MessageHandler) async throws {
        if interactive {
            output.write("Parley \(Builtins.version) — you are \(identity). Type `help`, or `quit` to leave.\n")
            output.write(Self.prompt)
        }
        await withTaskGroup(of: Void.self) { running in
            for await line in lines() {
                let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if interactive && (text == "quit" || text == "exit") { break }
                guard !text.isEmpty else {
                    if interactive { output.write(Self.prompt) }
                    continue
                }
                let inbound = Inbound(
                    sender: identity, room: "terminal", eventID: nil, text: text, isDirect: true)
                if interactive {
                    running.addTask { await respond(to: inbound, engine: engine) }
                } else {
                    await respond(to: inbound, engine: engine)
                }
            }
            await running.waitForAll()
        }
    }

    static let prompt = "parley> "

    private func respond(to inbound: Inbound, engine: any MessageHandler) async {
        // At a terminal, a long command's output appears as it comes, a line at a time.
        var live: (@Sendable (String) -> Void)?
        if interactive {
            let output = self.output
            live = { lines in
                let body = lines.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { "  │ " + $0 }
                output.write(body.joined(separator: "\n") + "\n")
            }
        }
        guard let response = await engine.handle(inbound, onOutput: live) else { return }
        var text = ""
        if interactive {
            let id = response.runID.map { " (run #\($0))" } ?? ""
            text += "\n── \(inbound.text)\(id)\n"
        } else {
            text += "> \(inbound.text)\n"
        }
        text += TerminalRenderer.render(response.reply) + "\n"
        if interactive { text += Self.prompt }
        output.write(text)
    }
}

/// Renders replies for a terminal: plain text with tables in columns and code as is.
public enum TerminalRenderer {
    /// The reply as terminal text.
    public static func render(_ reply: Reply) -> String {
        reply.blocks.map { block -> String in
            switch block {
            case .code(let code):
                let body = code.hasSuffix("\n") ? String(code.dropLast()) : code
                return body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }
                    .joined(separator: "\n")
            default:
                return block.plainText
            }
        }.joined(separator: "\n")
    }
}
