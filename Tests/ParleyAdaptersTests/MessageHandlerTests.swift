import Foundation
import ParleyAdapters
import ParleyCore
import ParleyEngine
import Synchronization
import Testing

/// Adapters depend on `MessageHandler`, not on the engine: any handler can stand behind one.
@Suite struct MessageHandlerTests {
    /// Answers every message with its own text, and remembers what it was handed.
    final class EchoHandler: MessageHandler {
        let config = ParleyConfig.defaults(workingDirectory: NSTemporaryDirectory())
        let directory = Directory(users: [])
        let received = Mutex<[Inbound]>([])

        func handle(_ inbound: Inbound, onOutput: (@Sendable (String) -> Void)?) async -> EngineResponse? {
            received.withLock { $0.append(inbound) }
            return EngineResponse(reply: .text("echo: \(inbound.text)"), outcome: .succeeded, runID: nil)
        }

        func settledGate(_ id: String) async -> SettledGate? { nil }
        func adapterState(_ key: String) async throws -> String? { nil }
        func setAdapterState(_ key: String, _ value: String) async throws {}
    }

    @Test func theTerminalRunsOverAHandlerThatIsNotTheEngine() async throws {
        let handler = EchoHandler()
        let transcript = Transcript()
        let console = TerminalConsole(
            identity: Identity(platform: "local", id: "alice"), interactive: false, lines: lines(["hello", "deploy"]),
            output: transcript)
        try await console.run(engine: handler)
        #expect(handler.received.withLock { $0.map(\.text) } == ["hello", "deploy"])
        #expect(transcript.value.contains("echo: hello"))
        #expect(transcript.value.contains("echo: deploy"))
    }
}
