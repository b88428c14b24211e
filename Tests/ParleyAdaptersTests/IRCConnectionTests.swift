import Foundation
import ParleyConformance
import ParleyCore
import ParleyEngine
import Testing

@testable import ParleyAdapters

/// TLS against a real ngIRCd with a certificate from a test CA, and reconnecting to a real ngIRCd
/// that is stopped and started again.
@Suite(.serialized) struct IRCConnectionTests {
    /// The TLS port and CA file of the ngircd `scripts/test` started, or nil.
    func tlsServer() -> (plain: Int, tls: Int, ca: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let plain = environment["PARLEY_TEST_IRC_PORT"].flatMap(Int.init),
            let tls = environment["PARLEY_TEST_IRC_TLS_PORT"].flatMap(Int.init),
            let ca = environment["PARLEY_TEST_IRC_CA"]
        else { return nil }
        return (plain, tls, ca)
    }

    @Test(.requires(.ngircdTLS), .timeLimit(.minutes(1)))
    func theAdapterConnectsOverTLSTrustingTheConfiguredCA() async throws {
        let server = try TestService.ngircdTLS.require(tlsServer())
        let channel = "#tls\(Int.random(in: 1000...9999))"
        let nick = "pt\(Int.random(in: 100...999))"
        let aliceNick = "at\(Int.random(in: 100...999))"
        let settings = IRCSettings(
            host: "localhost", port: server.tls, nick: nick, channels: [channel], tls: true, tlsCAFile: server.ca)
        let recorder = LogRecorder()
        let bot = IRCAdapter(settings: settings, logger: recorder.logger())
        let engine = try IRCNegotiationTests.engine(alice: aliceNick)
        let adapter = Task { try await bot.run(engine: engine) }
        defer { adapter.cancel() }
        let alice = try await IRCPerson(nick: aliceNick, port: server.plain)
        defer { alice.close() }
        #expect(try await alice.join(channel, expecting: nick), "the bot never joined over TLS: \(recorder.messages)")
        #expect(bot.isConnected)
        #expect(recorder.messages.contains { $0.contains("over TLS") })
        try await alice.send(IRCMessage("PRIVMSG", [channel, "!ping"]))
        let pong = try await alice.wait { $0.command == "PRIVMSG" && $0.nick == nick }
        #expect(pong?.params.last == "pong")
    }

    @Test(.requires(.ngircdTLS), .timeLimit(.minutes(1)))
    func aCertificateNobodyTrustsIsRefusedUnlessVerificationIsOff() async throws {
        let server = try TestService.ngircdTLS.require(tlsServer())
        let nick = "pu\(Int.random(in: 100...999))"
        let recorder = LogRecorder()
        let untrusting = IRCAdapter(
            settings: IRCSettings(host: "127.0.0.1", port: server.tls, nick: nick, tls: true),
            logger: recorder.logger())
        let engine = try IRCNegotiationTests.engine()
        let refused = Task { try await untrusting.run(engine: engine) }
        defer { refused.cancel() }
        #expect(
            try await eventually { recorder.messages.contains { $0.contains("CERTIFICATE_VERIFY_FAILED") } },
            "no certificate failure was logged: \(recorder.messages)")
        #expect(!untrusting.isConnected)
        let watcher = try await IRCPerson(nick: "w\(Int.random(in: 1000...9999))", port: server.plain)
        defer { watcher.close() }
        #expect(try await watcher.wait { $0.command == "001" } != nil)
        try await watcher.send(IRCMessage("WHOIS", [nick]))
        #expect(try await watcher.wait { $0.command == "401" || $0.command == "311" }?.command == "401")
        refused.cancel()

        let trusting = IRCAdapter(
            settings: IRCSettings(host: "127.0.0.1", port: server.tls, nick: nick, tls: true, tlsVerify: false))
        let accepted = Task { try await trusting.run(engine: engine) }
        defer { accepted.cancel() }
        #expect(try await eventually(seconds: 15) { trusting.isConnected })
    }

    @Test(.requires(.ngircdInstalled), .timeLimit(.minutes(2)))
    func theAdapterReconnectsAndRejoinsAfterTheServerRestarts() async throws {
        try TestService.ngircdInstalled.require()
        let server = try await OwnNgircd.started()
        defer { server.stop() }
        let channel = "#rc\(Int.random(in: 1000...9999))"
        let nick = "prc\(Int.random(in: 100...999))"
        let engine = try IRCNegotiationTests.engine(alice: "alice")
        let bot = IRCAdapter(
            settings: IRCSettings(host: "127.0.0.1", port: server.port, nick: nick, channels: [channel]))
        let adapter = Task { try await bot.run(engine: engine) }
        defer { adapter.cancel() }
        let before = try await IRCPerson(nick: "alice", port: server.port)
        defer { before.close() }
        #expect(
            try await before.join(channel, expecting: nick),
            "the bot never joined \(channel); alice saw \(before.lines.suffix(12)); bot connected: \(bot.isConnected)")

        server.stop()
        #expect(try await OwnNgircd.waitForPort(server.port, open: false), "ngircd kept its port open")
        #expect(try await eventually { !bot.isConnected }, "the bot did not notice the server going away")
        try await server.start()

        let after = try await IRCPerson(nick: "alice", port: server.port)
        defer { after.close() }
        #expect(
            try await after.join(channel, expecting: nick, seconds: 30),
            "the bot did not rejoin \(channel); alice saw \(after.lines.suffix(12)); bot connected: \(bot.isConnected)")
        #expect(try await eventually { bot.isConnected })
        try await after.send(IRCMessage("PRIVMSG", [channel, "!ping"]))
        let pong = try await after.wait { $0.command == "PRIVMSG" && $0.nick == nick }
        #expect(pong?.params.last == "pong")
    }
}
