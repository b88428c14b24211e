import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import ParleyAdapters
import ParleyCore
import ParleyEngine
import ParleyStore
import Synchronization
import Testing

/// A person on IRC: connects, registers, joins, says things and collects what arrives.
final class Inbox: Sendable {
    let messages = Mutex<[IRCMessage]>([])
}

final class IRCPerson: Sendable {
    let inbox: Inbox
    let commands: AsyncStream<IRCMessage>.Continuation
    let task: Task<Void, Never>

    var received: [IRCMessage] { inbox.messages.withLock { $0 } }

    init(nick: String, port: Int) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let inbox = Inbox()
        let (stream, continuation) = AsyncStream.makeStream(of: IRCMessage.self)
        self.inbox = inbox
        commands = continuation
        task = Task {
            try? await channel.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await message in stream {
                            try await outbound.write(ByteBuffer(string: message.line + "\r\n"))
                        }
                    }
                    group.addTask {
                        for try await buffer in inbound {
                            guard let message = IRCMessage(line: String(buffer: buffer)) else { continue }
                            if message.command == "PING" { continuation.yield(IRCMessage("PONG", message.params)) }
                            inbox.messages.withLock { $0.append(message) }
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
        try await send(IRCMessage("NICK", [nick]))
        try await send(IRCMessage("USER", [nick, "0", "*", nick]))
    }

    func send(_ message: IRCMessage) async throws {
        commands.yield(message)
    }

    /// Waits for a message matching `test`, up to `seconds`.
    func wait(seconds: Double = 10, for test: (IRCMessage) -> Bool) async throws -> IRCMessage? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let found = received.first(where: test) { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    func close() {
        commands.finish()
        task.cancel()
    }
}

@Suite(.serialized) struct IRCAdapterTests {
    /// The port of the ngircd `scripts/test` started, or nil (a failure when CI is set).
    static var port: Int? {
        if let text = ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"], let port = Int(text) { return port }
        return nil
    }

    func requireServer() -> Int? {
        guard let port = Self.port else {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                Issue.record("PARLEY_TEST_IRC_PORT is not set: scripts/test starts ngircd and sets it")
            }
            return nil
        }
        return port
    }

    @Test func peopleOnARealIRCServerRunCommandsAndAreRefusedWithTheReason() async throws {
        guard let port = requireServer() else { return }
        let channel = "#ops\(Int.random(in: 1000...9999))"
        let directory = NSTemporaryDirectory() + "parley-irc-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = try ConfigLoader(builtins: Builtins.declarations).load(
            yaml: """
                adapters:
                  irc: { server: "127.0.0.1:\(port)", nick: pb\(Int.random(in: 100...999)), channels: ["\(channel)"] }
                users:
                  alice: { roles: [ops], identities: ["irc:alice_t"] }
                roles: { ops: { allow: ["*"] } }
                commands:
                  deploy:
                    usage: "deploy {app} to {env:choice(staging,prod)}"
                    action: { exec: ["printf", "deployed %s to %s\\\\n", "{{app}}", "{{env}}"] }
                """, file: "test.yaml", baseDirectory: directory)
        let irc = try #require(config.irc)
        let engine = Engine(config: config, store: try SQLiteStore(dataDirectory: config.dataDirectory))
        let bot = IRCAdapter(settings: irc)
        #expect(!bot.isConnected)
        let adapter = Task { try await bot.run(engine: engine) }
        defer { adapter.cancel() }

        let alice = try await IRCPerson(nick: "alice_t", port: port)
        let mallory = try await IRCPerson(nick: "mallory_t", port: port)
        defer {
            alice.close()
            mallory.close()
        }
        #expect(try await alice.wait { $0.command == "001" } != nil)
        #expect(try await mallory.wait { $0.command == "001" } != nil)
        try await alice.send(IRCMessage("JOIN", [channel]))
        try await mallory.send(IRCMessage("JOIN", [channel]))
        // The bot has joined once alice sees it in the channel.
        let joined = try await alice.wait(seconds: 15) {
            ($0.command == "JOIN" && $0.nick == irc.nick)
                || ($0.command == "353" && $0.params.last?.contains(irc.nick) == true)
        }
        #expect(joined != nil, "the bot never joined \(channel)")
        #expect(bot.isConnected)

        try await alice.send(IRCMessage("PRIVMSG", [channel, "!deploy api to staging"]))
        let reply = try await alice.wait {
            $0.command == "PRIVMSG" && $0.nick == irc.nick && $0.params[1].contains("deployed")
        }
        #expect(reply?.params == [channel, "deployed api to staging"])

        try await mallory.send(IRCMessage("PRIVMSG", [channel, "\(irc.nick): deploy api to prod"]))
        let refusal = try await mallory.wait {
            $0.command == "PRIVMSG" && $0.nick == irc.nick && $0.params[1].hasPrefix("denied")
        }
        #expect(refusal?.params[1] == "denied: deploy needs role ops; you have guest")

        try await alice.send(IRCMessage("PRIVMSG", [irc.nick, "deploy web to prod"]))
        let direct = try await alice.wait {
            $0.command == "PRIVMSG" && $0.nick == irc.nick && $0.params[0] == "alice_t"
        }
        #expect(direct?.params[1] == "deployed web to prod")

        try await Task.sleep(for: .milliseconds(500))
        let before = alice.received.filter { $0.nick == irc.nick && $0.command == "PRIVMSG" }.count
        try await alice.send(IRCMessage("PRIVMSG", [channel, "chatter that is not for the bot"]))
        try await Task.sleep(for: .milliseconds(800))
        #expect(
            alice.received.filter { $0.nick == irc.nick && $0.command == "PRIVMSG" }.count == before,
            "the bot answered chatter")
    }

    @Test func messagesParseAndNeverSmuggleASecondLine() throws {
        let message = try #require(
            IRCMessage(line: "@time=2026-11-26T10:00:00Z :alice!a@host PRIVMSG #ops :!deploy api to prod"))
        #expect(message.tags["time"] == "2026-11-26T10:00:00Z")
        #expect(message.nick == "alice")
        #expect(message.params == ["#ops", "!deploy api to prod"])
        #expect(IRCMessage("PRIVMSG", ["#ops", "line\r\nQUIT :bye"]).line == "PRIVMSG #ops :line  QUIT :bye")
        #expect(IRCLines.split(String(repeating: "é", count: 300), limit: 400).map(\.utf8.count) == [400, 200])
        #expect(IRCLines.split("a\n\nb") == ["a", " ", "b"])
    }
}
