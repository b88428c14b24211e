import Foundation
import ParleyCore
import Testing

@testable import ParleyAdapters

/// The IRC wire format, line splitting and the registration state machine, without a server.
@Suite struct IRCProtocolTests {
    @Test func tagsAreParsedWithTheirEscapesAndWrittenBack() throws {
        let line =
            #"@msgid=abc\:1\sz;time=2026-11-27T10:00:00.000Z;+draft/x=a\\b\r\n;flag;odd=\ :alice!a@h PRIVMSG #ops :hi"#
        let message = try #require(IRCMessage(line: line))
        #expect(message.tags["msgid"] == "abc;1 z")
        #expect(message.tags["+draft/x"] == "a\\b\r\n")
        #expect(message.tags["flag"] == "")
        #expect(message.tags["odd"] == "")
        #expect(message.tags["time"] == "2026-11-27T10:00:00.000Z")
        #expect(message.nick == "alice")
        #expect(message.params == ["#ops", "hi"])
        let again = try #require(IRCMessage(line: message.line))
        #expect(again == message)
        #expect(IRCMessage(line: "@a=b") == nil)
    }

    @Test func messagesNeverSmuggleASecondLine() {
        #expect(IRCMessage("PRIVMSG", ["#ops", "line\r\nQUIT :bye"]).line == "PRIVMSG #ops :line  QUIT :bye")
        #expect(IRCMessage("PRIVMSG", ["#ops", "x"], tags: ["t": "a;b c"]).line == #"@t=a\:b\sc PRIVMSG #ops x"#)
    }

    @Test func linesLeaveRoomForTheServersPrefixAndCutOnCharacters() throws {
        let source = "parley!~parley@127.0.0.1"
        let budget = IRCLines.budget(source: source, target: "#ops")
        #expect(budget == 512 - ":\(source) PRIVMSG #ops :\r\n".utf8.count)
        let text = String(repeating: "é", count: 150) + String(repeating: "日本", count: 100) + "🚀🚀"
        let lines = IRCLines.split(text, limit: budget)
        #expect(lines.count == 2)
        #expect(lines.joined() == text)
        for line in lines {
            let relayed = ":\(source) " + IRCMessage("PRIVMSG", ["#ops", line]).line + "\r\n"
            #expect(relayed.utf8.count <= 512)
        }
        // Before Parley has seen its own user@host it assumes the longest the server may add.
        #expect(IRCLines.budget(source: "parley", target: "#ops") == 512 - 2 - 1 - 6 - 1 - 10 - 1 - 63 - 15)
        #expect(IRCLines.split("a\n\nb") == ["a", " ", "b"])
    }

    @Test func fieldsShareALineAndLongOutputKeepsItsLastLines() {
        let reply = Reply([.text("You are:"), .fields([ReplyField("user", "alice"), ReplyField("roles", "ops")])])
        #expect(IRCLines.lines(of: reply) == ["You are:", "user: alice · roles: ops"])
        let output = (1...40).map { "line \($0)" }.joined(separator: "\n")
        let long = IRCLines.lines(
            of: Reply([.code(output), .text("run #7 succeeded")]), runID: 7, runPageURL: "http://h/runs/")
        #expect(long.count == 16)
        #expect(
            long[0]
                == "… 26 earlier lines not shown on IRC; `run 7 --page 1` pages through them, http://h/runs/7 shows all"
        )
        // The end of the output, where the error usually is, is what shows.
        #expect(long[1] == "line 27")
        #expect(long[14] == "line 40")
        #expect(long[15] == "run #7 succeeded")
        // A page of `run N` names its own neighbours: it does not point to the run that showed it.
        let page = IRCLines.lines(
            of: Reply([.text("output page 1 of 3 (lines 1–40 of 100); later: `run 5 --page 2`"), .code(output)]),
            runID: 9)
        #expect(page[1] == "… 26 earlier lines not shown on IRC")
        let table = Reply([.table(header: ["a"], rows: (1...30).map { ["\($0)"] })])
        #expect(IRCLines.lines(of: table).count == 31)
    }

    @Test func saslPlainIsSentInChunksOf400WithAPlusAfterAnExactMultiple() {
        #expect(
            IRCRegistration.plainAuthentication(account: "alice", password: "secret").map(\.line) == [
                "AUTHENTICATE AGFsaWNlAHNlY3JldA=="
            ])
        // 2 + 5 + 293 bytes = 300 bytes → exactly 400 base64 characters.
        let exact = IRCRegistration.plainAuthentication(account: "alice", password: String(repeating: "p", count: 293))
        #expect(exact.map { $0.params[0].count } == [400, 1])
        #expect(exact.last?.line == "AUTHENTICATE +")
        let longer = IRCRegistration.plainAuthentication(account: "alice", password: String(repeating: "p", count: 400))
        #expect(longer.map { $0.params[0].count } == [400, 144])
    }

    @Test func registrationWithSASLRefusesServersThatCannotAuthenticate() throws {
        let credentials = (account: "alice", password: "secret")
        var old = IRCRegistration(nick: "parley", sasl: credentials)
        #expect(old.start().map(\.line) == ["CAP LS 302", "NICK parley", "USER parley 0 * :Parley ChatOps"])
        #expect(throws: IRCRegistrationError.saslUnavailable("the server does not support CAP")) {
            try old.receive(IRCMessage("421", ["parley", "CAP", "Unknown command"]))
        }
        var noSASL = IRCRegistration(nick: "parley", sasl: credentials)
        #expect(throws: IRCRegistrationError.saslUnavailable("the server does not offer the sasl capability")) {
            try noSASL.receive(IRCMessage("CAP", ["*", "LS", "server-time"]))
        }
        var external = IRCRegistration(nick: "parley", sasl: credentials)
        #expect(throws: IRCRegistrationError.saslUnavailable("the server offers SASL EXTERNAL, not PLAIN")) {
            try external.receive(IRCMessage("CAP", ["*", "LS", "sasl=EXTERNAL"]))
        }
        var mechanisms = IRCRegistration(nick: "parley", sasl: credentials)
        _ = try mechanisms.receive(IRCMessage("CAP", ["*", "LS", "sasl"]))
        _ = try mechanisms.receive(IRCMessage("CAP", ["*", "ACK", "sasl"]))
        #expect(throws: IRCRegistrationError.saslRefused(code: "908", reason: "EXTERNAL are available SASL mechanisms"))
        {
            try mechanisms.receive(IRCMessage("908", ["parley", "EXTERNAL", "are available SASL mechanisms"]))
        }
        var plain = IRCRegistration(nick: "parley")
        #expect(
            try plain.receive(IRCMessage("CAP", ["*", "LS", "sasl server-time"])).send.map(\.line) == [
                "CAP REQ server-time"
            ])
        #expect(try plain.receive(IRCMessage("CAP", ["*", "NAK", "server-time"])).send.map(\.line) == ["CAP END"])
        #expect(try plain.receive(IRCMessage("433", ["*", "parley", "in use"])).send.map(\.line) == ["NICK parley_"])
        #expect(throws: IRCRegistrationError.nickRefused(nick: "parley_", reason: "Erroneous nickname")) {
            try plain.receive(IRCMessage("432", ["*", "parley_", "Erroneous nickname"]))
        }
        #expect(try plain.receive(IRCMessage("001", ["parley_", "Welcome"])).registered)
        #expect(plain.nick == "parley_")
    }

    @Test func serverTimeIsReadWithAndWithoutFractions() {
        #expect(IRCAdapter.serverTime("2026-11-27T10:00:00.250Z")?.timeIntervalSince1970 == 1_795_773_600.25)
        #expect(IRCAdapter.serverTime("2026-11-27T10:00:00Z")?.timeIntervalSince1970 == 1_795_773_600)
        #expect(IRCAdapter.serverTime("yesterday") == nil)
    }
}
