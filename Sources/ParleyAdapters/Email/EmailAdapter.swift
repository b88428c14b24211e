import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ParleyCore
import ParleyEngine

/// E-mail out, through an SMTP server: the platform of people's `email:ADDRESS` identities, so a
/// page reaches them there as it reaches them on chat. It receives nothing; every replica sends.
public struct EmailAdapter: ChatAdapter {
    public let platform = "email"
    let settings: EmailSettings
    let environment: [String: String]
    let logger: Logger

    public var needsLeader: Bool { false }

    /// Creates an adapter.
    public init(
        settings: EmailSettings, environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "parley.email")
    ) {
        self.settings = settings
        self.environment = environment
        self.logger = logger
    }

    public func run(engine: any MessageHandler) async throws {
        // Nothing to receive: wait until stopped.
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }

    public func post(_ reply: Reply, room: String, thread: String?) async throws {
        _ = try await send(reply, room: room, thread: thread)
    }

    /// Sends the reply as a plain-text message to `room`, an address.
    public func send(_ reply: Reply, room: String, thread: String?) async throws -> String? {
        guard EmailSettings.isAddress(room) else { throw SMTPError("'\(room)' is not an e-mail address") }
        let password = try settings.password.map { try $0.resolve(environment: environment).get() }
        let id = "<\(UUID().uuidString.lowercased())@parley>"
        let message = SMTPMessage.compose(
            from: settings.from, to: room, subject: SMTPMessage.subject(of: reply.plainText), body: reply.plainText,
            messageID: id, date: Date())
        let client = SMTPClient(host: settings.host, port: settings.port, logger: logger)
        let (from, login) = (settings.from, settings.username.map { ($0, password ?? "") })
        // A server that stops answering must not hold up the page that writes to it.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.send(message, from: from, to: room, login: login) }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                throw SMTPError("the SMTP server \(client.host):\(client.port) did not finish within 30 s")
            }
            try await group.next()
            group.cancelAll()
        }
        return id
    }

    public func directRoom(for user: String) async throws -> String? {
        EmailSettings.isAddress(user) ? user : nil
    }
}

/// Why a message could not be handed to the SMTP server.
struct SMTPError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// An RFC 5322 message: headers safe from injection (no CR or LF from outside reaches one, a
/// subject that is not ASCII is RFC 2047 encoded), the body base64 so any text survives any relay.
enum SMTPMessage {
    /// The first line of the text, at most 120 characters, as `Parley: …`.
    static func subject(of text: String) -> String {
        let first = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "message"
        return "Parley: " + String(first.prefix(120))
    }

    static func header(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard flat.allSatisfy({ $0.isASCII }) else { return "=?UTF-8?B?\(Data(flat.utf8).base64EncodedString())?=" }
        return flat
    }

    static func compose(from: String, to: String, subject: String, body: String, messageID: String, date: Date)
        -> String
    {
        var style = Date.FormatStyle(timeZone: TimeZone(identifier: "UTC") ?? .current)
        style = style.weekday(.abbreviated).day(.twoDigits).month(.abbreviated).year(.defaultDigits)
            .hour(.twoDigits(amPM: .omitted)).minute(.twoDigits).second(.twoDigits)
        let stamp =
            date.formatted(style.locale(Locale(identifier: "en_US_POSIX")))
            .replacingOccurrences(of: ",", with: "") + " +0000"
        let encoded = Data(body.utf8).base64EncodedString(options: [
            .lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed,
        ])
        return [
            "From: \(from)", "To: \(to)", "Subject: \(header(subject))", "Date: \(stamp)", "Message-ID: \(messageID)",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64",
            "Auto-Submitted: auto-generated", "", encoded,
        ].joined(separator: "\r\n")
    }
}

/// One SMTP transaction (RFC 5321): greeting, EHLO, AUTH PLAIN when given, MAIL, RCPT, DATA, QUIT;
/// each answer checked, a refusal thrown with the server's words.
struct SMTPClient {
    let host: String
    let port: Int
    let logger: Logger

    func send(_ message: String, from: String, to: String, login: (String, String)?) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func answer(_ expected: Int, after what: String) async throws {
                while true {
                    guard let line = try await lines.next() else {
                        throw SMTPError("the SMTP server closed the connection after \(what)")
                    }
                    let text = String(buffer: line).trimmingCharacters(in: .whitespacesAndNewlines)
                    let code = Int(text.prefix(3)) ?? 0
                    // `250-…` continues; `250 …` ends the answer.
                    if text.count > 3, text[text.index(text.startIndex, offsetBy: 3)] == "-" { continue }
                    guard code == expected || (expected == 250 && code == 251) else {
                        throw SMTPError("the SMTP server answered \(what) with: \(text.prefix(200))")
                    }
                    return
                }
            }
            func say(_ line: String) async throws { try await outbound.write(ByteBuffer(string: line + "\r\n")) }
            try await answer(220, after: "connecting")
            try await say("EHLO parley")
            try await answer(250, after: "EHLO")
            if let (user, password) = login {
                try await say("AUTH PLAIN " + Data("\0\(user)\0\(password)".utf8).base64EncodedString())
                try await answer(235, after: "AUTH")
            }
            try await say("MAIL FROM:<\(from)>")
            try await answer(250, after: "MAIL FROM")
            try await say("RCPT TO:<\(to)>")
            try await answer(250, after: "RCPT TO")
            try await say("DATA")
            try await answer(354, after: "DATA")
            // Dot-stuffing: a line starting with "." gets another (RFC 5321 4.5.2).
            let stuffed = message.components(separatedBy: "\r\n").map { $0.hasPrefix(".") ? "." + $0 : $0 }
            try await outbound.write(ByteBuffer(string: stuffed.joined(separator: "\r\n") + "\r\n.\r\n"))
            try await answer(250, after: "the message")
            try await say("QUIT")
            _ = try? await answer(221, after: "QUIT")
        }
    }
}
