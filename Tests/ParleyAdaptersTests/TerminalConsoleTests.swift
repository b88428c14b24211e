import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// Collects what the console writes.
final class Transcript: ConsoleOutput {
    private let text = Mutex("")

    func write(_ chunk: String) { text.withLock { $0 += chunk } }
    var value: String { text.withLock { $0 } }
}

func lines(_ items: [String], pause: Duration = .zero) -> @Sendable () -> AsyncStream<String> {
    {
        AsyncStream { continuation in
            Task {
                for item in items {
                    continuation.yield(item)
                    if pause > .zero { try? await Task.sleep(for: pause) }
                }
                continuation.finish()
            }
        }
    }
}

@Suite struct TerminalConsoleTests {
    static let yaml = """
        users: { alice: { roles: [sre], identities: ["local:alice"] } }
        roles: { sre: { allow: ["*"] } }
        commands:
          deploy:
            usage: "deploy {app:choice(api,web)} to {env:choice(staging,prod)}"
            help: Deploy an application
            action: { exec: ["printf", "deployed %s to %s\\n", "{{app}}", "{{env}}"] }
          slow:
            usage: slow
            action: { exec: ["sh", "-c", "until [ -f release ]; do sleep 0.05; done; echo slow done"], timeout: 60s }
        """

    func engine(in directory: String = NSTemporaryDirectory() + "parley-console-" + UUID().uuidString) throws -> Engine
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: Self.yaml, file: "test.yaml", baseDirectory: directory)
        return Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
    }

    @Test func aScriptFromAPipeIsAnsweredInOrder() async throws {
        let transcript = Transcript()
        let console = TerminalConsole(
            identity: Identity(platform: "local", id: "alice"), interactive: false,
            lines: lines(["help", "", "deploy api to moon", "deploy api to staging"]), output: transcript)
        try await console.run(engine: try engine())
        let text = transcript.value
        let help = try #require(text.range(of: "> help\nCommands you may run:"))
        let moon = try #require(text.range(of: "> deploy api to moon\nunknown env 'moon'; expected staging or prod"))
        let staging = try #require(text.range(of: "> deploy api to staging\n  deployed api to staging\nrun #"))
        #expect(help.lowerBound < moon.lowerBound && moon.lowerBound < staging.lowerBound)
        #expect(text.contains("deploy <app> to <env>"))
        #expect(!text.contains("parley> "))
    }

    @Test func interactivelyAQuickCommandAnswersWhileASlowOneRuns() async throws {
        let transcript = Transcript()
        let directory = NSTemporaryDirectory() + "parley-console-" + UUID().uuidString
        let console = TerminalConsole(
            identity: Identity(platform: "local", id: "alice"), interactive: true,
            lines: lines(["slow", "ping"], pause: .milliseconds(200)), output: transcript)
        let engine = try engine(in: directory)
        let running = Task { try await console.run(engine: engine) }
        // The slow command finishes only when told to, after ping has been answered.
        for _ in 0..<200 where !transcript.value.contains("pong") { try await Task.sleep(for: .milliseconds(50)) }
        _ = FileManager.default.createFile(atPath: directory + "/release", contents: Data())
        try await running.value
        let text = transcript.value
        let pong = try #require(text.range(of: "── ping (run #"))
        let slow = try #require(text.range(of: "slow done"))
        #expect(pong.lowerBound < slow.lowerBound, "ping waited for slow:\n\(text)")
        #expect(text.contains("  │ slow done"), "live output is shown as it comes:\n\(text)")
        #expect(text.hasPrefix("Parley \(Builtins.version) — you are local:alice."))
    }

    @Test func quitEndsTheInteractiveConsole() async throws {
        let transcript = Transcript()
        let console = TerminalConsole(
            identity: Identity(platform: "local", id: "alice"), interactive: true,
            lines: lines(["quit", "ping"]), output: transcript)
        try await console.run(engine: try engine())
        #expect(!transcript.value.contains("pong"))
    }

    @Test func repliesRenderTablesAndIndentedCode() {
        let reply = Reply([
            .text("Results:"), .table(header: ["a", "bb"], rows: [["1", "2"], ["333", "4"]]), .code("x\ny\n"),
        ])
        #expect(TerminalRenderer.render(reply) == "Results:\na    bb\n1    2\n333  4\n  x\n  y")
    }
}
