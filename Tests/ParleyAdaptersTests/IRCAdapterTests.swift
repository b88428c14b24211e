import Foundation
import ParleyAdapters
import ParleyConformance
import ParleyCore
import ParleyEngine
import ParleyStore
import Testing

@Suite(.serialized) struct IRCAdapterTests {
    /// The port of the ngircd `scripts/test` started, or nil.
    static var port: Int? {
        if let text = ProcessInfo.processInfo.environment["PARLEY_TEST_IRC_PORT"], let port = Int(text) { return port }
        return nil
    }

    @Test(.requires(.ngircd)) func peopleOnARealIRCServerRunCommandsAndAreRefusedWithTheReason() async throws {
        let port = try TestService.ngircd.require(Self.port)
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
        // Its run's summary follows the output; it is part of the answer, not an answer to chatter.
        let summary = try await alice.wait {
            $0.command == "PRIVMSG" && $0.nick == irc.nick && $0.params[0] == "alice_t"
                && $0.params[1].hasPrefix("run #") && $0.params[1].contains("succeeded")
        }
        #expect(summary != nil)

        func answers() -> [String] {
            alice.received.filter { $0.nick == irc.nick && $0.command == "PRIVMSG" }.map { $0.params.last ?? "" }
        }
        let before = answers()
        try await alice.send(IRCMessage("PRIVMSG", [channel, "chatter that is not for the bot"]))
        // A barrier, not a pause: the bot reads the channel in order, so once it has answered the
        // ping said after the chatter, an answer to the chatter would have come first.
        try await alice.send(IRCMessage("PRIVMSG", [channel, "!ping"]))
        let pong = try await alice.wait { $0.command == "PRIVMSG" && $0.nick == irc.nick && $0.params.last == "pong" }
        #expect(pong != nil)
        #expect(answers() == before + ["pong"], "the bot answered chatter")
    }

    @Test(.requires(.ngircd), .timeLimit(.minutes(1)))
    func longRepliesAreSplitUnderTheLineLimitWithTheServersPrefixOnCharacterBoundaries() async throws {
        let port = try TestService.ngircd.require(Self.port)
        let channel = "#sp\(Int.random(in: 1000...9999))"
        let nick = "psplit\(Int.random(in: 100...999))"
        let aliceNick = "a\(Int.random(in: 100...999))"
        let engine = try IRCNegotiationTests.engine(alice: aliceNick)
        let bot = IRCAdapter(settings: IRCSettings(host: "127.0.0.1", port: port, nick: nick, channels: [channel]))
        let adapter = Task { try await bot.run(engine: engine) }
        defer { adapter.cancel() }
        let alice = try await IRCPerson(nick: aliceNick, port: port)
        defer { alice.close() }
        #expect(try await alice.join(channel, expecting: nick), "the bot never joined \(channel)")
        try await alice.send(IRCMessage("WHOIS", [nick]))
        let whois = try #require(await alice.wait { $0.command == "311" })
        let botSource = "\(nick)!\(whois.params[2])@\(whois.params[3])"

        // Three bytes more than fit in one line once the server puts the bot's prefix in front; alice's
        // shorter prefix leaves room for her `!echo `.
        let size = 512 - ":\(botSource) PRIVMSG \(channel) :\r\n".utf8.count + 3
        let kanji = String(repeating: "日", count: 100)
        let text = kanji + String(repeating: "é", count: (size - 300) / 2) + ((size - 300) % 2 == 1 ? "a" : "")
        #expect(text.utf8.count == size)
        let said = IRCMessage("PRIVMSG", [channel, "!echo " + text])
        try await alice.send(said)
        let parts = try await waitForReply(from: nick, in: alice, totalling: text)
        #expect(parts.count == 2, "expected the reply in two lines, got \(parts)")
        for line in parts {
            #expect(line.utf8.count + 2 <= 512, "a relayed line of \(line.utf8.count + 2) bytes")
            #expect(!line.contains("\u{FFFD}"))
        }
    }

    /// The raw lines of `nick`'s PRIVMSGs that alice received, once their texts add up to `text`.
    func waitForReply(from nick: String, in person: IRCPerson, totalling text: String) async throws -> [String] {
        var parts: [String] = []
        _ = try await eventually {
            parts = person.lines.filter {
                IRCMessage(line: $0).map { $0.nick == nick && $0.command == "PRIVMSG" } ?? false
            }
            return parts.compactMap { IRCMessage(line: $0)?.params.last }.joined() == text
        }
        return parts
    }
}
