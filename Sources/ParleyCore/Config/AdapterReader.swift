import Foundation
import Yams

/// Reads `adapters:`: one section per chat platform, each checked for what it cannot run without.
struct AdapterReader {
    let reader: YAMLReader
    let baseDirectory: String

    static let platforms = ["web", "irc", "slack", "matrix", "mattermost", "email"]

    func read(_ node: Node, into config: inout ParleyConfig) {
        for entry in reader.mapping(node, "adapters", allowed: Self.platforms) {
            switch entry.key {
            case "irc":
                guard let settings = readIRC(entry.value) else { continue }
                config.irc = settings
                if !config.addressing.names.contains(settings.nick) { config.addressing.names.append(settings.nick) }
            case "slack": config.slack = readSlack(entry.value)
            case "matrix": config.matrix = readMatrix(entry.value)
            case "mattermost": config.mattermost = readMattermost(entry.value)
            case "email": config.email = readEmail(entry.value)
            default: _ = reader.mapping(entry.value, "web", allowed: [])
            }
        }
    }

    /// A credential: `env:NAME` or `file:PATH` (checked now, so nothing starts without it), or the value
    /// itself (usually `${VAR}`).
    func secret(_ node: Node, _ what: String) -> SecretSource? {
        guard let text = reader.string(node, what) else { return nil }
        guard text.hasPrefix("env:") || text.hasPrefix("file:") else {
            guard !text.isEmpty else {
                reader.report(node, "\(what) is empty")
                return nil
            }
            return .value(text)
        }
        guard let reference = SecretReference(text, baseDirectory: baseDirectory) else {
            reader.report(node, "\(what) must be env:NAME, file:PATH or the value itself")
            return nil
        }
        if case .failure(let problem) = reference.resolve(environment: reader.environment) {
            reader.report(node, "\(what): \(problem.message)")
        }
        return .reference(reference)
    }

    /// An http(s) URL without a trailing slash.
    func url(_ node: Node, _ what: String, example: String) -> String? {
        guard var text = reader.string(node, what) else { return nil }
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            reader.report(node, "\(what) '\(text)' must be an http(s) URL, as in \(example)")
            return nil
        }
        return text
    }

    private func readIRC(_ node: Node) -> IRCSettings? {
        var server: (String, Int)?
        var settings = IRCSettings(host: "", port: 0)
        let keys = [
            "server", "nick", "channels", "password", "tls", "tls_verify", "tls_ca_file", "sasl", "flood_control",
        ]
        for field in reader.mapping(node, "irc", allowed: keys) {
            switch field.key {
            case "server":
                guard let text = reader.string(field.value, "server") else { continue }
                let parts = text.split(separator: ":")
                guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                    reader.report(field.value, "server '\(text)' must be HOST:PORT, as in irc.example.net:6697")
                    continue
                }
                server = (String(parts[0]), port)
            case "nick":
                guard let nick = reader.string(field.value, "nick") else { continue }
                if nick.isEmpty || nick.contains(where: { $0 == " " || $0 == "," || $0 == ":" || $0 == "!" }) {
                    reader.report(field.value, "nick '\(nick)' is not a valid IRC nickname")
                }
                settings.nick = nick
            case "channels":
                settings.channels = reader.strings(field.value, "channels").map { channel, channelNode in
                    if !(channel.hasPrefix("#") || channel.hasPrefix("&")) {
                        reader.report(channelNode, "IRC channel '\(channel)' must start with # or &")
                    }
                    return channel
                }
            case "password": settings.password = secret(field.value, "irc password")
            case "flood_control": settings.flood = readFlood(field.value) ?? .standard
            case "tls": settings.tls = reader.bool(field.value, "tls") ?? false
            case "tls_verify": settings.tlsVerify = reader.bool(field.value, "tls_verify") ?? true
            case "tls_ca_file":
                guard let path = reader.string(field.value, "tls_ca_file") else { continue }
                let absolute = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
                if !FileManager.default.isReadableFile(atPath: absolute) {
                    reader.report(field.value, "tls_ca_file: cannot read \(absolute)")
                }
                settings.tlsCAFile = absolute
            default:
                var account: String?
                var password: SecretSource?
                for item in reader.mapping(field.value, "sasl", allowed: ["account", "password"]) {
                    if item.key == "account" {
                        account = reader.string(item.value, "sasl account")
                    } else {
                        password = secret(item.value, "sasl password")
                    }
                }
                guard let account, let password else {
                    reader.report(field.value, "sasl needs both account and password")
                    continue
                }
                settings.sasl = SASLCredentials(account: account, password: password)
            }
        }
        guard let server else {
            reader.report(node, "the irc adapter needs server: HOST:PORT")
            return nil
        }
        settings.host = server.0
        settings.port = server.1
        return settings
    }

    /// `off`, or `{ burst: 5, lines_per_second: 2.5 }`.
    private func readFlood(_ node: Node) -> IRCFloodControl? {
        if case .scalar(let scalar) = node {
            guard scalar.string == "off" else {
                reader.report(node, "flood_control must be off or { burst: 5, lines_per_second: 2.5 }")
                return nil
            }
            return .off
        }
        var burst = 5
        var rate = 2.5
        for entry in reader.mapping(node, "flood_control", allowed: ["burst", "lines_per_second"]) {
            guard let text = reader.string(entry.value, entry.key) else { continue }
            if entry.key == "burst" {
                guard let value = Int(text), value >= 1 else {
                    reader.report(entry.value, "burst must be a whole number of lines, at least 1")
                    continue
                }
                burst = value
            } else {
                guard let value = Double(text), value > 0 else {
                    reader.report(entry.value, "lines_per_second must be a positive number, as in 2.5")
                    continue
                }
                rate = value
            }
        }
        return .limit(burst: burst, linesPerSecond: rate)
    }

    private func readSlack(_ node: Node) -> SlackSettings? {
        var signing: SecretSource?
        var bot: SecretSource?
        var app: SecretSource?
        var socketMode = false
        var apiURL = "https://slack.com/api"
        var slash = "/parley"
        let keys = ["signing_secret", "bot_token", "app_token", "socket_mode", "api_url", "slash_command"]
        for field in reader.mapping(node, "slack", allowed: keys) {
            switch field.key {
            case "signing_secret": signing = secret(field.value, "slack signing_secret")
            case "bot_token": bot = secret(field.value, "slack bot_token")
            case "app_token": app = secret(field.value, "slack app_token")
            case "socket_mode": socketMode = reader.bool(field.value, "socket_mode") ?? false
            case "api_url":
                apiURL = url(field.value, "api_url", example: "https://slack.com/api") ?? apiURL
            default:
                guard let text = reader.string(field.value, "slash_command") else { continue }
                guard text.hasPrefix("/"), text.count > 1, !text.contains(" ") else {
                    reader.report(field.value, "slash_command '\(text)' must be one word starting with /")
                    continue
                }
                slash = text
            }
        }
        guard let bot else {
            reader.report(node, "the slack adapter needs bot_token (the xoxb-… token from OAuth & Permissions)")
            return nil
        }
        if socketMode, app == nil {
            reader.report(node, "socket_mode needs app_token (an xapp-… token with connections:write)")
        }
        if !socketMode, signing == nil {
            reader.report(
                node, "the slack adapter needs signing_secret (Basic Information → App Credentials) unless socket_mode")
        }
        return SlackSettings(
            signingSecret: signing, botToken: bot, appToken: app, socketMode: socketMode, apiURL: apiURL,
            slashCommand: slash)
    }

    private func readMatrix(_ node: Node) -> MatrixSettings? {
        var homeserver: String?
        var userID: String?
        var token: SecretSource?
        var password: SecretSource?
        var rooms: [String] = []
        var invites = MatrixInvitePolicy.known
        let keys = ["homeserver", "user_id", "access_token", "password", "rooms", "invites"]
        for field in reader.mapping(node, "matrix", allowed: keys) {
            switch field.key {
            case "homeserver":
                homeserver = url(field.value, "homeserver", example: "https://matrix.example.org")
            case "user_id":
                guard let text = reader.string(field.value, "user_id") else { continue }
                guard text.hasPrefix("@"), text.dropFirst().contains(":") else {
                    reader.report(field.value, "user_id '\(text)' must look like @parley:example.org")
                    continue
                }
                userID = text
            case "access_token": token = secret(field.value, "matrix access_token")
            case "password": password = secret(field.value, "matrix password")
            case "rooms":
                rooms = reader.strings(field.value, "rooms").map { room, roomNode in
                    if let problem = Self.matrixRoomProblem(room) { reader.report(roomNode, problem) }
                    return room
                }
            default:
                guard let text = reader.string(field.value, "invites") else { continue }
                guard let policy = MatrixInvitePolicy(rawValue: text) else {
                    let known = MatrixInvitePolicy.allCases.map(\.rawValue).joined(separator: ", ")
                    reader.report(field.value, "invites '\(text)' must be one of \(known)")
                    continue
                }
                invites = policy
            }
        }
        guard let homeserver, let userID else {
            reader.report(node, "the matrix adapter needs homeserver and user_id")
            return nil
        }
        if token == nil, password == nil {
            reader.report(node, "the matrix adapter needs access_token or password")
        }
        return MatrixSettings(
            homeserver: homeserver, userID: userID, accessToken: token, password: password, rooms: rooms,
            invites: invites)
    }

    private func readEmail(_ node: Node) -> EmailSettings? {
        var server: (String, Int)?
        var from: String?
        var username: String?
        var password: SecretSource?
        for field in reader.mapping(node, "email", allowed: ["smtp", "from", "username", "password"]) {
            switch field.key {
            case "smtp":
                guard let text = reader.string(field.value, "smtp") else { continue }
                let parts = text.split(separator: ":")
                guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                    reader.report(field.value, "smtp '\(text)' must be HOST:PORT, as in smtp.example.org:25")
                    continue
                }
                server = (String(parts[0]), port)
            case "from":
                guard let text = reader.string(field.value, "from") else { continue }
                guard EmailSettings.isAddress(text) else {
                    reader.report(field.value, "from '\(text)' is not an e-mail address, as parley@example.org")
                    continue
                }
                from = text
            case "username": username = reader.string(field.value, "username")
            default: password = secret(field.value, "email password")
            }
        }
        guard let server, let from else {
            reader.report(node, "the email adapter needs smtp (HOST:PORT) and from")
            return nil
        }
        if (username == nil) != (password == nil) {
            reader.report(node, "the email adapter needs both username and password, or neither")
        }
        return EmailSettings(host: server.0, port: server.1, from: from, username: username, password: password)
    }

    private func readMattermost(_ node: Node) -> MattermostSettings? {
        var base: String?
        var bot: SecretSource?
        var tokens: [SecretSource] = []
        for field in reader.mapping(node, "mattermost", allowed: ["url", "bot_token", "verification_tokens"]) {
            switch field.key {
            case "url": base = url(field.value, "url", example: "https://chat.example.org")
            case "bot_token": bot = secret(field.value, "mattermost bot_token")
            default:
                let list: [Node]
                if case .sequence(let sequence) = field.value { list = Array(sequence) } else { list = [field.value] }
                tokens = list.compactMap { secret($0, "mattermost verification token") }
            }
        }
        guard let base, let bot else {
            reader.report(node, "the mattermost adapter needs url and bot_token")
            return nil
        }
        if tokens.isEmpty {
            reader.report(
                node,
                "the mattermost adapter needs verification_tokens: the slash command's and outgoing webhook's tokens")
        }
        return MattermostSettings(url: base, botToken: bot, verificationTokens: tokens)
    }

    /// Why `room` is not a Matrix room id or alias, or nil when it is one. Room ids of room versions
    /// 1–11 are `!opaque:server`; from version 12 (Synapse's default) they are `!` and an unpadded
    /// base64url hash with no server part. Aliases are `#name:server`.
    static func matrixRoomProblem(_ room: String) -> String? {
        let example =
            "an id (!abc:server, or !PxwngvC-vmPgVFB-0bHX4D1leTVkv5-nYWeKiFOohzo from room version 12) or an alias (#ops:server)"
        guard !room.contains(where: { $0.isWhitespace }), room.utf8.count <= 255 else {
            return "Matrix room '\(room)' must be \(example)"
        }
        if room.hasPrefix("#") {
            let parts = room.dropFirst().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
                ? nil : "Matrix room '\(room)' must be \(example)"
        }
        guard room.hasPrefix("!"), room.count > 1 else { return "Matrix room '\(room)' must be \(example)" }
        let body = room.dropFirst()
        if let colon = body.firstIndex(of: ":") {
            return body[..<colon].isEmpty || body[body.index(after: colon)...].isEmpty
                ? "Matrix room '\(room)' must be \(example)" : nil
        }
        let base64url = body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return base64url && body.count >= 16 ? nil : "Matrix room '\(room)' must be \(example)"
    }
}
