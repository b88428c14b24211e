import Foundation
import HummingbirdWSClient
import Logging
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyServer
import ParleyStore
import Synchronization
import Testing

/// The conformance driver for the web console: each person holds a signed-in WebSocket to a live
/// `parley serve`; each reply frame is one message.
final class WebConsoleDriver: ConformanceDriver {
    let platform = "web"
    let aliceIdentity = "web:alice"
    let extraUsersYAML = "  mallory: { roles: [] }"
    let messageLimit = 64 * 1024 * 16
    let hasButtons = true
    let hasThreads = false
    let hasRooms = false
    var adapterYAML: String { "" }

    final class Socket: Sendable {
        let outgoing: AsyncStream<String>
        let keyboard: AsyncStream<String>.Continuation
        let replies = Mutex<[ObservedMessage]>([])
        let ready = Mutex(false)

        init() {
            (outgoing, keyboard) = AsyncStream.makeStream()
        }
    }

    let sockets: [Person: Socket] = [.alice: Socket(), .mallory: Socket()]
    private let tasks = Mutex<[Task<Void, any Error>]>([])
    private let counter = Mutex(0)

    func mention(_ text: String) -> String { "@parley \(text)" }

    func start(engine: Engine) async throws {
        _ = try await engine.start()
        let store = try SQLiteStore(dataDirectory: engine.config.dataDirectory)
        let server = ParleyHTTPServer(
            engine: engine, store: store, logger: Logger(label: "test.web") { _ in SwiftLogNoOpLogHandler() })
        let live = try await LiveServer { onRunning in server.application(onRunning: onRunning) }
        liveServer.withLock { $0 = live }
        for (person, socket) in sockets {
            let token = Tokens.random()
            try await store.insertSession(
                SessionRecord(
                    tokenHash: Tokens.hash(token), userName: person.rawValue, csrfToken: Tokens.random(bytes: 16),
                    createdAt: Date(), expiresAt: Date().addingTimeInterval(3600)))
            let task = Task<Void, any Error> {
                try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(live.port)/ws",
                    configuration: .init(additionalHeaders: [.cookie: "parley_session=\(token)"]),
                    logger: Logger(label: "test.ws") { _ in SwiftLogNoOpLogHandler() }
                ) { inbound, outbound, _ in
                    // The writer stays inside this closure (a task group, not a detached task): one that
                    // outlived it would be dropped unfinished, which NIO traps on in debug builds.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await text in socket.outgoing { try await outbound.write(.text(text)) }
                        }
                        group.addTask {
                            for try await message in inbound.messages(maxSize: 1 << 22) {
                                guard case .text(let text) = message, let frame = JSON(parsing: Array(text.utf8))
                                else { continue }
                                switch frame["type"].string {
                                case "hello": socket.ready.withLock { $0 = true }
                                case "reply":
                                    let blocks =
                                        (try? JSONDecoder().decode(
                                            [ReplyBlock].self, from: Data(frame["blocks"].encoded))) ?? []
                                    let reply = Reply(blocks)
                                    let hasButtons = blocks.contains {
                                        if case .actions = $0 { return true } else { return false }
                                    }
                                    socket.replies.withLock {
                                        $0.append(
                                            ObservedMessage(
                                                room: "direct", text: reply.plainText, hasButtons: hasButtons,
                                                size: text.utf8.count))
                                    }
                                default: continue
                                }
                            }
                        }
                        // Whichever ends first (the connection, or the test's keyboard) ends both.
                        try await group.next()
                        group.cancelAll()
                    }
                }
            }
            tasks.withLock { $0.append(task) }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while sockets.values.contains(where: { !$0.ready.withLock { $0 } }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private let liveServer = Mutex<LiveServer?>(nil)

    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws {
        let id = counter.withLock { count -> Int in
            count += 1
            return count
        }
        let frame: JSON = ["type": "message", "id": .string("m\(id)"), "text": .string(text)]
        sockets[person]?.keyboard.yield(String(decoding: frame.encoded, as: UTF8.self))
    }

    func seen(by person: Person) async -> [ObservedMessage] { sockets[person]?.replies.withLock { $0 } ?? [] }
    func lastThread(of person: Person) async -> String? { nil }
    func redeliverLast(of person: Person) async throws -> Bool { false }
    func dropConnection() async throws -> Bool { false }

    func stop() async {
        for socket in sockets.values { socket.keyboard.finish() }
        for task in tasks.withLock({ $0 }) { task.cancel() }
        liveServer.withLock { $0?.stop() }
    }
}

@Suite struct WebConsoleConformanceTests {
    @Test(.serialized, arguments: ConformanceCheck.allCases)
    func theWebConsolePassesTheConformanceSuite(check: ConformanceCheck) async throws {
        try await ConformanceSuite(driver: WebConsoleDriver()).run(check)
    }
}
