import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import Synchronization
import Testing

/// The conformance suite's people on a real Synapse: alice and mallory share a room with Parley,
/// and alice has a direct chat with it. The adapter is built in code (its access token comes from
/// registering the bot), so the suite's configuration has no `adapters:` section.
final class MatrixConformanceDriver: ConformanceDriver {
    let platform = "matrix"
    let adapterYAML = ""
    let messageLimit = 65_536
    let hasButtons = false
    let hasThreads = true
    let homeserver: MatrixTestHomeserver
    let bot: MatrixPerson
    let alice: MatrixPerson
    let mallory: MatrixPerson
    let watcher: MatrixWatcher
    let adapter: MatrixAdapter

    private struct State {
        var engine: Engine?
        var running: Task<Void, Never>?
        var room = ""
        var direct = ""
        var lastSaid: [Person: String] = [:]
    }

    private let state = Mutex(State())

    init(homeserver: MatrixTestHomeserver) async throws {
        self.homeserver = homeserver
        bot = try await homeserver.register("parleybot")
        alice = try await homeserver.register("alice")
        mallory = try await homeserver.register("mallory")
        watcher = MatrixWatcher(as: alice, watching: bot.userID)
        adapter = MatrixAdapter(
            settings: MatrixSettings(homeserver: homeserver.url, userID: bot.userID, accessToken: .value(bot.token)),
            syncTimeout: .seconds(5))
    }

    var aliceIdentity: String { "matrix:\(alice.userID)" }

    func mention(_ text: String) -> String { "\(bot.name): \(text)" }

    func start(engine: Engine) async throws {
        startAdapter(engine)
        let deadline = ContinuousClock.now + .seconds(30)
        while !adapter.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let room = try await alice.createRoom(invite: [bot, mallory])
        try await mallory.join(room)
        let direct = try await alice.createRoom(invite: [bot], direct: true)
        guard try await alice.waitUntil(bot.userID, joins: room),
            try await alice.waitUntil(bot.userID, joins: direct)
        else { throw MatrixDriverError.botDidNotJoin }
        state.withLock {
            $0.room = room
            $0.direct = direct
        }
    }

    private func startAdapter(_ engine: Engine) {
        let adapter = adapter
        state.withLock {
            $0.engine = engine
            $0.running = Task { try? await adapter.run(engine: engine) }
        }
    }

    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws {
        let (room, direct) = state.withLock { ($0.room, $0.direct) }
        let speaker = person == .alice ? alice : mallory
        let id = try await speaker.say(text, in: venue == .room ? room : direct, thread: thread)
        state.withLock { $0.lastSaid[person] = id }
    }

    func seen(by person: Person) async -> [ObservedMessage] {
        let (room, direct) = state.withLock { ($0.room, $0.direct) }
        return watcher.messages.compactMap { message in
            guard message.room == room || (person == .alice && message.room == direct) else { return nil }
            return ObservedMessage(
                room: message.room == room ? "room" : "direct", thread: message.thread, text: message.text,
                size: message.size)
        }
    }

    func lastThread(of person: Person) async -> String? { state.withLock { $0.lastSaid[person] } }

    /// Synapse never hands the same event to a sync twice; the engine's dedupe is covered elsewhere.
    func redeliverLast(of person: Person) async throws -> Bool { false }

    /// Stops the adapter and starts it again, as a restart of Parley would.
    func dropConnection() async throws -> Bool {
        let (running, engine) = state.withLock { ($0.running, $0.engine) }
        running?.cancel()
        await running?.value
        guard let engine else { return false }
        startAdapter(engine)
        return true
    }

    func stop() async {
        let running = state.withLock { $0.running }
        running?.cancel()
        await running?.value
        watcher.stop()
    }
}

/// Why the driver could not set the rooms up.
enum MatrixDriverError: Error {
    /// The bot never accepted alice's invitations.
    case botDidNotJoin
}

@Suite struct MatrixConformanceTests {
    @Test(.requires(.synapse), .serialized, arguments: ConformanceCheck.allCases)
    func theMatrixAdapterPassesTheConformanceSuite(check: ConformanceCheck) async throws {
        let homeserver = try TestService.synapse.require(MatrixTestHomeserver.fromEnvironment())
        try await ConformanceSuite(driver: try await MatrixConformanceDriver(homeserver: homeserver)).run(check)
    }
}
