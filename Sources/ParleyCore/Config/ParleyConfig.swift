/// Everything a user configures, validated: the result of reading `parley.yaml`.
/// One value for the whole file: a field per top-level section.
public struct ParleyConfig: Sendable {
    /// The file it was read from, or nil for the built-in defaults.
    public var sourcePath: String?
    /// Relative paths in the file (working directories, programs) resolve against this folder.
    public var baseDirectory: String
    /// Where the SQLite database lives, absolute (and keys, with either store).
    public var dataDirectory: String
    /// Which database keeps Parley's state: SQLite in the data directory unless `storage:` says otherwise.
    public var storage = StorageSettings.embedded
    /// How messages address Parley.
    public var addressing: Addressing
    /// Known users.
    public var users: [User]
    /// Roles and what they may run.
    public var roles: [RoleGrant]
    /// Commands declared in the file (built-ins are added by the engine).
    public var commands: [CommandDeclaration]
    /// How much of a long output goes into a chat reply.
    public var replyLimits: ReplyLimits
    /// Groups and the roles they bring.
    public var groups: [Group] = []
    /// Declared secrets.
    public var secrets: [SecretDeclaration] = []
    /// How long approval requests and confirmations stay open.
    public var approvals = ApprovalSettings()
    /// Audit log settings.
    public var audit = AuditSettings()
    /// The HTTP server's settings.
    public var server = ServerSettings()
    /// The IRC adapter's settings, when IRC is configured.
    public var irc: IRCSettings?
    /// The Slack adapter's settings, when Slack is configured.
    public var slack: SlackSettings?
    /// The Matrix adapter's settings, when Matrix is configured.
    public var matrix: MatrixSettings?
    /// The Mattermost adapter's settings, when Mattermost is configured.
    public var mattermost: MattermostSettings?
    /// The SMTP server pages are e-mailed through, when configured.
    public var email: EmailSettings?

    /// Alert sources, routes and automations.
    public var alerts = AlertSettings()
    /// Commands that run on a schedule.
    public var schedules: [Schedule] = []
    /// Paging providers and escalation policies (`paging:`).
    public var paging = PagingSettings()
    /// On-call schedules (`oncall:`).
    public var oncall = OnCallSettings()
    /// Severities, roles and rooms of incidents.
    public var incidents = IncidentSettings()

    /// Every credential the adapters use, so that they are masked like declared secrets.
    public var adapterSecrets: [SecretSource] {
        var all: [SecretSource] = []
        if let irc { all += [irc.password, irc.sasl?.password].compactMap { $0 } }
        if let slack { all += [slack.signingSecret, slack.botToken, slack.appToken].compactMap { $0 } }
        if let matrix { all += [matrix.accessToken, matrix.password].compactMap { $0 } }
        if let mattermost { all += [mattermost.botToken] + mattermost.verificationTokens }
        if let password = email?.password { all.append(password) }
        all += [alerts.alertmanagerToken].compactMap { $0 }
        if case .postgres(let location) = storage {
            switch location.url {
            case .literal(let url): all += [url.password].compactMap { $0 }.map(SecretSource.value)
            case .secret(let reference): all.append(.reference(reference))
            }
        }
        all += alerts.sources.flatMap { [$0.token, $0.basicPassword, $0.secret].compactMap { $0 } }
        all += [paging.pagerDuty?.routingKey, paging.opsgenie?.apiKey, paging.webhook?.secret].compactMap { $0 }
        all += paging.pagerDuty?.webhookSecrets ?? []
        return all
    }

    /// Creates a configuration.
    public init(
        sourcePath: String?, baseDirectory: String, dataDirectory: String, addressing: Addressing = Addressing(),
        users: [User], roles: [RoleGrant], commands: [CommandDeclaration], replyLimits: ReplyLimits = ReplyLimits()
    ) {
        self.sourcePath = sourcePath
        self.baseDirectory = baseDirectory
        self.dataDirectory = dataDirectory
        self.addressing = addressing
        self.users = users
        self.roles = roles
        self.commands = commands
        self.replyLimits = replyLimits
    }

    /// The built-in defaults: data in `./.parley`, and whoever runs the local console is an admin.
    public static func defaults(workingDirectory: String) -> ParleyConfig {
        ParleyConfig(
            sourcePath: nil, baseDirectory: workingDirectory, dataDirectory: workingDirectory + "/.parley",
            users: [User(name: "admin", roles: ["admin"], identities: [Identity(platform: "local", id: "*")])],
            roles: [RoleGrant(name: "admin", allow: ["*"])], commands: [])
    }
}

/// How long approval requests and confirmations stay open.
public struct ApprovalSettings: Sendable, Equatable {
    /// Seconds before an approval request expires (15 minutes by default).
    public var expirySeconds = 900
    /// Seconds the requester has to confirm (one minute by default).
    public var confirmSeconds = 60

    /// Creates settings.
    public init(expirySeconds: Int = 900, confirmSeconds: Int = 60) {
        self.expirySeconds = expirySeconds
        self.confirmSeconds = confirmSeconds
    }
}

/// Where and how `parley serve` listens.
public struct ServerSettings: Sendable, Equatable {
    /// Host to bind (loopback by default).
    public var host = "127.0.0.1"
    /// Port to bind.
    public var port = 8080
    /// The address people reach the server at, for printed links.
    public var publicURL: String?
    /// How long a browser session lasts, in seconds.
    public var sessionSeconds = 12 * 3600
    /// Mark session cookies Secure (browsers accept them on https and on loopback).
    public var secureCookies = true
    /// How long a stop waits for running commands before recording them as interrupted.
    public var shutdownGraceSeconds = 30
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Proxies and load balancers whose `X-Forwarded-For` is believed (none by default: the client
    /// is the connection's peer).
    public var trustedProxies: [IPRange] = []

    /// Creates settings.
    public init() {}

    /// The URL to print for people.
    public var displayURL: String { publicURL ?? "http://\(host):\(port)" }
}

/// Audit log settings.
public struct AuditSettings: Sendable, Equatable {
    /// Sign a checkpoint of the chain's head after this many entries.
    public var checkpointEvery = 100
    /// And this many seconds after the oldest entry no checkpoint covers yet.
    public var checkpointIntervalSeconds = 300
    /// Where the Ed25519 signing key is read from; nil for `audit-signing.key` in the data directory.
    public var signingKey: SecretReference?
    /// Where every signed checkpoint is also sent, outside the database.
    public var witnesses: [AuditWitnessTarget] = []

    /// Creates settings.
    public init(
        checkpointEvery: Int = 100, checkpointIntervalSeconds: Int = 300, signingKey: SecretReference? = nil,
        witnesses: [AuditWitnessTarget] = []
    ) {
        self.checkpointEvery = checkpointEvery
        self.checkpointIntervalSeconds = checkpointIntervalSeconds
        self.signingKey = signingKey
        self.witnesses = witnesses
    }

    /// The schedule checkpoints are signed on, and that the verifier holds the unsigned tail to.
    public var schedule: AuditSchedule {
        AuditSchedule(every: Int64(checkpointEvery), intervalSeconds: Int64(checkpointIntervalSeconds))
    }
}

/// A place outside the database that keeps every signed checkpoint.
public enum AuditWitnessTarget: Sendable, Equatable, CustomStringConvertible {
    /// An append-only JSON Lines file (`file:/var/log/parley/witness.jsonl`).
    case file(String)
    /// An HTTP endpoint that receives each checkpoint as a JSON POST.
    case url(String)

    public var description: String {
        switch self {
        case .file(let path): return "file:\(path)"
        case .url(let url): return url
        }
    }
}

/// How much of a command's output a chat reply shows before pointing to `run <id>`.
public struct ReplyLimits: Sendable, Equatable {
    /// Most lines of output in one reply.
    public var maxLines: Int
    /// Most characters of output in one reply.
    public var maxCharacters: Int

    /// Creates limits.
    public init(maxLines: Int = 40, maxCharacters: Int = 3000) {
        self.maxLines = maxLines
        self.maxCharacters = maxCharacters
    }
}

/// One problem in a configuration file, with where it is.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// Line, from 1 (0 when unknown).
    public var line: Int
    /// Column, from 1 (0 when unknown).
    public var column: Int
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates an issue.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form editors and CI understand.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }
}

/// A configuration that cannot be used, with every problem found.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The problems, in file order.
    public var issues: [ConfigIssue]

    /// Creates an error.
    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
