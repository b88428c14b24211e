import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ParleyAdapters
import ParleyConformance
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Lines received on a connection, in order, and how many a script has taken.
final class LineLog: Sendable {
    private let state = Mutex<(lines: [String], times: [ContinuousClock.Instant], taken: Int, closed: Bool)>(
        ([], [], 0, false))

    var lines: [String] { state.withLock { $0.lines } }
    /// Every line with the moment it arrived.
    var timedLines: [(line: String, at: ContinuousClock.Instant)] {
        state.withLock { state in state.lines.indices.map { (state.lines[$0], state.times[$0]) } }
    }
    var isClosed: Bool { state.withLock { $0.closed } }

    func append(_ line: String) {
        state.withLock {
            $0.lines.append(line)
            $0.times.append(.now)
        }
    }
    func markClosed() { state.withLock { $0.closed = true } }

    /// The first line not taken yet, taking it.
    func take() -> String? {
        state.withLock { state in
            guard state.taken < state.lines.count else { return nil }
            state.taken += 1
            return state.lines[state.taken - 1]
        }
    }
}

/// One line-based TCP connection (a test person, or a scripted server's client) that records every
/// line it receives and sends what it is given. Lines are recorded, pings answered and the close
/// noticed on the event loop, not by a Swift task: a suite that keeps Swift's few threads busy can
/// delay what a test waits for, but never hide a line or a close that came.
final class LineConnection: Sendable {
    let log: LineLog
    private let channel: any Channel

    private init(channel: any Channel, log: LineLog) {
        self.channel = channel
        self.log = log
    }

    /// Sets up `channel`'s pipeline to record into a new connection, and returns it.
    static func adopt(_ channel: any Channel, answerPings: Bool) throws -> LineConnection {
        let log = LineLog()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(LineRecorder(log: log, answerPings: answerPings))
        return LineConnection(channel: channel, log: log)
    }

    /// Connects to a line-based server on 127.0.0.1.
    static func connect(port: Int, answerPings: Bool = true) async throws -> LineConnection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try adopt(channel, answerPings: answerPings) }
            }
    }

    func send(_ line: String) { channel.writeAndFlush(ByteBuffer(string: line + "\r\n"), promise: nil) }

    /// Waits up to `seconds` for the next line not taken yet.
    func next(seconds: Double = 30) async throws -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let line = log.take() { return line }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Once more past the deadline: a suite that starved this task must not make a line that came count as missing.
        return log.take()
    }

    /// Waits up to `seconds` for the connection to be closed.
    func waitUntilClosed(seconds: Double = 10) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if log.isClosed { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return log.isClosed
    }

    func close() { channel.close(promise: nil) }
}

/// Records each line into a `LineLog`, answering PING when asked to, and marks the log closed.
private final class LineRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let log: LineLog
    let answerPings: Bool

    init(log: LineLog, answerPings: Bool) {
        self.log = log
        self.answerPings = answerPings
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = String(buffer: unwrapInboundIn(data))
        if answerPings, let message = IRCMessage(line: line), message.command == "PING" {
            context.writeAndFlush(
                wrapOutboundOut(ByteBuffer(string: IRCMessage("PONG", message.params).line + "\r\n")), promise: nil)
        }
        log.append(line)
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.markClosed()
        context.fireChannelInactive()
    }
}

/// A person on IRC: connects, registers, says things and collects what arrives.
final class IRCPerson: Sendable {
    let connection: LineConnection

    var received: [IRCMessage] { connection.log.lines.compactMap { IRCMessage(line: $0) } }
    /// Every line received, as it came on the wire.
    var lines: [String] { connection.log.lines }

    init(nick: String, port: Int) async throws {
        connection = try await LineConnection.connect(port: port)
        try await send(IRCMessage("NICK", [nick]))
        try await send(IRCMessage("USER", [nick, "0", "*", nick]))
    }

    func send(_ message: IRCMessage) async throws {
        connection.send(message.line)
    }

    /// Waits for a message matching `test`, up to `seconds`.
    func wait(seconds: Double = 30, for test: (IRCMessage) -> Bool) async throws -> IRCMessage? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let found = received.first(where: test) { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        return received.first(where: test)
    }

    /// Registers, joins `channel` and waits until `nick` is in it too.
    func join(_ channel: String, expecting nick: String, seconds: Double = 20) async throws -> Bool {
        guard try await wait(for: { $0.command == "001" }) != nil else { return false }
        try await send(IRCMessage("JOIN", [channel]))
        let seen = try await wait(seconds: seconds) {
            ($0.command == "JOIN" && $0.nick == nick && $0.params.first == channel)
                || ($0.command == "353"
                    && $0.params.last?.split(separator: " ").contains { $0.hasSuffix(nick) } == true)
        }
        return seen != nil
    }

    func close() { connection.close() }
}

/// A small IRC server the test scripts line by line, to check the exact bytes Parley sends.
final class ScriptedIRCServer: Sendable {
    /// The connections accepted so far, in order.
    final class Registry: Sendable {
        let connections = Mutex<[LineConnection]>([])
    }

    let port: Int
    private let registry: Registry
    private let server: any Channel

    private init(port: Int, registry: Registry, server: any Channel) {
        self.port = port
        self.registry = registry
        self.server = server
    }

    static func start() async throws -> ScriptedIRCServer {
        let registry = Registry()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let connection = try LineConnection.adopt(child, answerPings: false)
                    registry.connections.withLock { $0.append(connection) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        return ScriptedIRCServer(port: port, registry: registry, server: server)
    }

    var connectionCount: Int { registry.connections.withLock { $0.count } }

    /// Waits up to `seconds` for the `index`th connection (from 0).
    func connection(_ index: Int, seconds: Double = 30) async throws -> LineConnection? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let found = registry.connections.withLock({ $0.count > index ? $0[index] : nil }) { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        return registry.connections.withLock { $0.count > index ? $0[index] : nil }
    }

    func stop() {
        server.close(promise: nil)
        for connection in registry.connections.withLock({ $0 }) { connection.close() }
    }
}

/// An ngIRCd of the test's own, in its own folder and on its own port, that the test may stop and
/// start again; always stopped by the test (`defer`), with every wait bounded.
final class OwnNgircd: Sendable {
    let directory: String
    let port: Int
    private let pid = Mutex<pid_t?>(nil)

    init(port: Int) throws {
        directory = NSTemporaryDirectory() + "parley-ngircd-" + UUID().uuidString
        self.port = port
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = """
            [Global]
            Name = irc.own.test
            Info = Parley reconnect test server
            Listen = 127.0.0.1
            Ports = \(port)
            PidFile = \(directory)/ngircd.pid
            MotdPhrase = "Parley test"
            [Limits]
            MaxConnectionsIP = 0
            MaxJoins = 0
            MaxPenaltyTime = 0
            [Options]
            PAM = no
            Ident = no
            DNS = no

            """
        try config.write(toFile: directory + "/ngircd.conf", atomically: true, encoding: .utf8)
    }

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ngircd") }

    /// A port nothing listens on right now.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }

    /// Starts ngircd in the foreground and waits up to 10 s for its port.
    func start() async throws {
        let arguments = ["/usr/sbin/ngircd", "-n", "-f", directory + "/ngircd.conf"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let logPath = directory + "/ngircd.log"
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, arguments[0], &actions, nil, cArguments, environ)
        guard status == 0 else { throw NgircdError(message: "cannot start ngircd: errno \(status)") }
        pid.withLock { $0 = child }
        // Its own word that it listens, not an open port: another program may have taken the port
        // between `freePort` and ngircd's bind, and would answer in its place.
        let deadline = ContinuousClock.now + .seconds(10)
        var log = ""
        while ContinuousClock.now < deadline {
            log = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
                .split(separator: "\n").filter { $0.hasPrefix("[\(child):") }.joined(separator: "\n")
            if log.contains("Now listening on [127.0.0.1]:\(port) ") { return }
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                pid.withLock { $0 = nil }
                throw NgircdError(
                    message: "ngircd did not start on port \(port):\n\(log)", portTaken: log.contains("already in use"))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw NgircdError(message: "ngircd did not open port \(port) within 10 s:\n\(log)")
    }

    /// Starts an ngircd on a free port, on another one when the port was taken before ngircd bound it.
    static func started() async throws -> OwnNgircd {
        var attempt = 0
        while true {
            let server = try OwnNgircd(port: try await freePort())
            do {
                try await server.start()
                return server
            } catch let error as NgircdError where error.portTaken && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// Stops ngircd (SIGTERM, then SIGKILL after 5 s) and reaps it in the background; safe to call twice.
    func stop() {
        guard
            let child = pid.withLock({ value in
                defer { value = nil }
                return value
            })
        else { return }
        kill(child, SIGTERM)
        // Reaped on a thread of its own, never on one of the few Swift concurrency runs every test on.
        Thread {
            var status: Int32 = 0
            for _ in 0..<100 {
                if waitpid(child, &status, WNOHANG) == child { return }
                usleep(50_000)
            }
            kill(child, SIGKILL)
            waitpid(child, &status, 0)
        }.start()
    }

    /// Waits up to `seconds` for the port to accept (or refuse) connections.
    static func waitForPort(_ port: Int, open: Bool, seconds: Double = 10) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(500))
                .connect(host: "127.0.0.1", port: port).get()
            if let channel { try? await channel.close() }
            if (channel != nil) == open { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}

struct NgircdError: Error, CustomStringConvertible {
    var message: String
    /// The port was taken by another program before ngircd could bind it.
    var portTaken = false
    var description: String { message }
}

/// Collects what a logger logs, to check what Parley tells an operator (and what it never does).
final class LogRecorder: Sendable {
    private let entries = Mutex<[String]>([])

    var messages: [String] { entries.withLock { $0 } }

    func logger(_ label: String = "parley.irc.test") -> Logger {
        Logger(label: label) { _ in RecordingHandler(recorder: self) }
    }

    func record(_ text: String) { entries.withLock { $0.append(text) } }

    struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.record("\(event.level): \(event.message)")
        }
    }
}

/// Waits up to `seconds` for `condition`.
func eventually(seconds: Double = 30, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

extension TestService {
    /// Its TLS listener and the CA that signed its certificate.
    static let ngircdTLS = TestService.environment(
        "ngircd over TLS", variables: ["PARLEY_TEST_IRC_PORT", "PARLEY_TEST_IRC_TLS_PORT", "PARLEY_TEST_IRC_CA"],
        hint: "scripts/test sets PARLEY_TEST_IRC_TLS_PORT and PARLEY_TEST_IRC_CA")
    /// The ngircd binary, for tests that start and stop their own server.
    static let ngircdInstalled = TestService(
        "ngircd (/usr/sbin/ngircd)", hint: "apt-get install ngircd", isAvailable: { OwnNgircd.isInstalled })
}
