/// A credential in the configuration: a reference (`env:NAME`, `file:PATH`) read at start, or a value
/// written in place (usually through `${VAR}` interpolation). Either way it is masked in all output.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    /// The value itself.
    case value(String)
    /// Where to read the value.
    case reference(SecretReference)

    /// Reads the value, or says why it cannot.
    public func resolve(environment: [String: String]) -> Result<String, SecretError> {
        switch self {
        case .value(let value): return .success(value)
        case .reference(let reference): return reference.resolve(environment: environment)
        }
    }

    /// Never the value: `env:NAME`, `file:PATH` or `••••`.
    public var description: String {
        switch self {
        case .value: return SecretMasker.mask
        case .reference(let reference): return reference.description
        }
    }
}

/// Where the IRC adapter connects, how it authenticates and what it joins.
/// A value with a field per key of `adapters.irc`.
public struct IRCSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var nick: String
    public var channels: [String]
    /// The server password (PASS), if the server wants one.
    public var password: SecretSource?
    /// Connect over TLS.
    public var tls: Bool
    /// Check the server's certificate (on by default; turn off only for a test server).
    public var tlsVerify: Bool
    /// A PEM file of certificate authorities to trust instead of the system's.
    public var tlsCAFile: String?
    /// SASL PLAIN credentials, negotiated through IRCv3 CAP before registration completes.
    public var sasl: SASLCredentials?
    /// How fast Parley may send lines (servers disconnect clients that flood them).
    public var flood: IRCFloodControl = .standard

    /// Creates settings.
    public init(
        host: String, port: Int, nick: String = "parley", channels: [String] = [], password: SecretSource? = nil,
        tls: Bool = false, tlsVerify: Bool = true, tlsCAFile: String? = nil, sasl: SASLCredentials? = nil
    ) {
        self.host = host
        self.port = port
        self.nick = nick
        self.channels = channels
        self.password = password
        self.tls = tls
        self.tlsVerify = tlsVerify
        self.tlsCAFile = tlsCAFile
        self.sasl = sasl
    }
}

/// Outbound flood control for IRC.
public enum IRCFloodControl: Sendable, Equatable {
    /// No limit: for a server of your own with its penalties turned off.
    case off
    /// A burst of lines, then a steady rate.
    case limit(burst: Int, linesPerSecond: Double)

    /// What most networks tolerate: 5 lines at once, then 2.5 a second.
    public static let standard = IRCFloodControl.limit(burst: 5, linesPerSecond: 2.5)
}

/// An account name and password for SASL PLAIN.
public struct SASLCredentials: Sendable, Equatable {
    public var account: String
    public var password: SecretSource

    /// Creates credentials.
    public init(account: String, password: SecretSource) {
        self.account = account
        self.password = password
    }
}

/// How Parley talks to a Slack workspace.
public struct SlackSettings: Sendable, Equatable {
    /// Verifies every request Slack sends (Events API, slash commands, interactivity).
    public var signingSecret: SecretSource?
    /// The bot token (`xoxb-…`) for the Web API.
    public var botToken: SecretSource
    /// The app-level token (`xapp-…`) for Socket Mode.
    public var appToken: SecretSource?
    /// Receive events over Socket Mode (a websocket Parley opens) instead of HTTP requests.
    public var socketMode: Bool
    /// The Web API's base URL (tests point it at a local server).
    public var apiURL: String
    /// The slash command people type (`/parley`).
    public var slashCommand: String

    /// Creates settings.
    public init(
        signingSecret: SecretSource?, botToken: SecretSource, appToken: SecretSource? = nil, socketMode: Bool = false,
        apiURL: String = "https://slack.com/api", slashCommand: String = "/parley"
    ) {
        self.signingSecret = signingSecret
        self.botToken = botToken
        self.appToken = appToken
        self.socketMode = socketMode
        self.apiURL = apiURL
        self.slashCommand = slashCommand
    }
}

/// Who may invite Parley into a Matrix room.
public enum MatrixInvitePolicy: String, Sendable, Equatable, CaseIterable {
    /// Only people mapped to a Parley user (a `matrix:` identity).
    case known
    /// Anyone on the homeserver or federation.
    case anyone
    /// Nobody: Parley joins only the rooms listed in the configuration.
    case none
}

/// How Parley logs in to a Matrix homeserver and where it listens.
public struct MatrixSettings: Sendable, Equatable {
    /// The homeserver's client-server API base, as in https://matrix.example.org.
    public var homeserver: String
    /// Parley's own user id, as in @parley:example.org.
    public var userID: String
    /// An access token; or leave it out and give a password.
    public var accessToken: SecretSource?
    /// A password to log in with when there is no access token.
    public var password: SecretSource?
    /// Rooms (ids or aliases) to join at start.
    public var rooms: [String]
    /// Whose invitations Parley accepts.
    public var invites: MatrixInvitePolicy

    /// Creates settings.
    public init(
        homeserver: String, userID: String, accessToken: SecretSource? = nil, password: SecretSource? = nil,
        rooms: [String] = [], invites: MatrixInvitePolicy = .known
    ) {
        self.homeserver = homeserver
        self.userID = userID
        self.accessToken = accessToken
        self.password = password
        self.rooms = rooms
        self.invites = invites
    }
}

/// How Parley talks to a Mattermost server.
public struct MattermostSettings: Sendable, Equatable {
    /// The server's base URL, as in https://chat.example.org.
    public var url: String
    /// A bot account's access token for REST v4.
    public var botToken: SecretSource
    /// Tokens Mattermost sends with slash commands and outgoing webhooks; a request must carry one.
    public var verificationTokens: [SecretSource]

    /// Creates settings.
    public init(url: String, botToken: SecretSource, verificationTokens: [SecretSource]) {
        self.url = url
        self.botToken = botToken
        self.verificationTokens = verificationTokens
    }
}

/// Where e-mail goes out: an SMTP server (`adapters: email:`), for pages to people's `email:`
/// identities.
public struct EmailSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The sender address.
    public var from: String
    /// Credentials for SMTP AUTH PLAIN, when the server wants them.
    public var username: String?
    public var password: SecretSource?

    /// Creates settings.
    public init(host: String, port: Int, from: String, username: String? = nil, password: SecretSource? = nil) {
        self.host = host
        self.port = port
        self.from = from
        self.username = username
        self.password = password
    }

    /// True for a plain `local@domain` address with nothing that could break out of a header.
    public static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), text.count <= 254 else { return false }
        return text.allSatisfy {
            $0.isASCII && !$0.isWhitespace && !"<>()[],;:\\\"".contains($0) && $0.asciiValue ?? 0 >= 33
        }
    }
}
