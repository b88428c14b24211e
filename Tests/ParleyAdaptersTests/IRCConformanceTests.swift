import Foundation
import ParleyConformance
import ParleyCore
import ParleyEngine
import Synchronization
import Testing

@testable import ParleyAdapters

/// The conformance suite's people on a real ngIRCd: alice and mallory are raw IRC clients in one
/// channel with Parley; IRC has no threads, no buttons and never redelivers a message.
final class IRCConformanceDriver: ConformanceDriver {
    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    let platform = "irc"
    let port: Int
    let channel = "#conf\(Int.random(in: 1000...9999))"
    let botNick = "pc\(Int.random(in: 1000...9999))"
    let nicks: [Person: String] = [
        .alice: "ca\(Int.random(in: 1000...9999))", .mallory: "cm\(Int.random(in: 1000...9999))",
    ]
    let messageLimit = IRCLines.lineLimit
    let hasButtons = false
    let hasThreads = false
    private let running = Mutex<(adapter: IRCAdapter, task: Task<Void, any Error>)?>(nil)
    private let people = Mutex<[Person: IRCPerson]>([:])

    init(port: Int) {
        self.port = port
    }

    var adapterYAML: String {
        "  irc: { server: \"127.0.0.1:\(port)\", nick: \(botNick), channels: [\"\(channel)\"] }"
    }

    var aliceIdentity: String { "irc:\(nicks[.alice] ?? "")" }

    func mention(_ text: String) -> String { "\(botNick): \(text)" }

    func start(engine: Engine) async throws {
        let adapter = IRCAdapter(
            settings: IRCSettings(host: "127.0.0.1", port: port, nick: botNick, channels: [channel]))
        let task = Task { try await adapter.run(engine: engine) }
        running.withLock { $0 = (adapter, task) }
        for person in Person.allCases {
            let nick = nicks[person] ?? person.rawValue
            let client = try await IRCPerson(nick: nick, port: port)
            people.withLock { $0[person] = client }
            guard try await client.join(channel, expecting: botNick) else {
                throw StartFailure(description: "\(nick) never saw \(botNick) in \(channel)")
            }
        }
    }

    func say(_ text: String, as person: Person, in venue: Venue, thread: String?) async throws {
        guard let client = people.withLock({ $0[person] }) else { return }
        try await client.send(IRCMessage("PRIVMSG", [venue == .room ? channel : botNick, text]))
    }

    /// Lines of one reply arrive back to back, or 400 ms apart once Parley's flood control holds
    /// them back; lines this close together count as one message.
    static let replyGap = Duration.seconds(1)

    /// What Parley said, one message per reply: IRC has no multi-line messages, so a reply's lines
    /// (arriving within `replyGap` of each other, to the same place) are put back together, and a
    /// reply still arriving is not reported yet — so a suite's mark never falls inside a reply.
    func seen(by person: Person) async -> [ObservedMessage] {
        guard let client = people.withLock({ $0[person] }) else { return [] }
        var messages: [ObservedMessage] = []
        var last: ContinuousClock.Instant?
        for (line, at) in client.connection.log.timedLines {
            guard let message = IRCMessage(line: line), message.command == "PRIVMSG", message.nick == botNick,
                message.params.count == 2
            else { continue }
            let room = message.params[0].caseInsensitiveCompare(channel) == .orderedSame ? "room" : "direct"
            let size = line.utf8.count + 2
            if let previous = last, at - previous < Self.replyGap, var reply = messages.last, reply.room == room {
                reply.text += "\n" + message.params[1]
                reply.size = max(reply.size, size)
                messages[messages.count - 1] = reply
            } else {
                messages.append(ObservedMessage(room: room, text: message.params[1], size: size))
            }
            last = at
        }
        if let last, ContinuousClock.now - last < Self.replyGap { messages.removeLast() }
        return messages
    }

    func lastThread(of person: Person) async -> String? { nil }

    func redeliverLast(of person: Person) async throws -> Bool { false }

    func dropConnection() async throws -> Bool {
        guard let adapter = running.withLock({ $0?.adapter }) else { return false }
        return await adapter.dropConnection()
    }

    func stop() async {
        running.withLock { $0?.task.cancel() }
        for client in people.withLock({ Array($0.values) }) { client.close() }
    }
}

@Suite struct IRCConformanceTests {
    @Test(.requires(.ngircd), .timeLimit(.minutes(5)), .serialized, arguments: ConformanceCheck.allCases)
    func ircPassesTheAdapterConformanceSuite(check: ConformanceCheck) async throws {
        let port = try TestService.ngircd.require(IRCAdapterTests.port)
        try await ConformanceSuite(driver: IRCConformanceDriver(port: port)).run(check)
    }
}
