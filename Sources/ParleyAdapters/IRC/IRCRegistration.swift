import Foundation

/// Why a connection could not register with the server.
public enum IRCRegistrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// SASL is configured but the server does not offer it (no CAP, no `sasl` capability, or it refused it).
    case saslUnavailable(String)
    /// The server refused the SASL login, with its numeric reply and text.
    case saslRefused(code: String, reason: String)
    /// The server refuses the nick itself (too long, bad characters), with its text.
    case nickRefused(nick: String, reason: String)

    public var description: String {
        switch self {
        case .saslUnavailable(let why):
            return "SASL is configured but \(why); Parley does not register without the configured account"
        case .saslRefused(let code, let reason):
            return "the server refused the SASL login (\(code) \(reason)); check the sasl account and password"
        case .nickRefused(let nick, let reason):
            return "the server refuses the nick '\(nick)' (\(reason)); configure another nick"
        }
    }
}

/// Registering with a server: IRCv3 capability negotiation (`CAP LS 302`, `REQ`, `END`), SASL PLAIN,
/// and `PASS`/`NICK`/`USER` — a state machine fed one server message at a time, answering with the
/// messages to send. Servers without CAP register as before.
struct IRCRegistration {
    /// What a server message led to.
    struct Step: Equatable {
        /// Messages to send, in order.
        var send: [IRCMessage] = []
        /// Set once the server has welcomed Parley (001).
        var registered = false
    }

    /// The capabilities Parley uses when the server offers them, in the order it asks for them.
    static let usefulCapabilities = ["message-tags", "server-time"]
    /// The most base64 bytes one `AUTHENTICATE` may carry.
    static let authenticateChunk = 400

    private enum Phase {
        case listing, requesting, authenticating, ended
    }

    private(set) var nick: String
    /// The capabilities the server acknowledged.
    private(set) var enabled: Set<String> = []
    private let password: String?
    private let sasl: (account: String, password: String)?
    private var phase = Phase.listing
    private var offered: [String: String] = [:]
    private var authenticated = false

    init(nick: String, password: String? = nil, sasl: (account: String, password: String)? = nil) {
        self.nick = nick
        self.password = password
        self.sasl = sasl
    }

    /// The opening: ask for the server's capabilities, then introduce ourselves; a server with CAP
    /// holds registration until `CAP END`.
    func start() -> [IRCMessage] {
        var messages = [IRCMessage("CAP", ["LS", "302"])]
        if let password { messages.append(IRCMessage("PASS", [password])) }
        messages.append(IRCMessage("NICK", [nick]))
        messages.append(IRCMessage("USER", [nick, "0", "*", "Parley ChatOps"]))
        return messages
    }

    /// Handles one message from the server before registration completes.
    mutating func receive(_ message: IRCMessage) throws -> Step {
        switch message.command {
        case "CAP": return try capability(message)
        case "AUTHENTICATE":
            guard phase == .authenticating, message.params.first == "+", let sasl else { return Step() }
            return Step(send: Self.plainAuthentication(account: sasl.account, password: sasl.password))
        case "903":
            authenticated = true
            return end()
        case "902", "904", "905", "906", "907", "908":
            throw IRCRegistrationError.saslRefused(
                code: message.command, reason: message.params.dropFirst().joined(separator: " "))
        case "421" where message.params.count > 1 && message.params[1].uppercased() == "CAP":
            // A server from before IRCv3: registration goes on without capabilities.
            if sasl != nil { throw IRCRegistrationError.saslUnavailable("the server does not support CAP") }
            phase = .ended
            return Step()
        case "432":
            throw IRCRegistrationError.nickRefused(nick: nick, reason: message.params.last ?? "erroneous nickname")
        case "433":
            nick += "_"
            return Step(send: [IRCMessage("NICK", [nick])])
        case "001":
            if sasl != nil && !authenticated {
                throw IRCRegistrationError.saslUnavailable("the server registered Parley without offering SASL")
            }
            if let welcomed = message.params.first, !welcomed.isEmpty, welcomed != "*" { nick = welcomed }
            phase = .ended
            return Step(registered: true)
        default: return Step()
        }
    }

    private mutating func capability(_ message: IRCMessage) throws -> Step {
        guard message.params.count >= 3 else { return Step() }
        let subcommand = message.params[1].uppercased()
        let list = message.params.last ?? ""
        switch subcommand {
        case "LS" where phase == .listing:
            for token in list.split(separator: " ") {
                let pair = token.split(separator: "=", maxSplits: 1)
                offered[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
            // `CAP * LS * :…` says more lines follow.
            if message.params.count >= 4 && message.params[2] == "*" { return Step() }
            return try request()
        case "ACK" where phase == .requesting:
            for token in list.split(separator: " ") {
                if token.hasPrefix("-") {
                    enabled.remove(String(token.dropFirst()))
                } else {
                    enabled.insert(String(token))
                }
            }
            if sasl != nil && enabled.contains("sasl") {
                phase = .authenticating
                return Step(send: [IRCMessage("AUTHENTICATE", ["PLAIN"])])
            }
            return end()
        case "NAK" where phase == .requesting:
            if sasl != nil { throw IRCRegistrationError.saslUnavailable("the server refused the sasl capability") }
            return end()
        case "DEL":
            for token in list.split(separator: " ") { enabled.remove(String(token)) }
            return Step()
        default: return Step()
        }
    }

    private mutating func request() throws -> Step {
        var wanted = Self.usefulCapabilities.filter { offered[$0] != nil }
        if sasl != nil {
            guard let mechanisms = offered["sasl"] else {
                throw IRCRegistrationError.saslUnavailable("the server does not offer the sasl capability")
            }
            // CAP 302 lists mechanisms (`sasl=PLAIN,EXTERNAL`); an empty value means "ask".
            if !mechanisms.isEmpty && !mechanisms.split(separator: ",").contains("PLAIN") {
                throw IRCRegistrationError.saslUnavailable("the server offers SASL \(mechanisms), not PLAIN")
            }
            wanted.append("sasl")
        }
        guard !wanted.isEmpty else { return end() }
        phase = .requesting
        return Step(send: [IRCMessage("CAP", ["REQ", wanted.joined(separator: " ")])])
    }

    private mutating func end() -> Step {
        phase = .ended
        return Step(send: [IRCMessage("CAP", ["END"])])
    }

    /// `AUTHENTICATE` lines carrying base64("\0account\0password") in 400-byte chunks; a payload that
    /// is an exact multiple of 400 (or empty) ends with `AUTHENTICATE +`.
    static func plainAuthentication(account: String, password: String) -> [IRCMessage] {
        let payload = Data("\0\(account)\0\(password)".utf8).base64EncodedString()
        var chunks: [String] = []
        var rest = Substring(payload)
        while !rest.isEmpty {
            chunks.append(String(rest.prefix(authenticateChunk)))
            rest = rest.dropFirst(authenticateChunk)
        }
        if payload.utf8.count % authenticateChunk == 0 { chunks.append("+") }
        return chunks.map { IRCMessage("AUTHENTICATE", [$0]) }
    }
}
