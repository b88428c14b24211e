import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyEngine

/// The IRC adapter: one connection to a server (TCP or TLS), registered through IRCv3 CAP and SASL
/// when the server has them, channels joined, PRIVMSG in, replies out; reconnects with backoff.
public struct IRCAdapter: ChatAdapter {
    public let platform = "irc"
    let settings: IRCSettings
    let logger: Logger
    let environment: [String: String]
    let state = ConnectionState()
    let link = IRCLink()
    /// How long to wait before connecting again.
    var backoff = IRCBackoff()
    /// A server that has not welcomed Parley this long after connecting is given up on.
    var registrationTimeout = Duration.seconds(60)
    /// Registered under another nick (the configured one was taken: a replica that stopped answering
    /// still holds it until the server drops it), Parley asks for its own nick back this often.
    var nickRegainInterval = Duration.seconds(10)

    /// True between the server's welcome and the connection's end.
    public var isConnected: Bool { state.isConnected }
    /// The most IRC lines one block of output shows (every line is a message of its own); past that
    /// its last lines are kept and the rest is pointed to.
    static let maxOutputLines = 15
    /// Without a server timestamp on the welcome, messages stamped this much before it are history a
    /// server or bouncer plays back, not commands to run now.
    static let historyMargin: TimeInterval = 300

    /// Creates an adapter.
    public init(
        settings: IRCSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "parley.irc")
    ) {
        self.settings = settings
        self.environment = environment
        self.logger = logger
    }

    public func run(engine: any MessageHandler) async throws {
        var next = backoff.initial
        while !Task.isCancelled {
            var registered = false
            var refused = false
            var outcome: String
            do {
                try await session(engine: engine, registered: &registered)
                outcome = "the server closed the connection"
            } catch is CancellationError {
                break
            } catch let error as IRCRegistrationError {
                refused = true
                outcome = "\(error)"
            } catch {
                outcome = "the connection failed: \(error)"
            }
            state.set(false)
            if Task.isCancelled { break }
            if registered { next = backoff.initial }
            let delay = refused ? max(next, backoff.afterRefusal) : next
            let message: Logger.Message = "IRC \(settings.host):\(settings.port): \(outcome); reconnecting in \(delay)"
            if refused { logger.error(message) } else { logger.warning(message) }
            try? await Task.sleep(for: delay)
            next = min(delay * 2, backoff.maximum)
        }
        state.set(false)
    }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        guard state.isConnected, let current = link.current else { throw AdapterError.notConnected(platform) }
        if Self.isChannel(room) && !current.channels.contains(room.lowercased()) {
            throw AdapterError.refused(platform: platform, reason: "Parley is not in \(room)")
        }
        await deliver(reply, to: room)
    }

    /// Closes the current connection as a server restart would; false when there is none. For tests.
    func dropConnection() async -> Bool {
        guard let current = link.current else { return false }
        try? await current.channel.close()
        return true
    }

    private func session(engine: any MessageHandler, registered: inout Bool) async throws {
        let password = try settings.password.map { try $0.resolve(environment: environment).get() }
        let sasl = try settings.sasl.map {
            (account: $0.account, password: try $0.password.resolve(environment: environment).get())
        }
        var registration = IRCRegistration(nick: settings.nick, password: password, sasl: sasl)
        let connection = try await IRCConnector(settings: settings, logger: logger).connect()
        let watchdog = Task { [state, registrationTimeout] in
            try await Task.sleep(for: registrationTimeout)
            if !state.isConnected { try? await connection.channel.close() }
        }
        defer { watchdog.cancel() }
        var regain: Task<Void, Never>?
        defer { regain?.cancel() }
        var historyBefore = Date.distantPast
        try await connection.executeThenClose { inbound, outbound in
            let writer = IRCWriter(outbound, flood: settings.flood)
            link.open(IRCLink.Current(writer: writer, channel: connection.channel, nick: settings.nick))
            defer {
                state.set(false)
                link.close()
            }
            for message in registration.start() { await writer.send(message) }
            for try await buffer in inbound {
                guard let message = IRCMessage(line: String(buffer: buffer)) else { continue }
                switch message.command {
                case "PING":
                    await writer.send(IRCMessage("PONG", message.params))
                    continue
                case "ERROR":
                    logger.warning("IRC server: \(message.params.last ?? "ERROR")")
                    continue
                default: break
                }
                if registered {
                    await handle(message, engine: engine, historyBefore: historyBefore)
                    continue
                }
                let step: IRCRegistration.Step
                do {
                    step = try registration.receive(message)
                } catch {
                    await writer.send(IRCMessage("QUIT", ["registration failed"]))
                    throw error
                }
                for reply in step.send { await writer.send(reply) }
                guard step.registered else { continue }
                registered = true
                historyBefore =
                    message.tags["time"].flatMap(Self.serverTime) ?? Date().addingTimeInterval(-Self.historyMargin)
                link.update { $0.nick = registration.nick }
                state.set(true)
                let capabilities = registration.enabled.sorted().joined(separator: ", ")
                logger.info(
                    "connected to IRC \(settings.host):\(settings.port) as \(registration.nick)\(settings.tls ? " over TLS" : "")\(capabilities.isEmpty ? "" : " with \(capabilities)")\(sasl.map { ", logged in as \($0.account)" } ?? "")"
                )
                for channel in settings.channels { await writer.send(IRCMessage("JOIN", [channel])) }
                if registration.nick.caseInsensitiveCompare(settings.nick) != .orderedSame {
                    logger.warning(
                        "the nick \(settings.nick) is taken; connected as \(registration.nick) and asking for \(settings.nick) back every \(nickRegainInterval)"
                    )
                    regain = Task { [link, settings, nickRegainInterval] in
                        // The server answers 433 while it is taken, and NICK (handled below) once it is ours.
                        func taken() -> Bool {
                            guard let nick = link.current?.nick else { return false }
                            return nick.caseInsensitiveCompare(settings.nick) != .orderedSame
                        }
                        while !Task.isCancelled, taken() {
                            try? await Task.sleep(for: nickRegainInterval)
                            guard !Task.isCancelled, taken() else { break }
                            await writer.send(IRCMessage("NICK", [settings.nick]))
                        }
                    }
                }
            }
        }
    }

    /// Handles one message after registration: membership changes and PRIVMSG to answer.
    private func handle(_ message: IRCMessage, engine: any MessageHandler, historyBefore: Date) async {
        guard let nick = link.current?.nick else { return }
        let fromSelf = message.nick.map { $0.caseInsensitiveCompare(nick) == .orderedSame } ?? false
        switch message.command {
        case "JOIN" where fromSelf:
            guard let channel = message.params.first else { return }
            link.update {
                $0.channels.insert(channel.lowercased())
                $0.source = message.prefix
            }
        case "PART" where fromSelf:
            guard let channel = message.params.first else { return }
            link.update { $0.channels.remove(channel.lowercased()) }
        case "KICK":
            guard message.params.count > 1, message.params[1].caseInsensitiveCompare(nick) == .orderedSame else {
                return
            }
            logger.warning("kicked from \(message.params[0]) by \(message.nick ?? "the server")")
            link.update { $0.channels.remove(message.params[0].lowercased()) }
        case "NICK" where fromSelf:
            guard let renamed = message.params.first else { return }
            link.update {
                $0.nick = renamed
                $0.source = nil
            }
            logger.info("IRC nick is now \(renamed)")
        case "PRIVMSG":
            guard message.params.count == 2, let sender = message.nick, !fromSelf else { return }
            // CTCP (ACTION, VERSION …) is not for Parley.
            guard !message.params[1].hasPrefix("\u{1}") else { return }
            if let stamp = message.tags["time"].flatMap(Self.serverTime), stamp < historyBefore { return }
            let target = message.params[0]
            let direct = target.caseInsensitiveCompare(nick) == .orderedSame
            let room = direct ? sender : target
            let inbound = Inbound(
                sender: Identity(platform: "irc", id: sender), room: room, eventID: message.tags["msgid"],
                text: message.params[1], isDirect: direct)
            Task { await answer(inbound, to: room, engine: engine) }
        default: return
        }
    }

    private func answer(_ inbound: Inbound, to room: String, engine: any MessageHandler) async {
        guard let response = await engine.handle(inbound) else { return }
        await deliver(
            response.reply, to: room, runID: response.runID, runPageURL: engine.config.server.displayURL + "/runs/")
    }

    /// Sends a reply as PRIVMSG lines that fit once the server has put Parley's prefix in front.
    private func deliver(_ reply: Reply, to target: String, runID: Int64? = nil, runPageURL: String? = nil) async {
        guard let current = link.current else {
            logger.warning("IRC reply to \(target) dropped: not connected")
            return
        }
        let limit = IRCLines.budget(source: current.source ?? current.nick, target: target)
        let lines = IRCLines.lines(
            of: reply, limit: limit, maxOutputLines: Self.maxOutputLines, runID: runID, runPageURL: runPageURL)
        for line in lines { await current.writer.send(IRCMessage("PRIVMSG", [target, line])) }
    }

    static func isChannel(_ name: String) -> Bool {
        name.first.map { "#&+!".contains($0) } ?? false
    }

    /// An IRCv3 `time` tag (`2026-11-26T10:00:00.000Z`).
    static func serverTime(_ stamp: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(stamp))
            ?? (try? Date.ISO8601FormatStyle().parse(stamp))
    }
}

/// How long the adapter waits before connecting again: from `initial`, doubling up to `maximum`, back
/// to `initial` once a connection registers; never less than `afterRefusal` after the server refused
/// the login, so a wrong password does not hammer the server.
struct IRCBackoff: Sendable {
    var initial = Duration.seconds(1)
    var maximum = Duration.seconds(60)
    var afterRefusal = Duration.seconds(30)
}

extension IRCAdapter {
    /// A nick is a destination of its own: a PRIVMSG to it reaches that person alone.
    public func directRoom(for user: String) async throws -> String? {
        guard !user.isEmpty, !user.hasPrefix("#"), !user.contains(" ") else { return nil }
        return user
    }
}
