import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import Synchronization
import Testing

/// The conformance driver for the terminal console: each person types into a console of their own;
/// each reply the console writes is one message.
final class TerminalDriver: ConformanceDriver {
    let platform = "local"
    let aliceIdentity = "local:alice"
    let messageLimit = Int.max
    let hasButtons = false
    let hasThreads = false
    let hasRooms = false
    var adapterYAML: String { "" }

    final class Person: ConsoleOutput {
        let said: AsyncStream<String>
        let keyboard: AsyncStream<String>.Continuation
        let replies = Mutex<[ObservedMessage]>([])

        init() {
            (said, keyboard) = AsyncStream.makeStream()
        }

        func write(_ text: String) {
            // Piped, the console writes "> what was typed" and then the reply, in one write.
            let reply = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).dropFirst()
                .joined()
            replies.withLock { $0.append(ObservedMessage(room: "direct", text: reply)) }
        }
    }

    let people: [ParleyConformance.Person: Person] = [.alice: Person(), .mallory: Person()]
    private let tasks = Mutex<[Task<Void, any Error>]>([])

    func mention(_ text: String) -> String { "parley: \(text)" }

    func start(engine: Engine) async throws {
        _ = try await engine.start()
        for (who, person) in people {
            let console = TerminalConsole(
                identity: Identity(platform: "local", id: who.rawValue), interactive: false,
                lines: { person.said }, output: person)
            let task = Task { try await console.run(engine: engine) }
            tasks.withLock { $0.append(task) }
        }
    }

    func say(_ text: String, as person: ParleyConformance.Person, in venue: Venue, thread: String?) async throws {
        people[person]?.keyboard.yield(text)
    }

    func seen(by person: ParleyConformance.Person) async -> [ObservedMessage] {
        people[person]?.replies.withLock { $0 } ?? []
    }

    func lastThread(of person: ParleyConformance.Person) async -> String? { nil }
    func redeliverLast(of person: ParleyConformance.Person) async throws -> Bool { false }
    func dropConnection() async throws -> Bool { false }

    func stop() async {
        for person in people.values { person.keyboard.finish() }
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}

@Suite struct TerminalConformanceTests {
    @Test(.serialized, arguments: ConformanceCheck.allCases)
    func theTerminalPassesTheConformanceSuite(check: ConformanceCheck) async throws {
        try await ConformanceSuite(driver: TerminalDriver()).run(check)
    }
}
