import Foundation

/// Where alerts come from, where they go, and what runs when they fire.
public struct AlertSettings: Sendable, Equatable {
    /// Alertmanager's base URL, for `silence`, `silences` and `unsilence`.
    public var alertmanagerURL: String?
    /// Credentials for Alertmanager's API, when it wants them (`Authorization: Bearer`).
    public var alertmanagerToken: SecretSource?
    /// The authenticated webhook sources, by kind.
    public var sources: [AlertSource] = []
    /// Routing rules, in order.
    public var routes: [AlertRoute] = []
    /// Rooms for alerts no route matches.
    public var defaultRooms: [String] = []
    /// Notifications of one alert within this many seconds update one message.
    public var groupWindowSeconds = 300
    /// New alert messages per room per minute before the rest are folded into a summary.
    public var roomMessagesPerMinute = 20
    /// Commands and runbooks that run when alerts fire.
    public var automations: [AlertAutomation] = []
    /// The mustache template for a message when a route gives none.
    public static let defaultTemplate =
        "{{#firing}}🔥{{/firing}}{{^firing}}✅{{/firing}} [{{status}}] {{labels.alertname}}{{#labels.severity}} ({{labels.severity}}){{/labels.severity}}{{#labels.instance}} on {{labels.instance}}{{/labels.instance}}{{#annotations.summary}}: {{annotations.summary}}{{/annotations.summary}}"

    /// Creates settings.
    public init() {}

    /// The source of a kind, with its credentials.
    public func source(_ kind: AlertSource.Kind, name: String? = nil) -> AlertSource? {
        sources.first { $0.kind == kind && (name == nil || $0.name == name) }
    }
}

/// A webhook source and how its requests are authenticated.
public struct AlertSource: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case alertmanager, grafana, github, generic
    }

    public var kind: Kind
    /// The source's name: the kind, or a generic source's own name.
    public var name: String
    /// A bearer token the request must carry.
    public var token: SecretSource?
    /// Basic authentication the request may carry instead.
    public var basicUser: String?
    public var basicPassword: SecretSource?
    /// An HMAC-SHA256 key (GitHub's `X-Hub-Signature-256`, or `X-Parley-Signature` for generic sources).
    public var secret: SecretSource?
    /// How a generic source's JSON becomes an alert.
    public var mapping: GenericAlertMapping?

    /// Creates a source.
    public init(
        kind: Kind, name: String, token: SecretSource? = nil, basicUser: String? = nil,
        basicPassword: SecretSource? = nil, secret: SecretSource? = nil, mapping: GenericAlertMapping? = nil
    ) {
        self.kind = kind
        self.name = name
        self.token = token
        self.basicUser = basicUser
        self.basicPassword = basicPassword
        self.secret = secret
        self.mapping = mapping
    }

    /// The webhook's path.
    public var path: String { kind == .generic ? "/hooks/generic/\(name)" : "/hooks/\(kind.rawValue)" }
}

/// Where alerts that match go, and how they read.
public struct AlertRoute: Sendable, Equatable {
    /// Every matcher must hold (labels; `source` is a label too).
    public var matchers: [LabelMatcher]
    /// Rooms as `platform:room`, as in `slack:C024BE91L` or `irc:#ops`.
    public var rooms: [String]
    /// The message; the default shows status, name, severity, instance and summary.
    public var template: TextTemplate?
    /// Keep looking for more routes after this one matched.
    public var continues: Bool
    /// The escalation policy a firing alert of this route pages through.
    public var page: String?

    /// Creates a route.
    public init(matchers: [LabelMatcher], rooms: [String], template: TextTemplate? = nil, continues: Bool = false) {
        self.matchers = matchers
        self.rooms = rooms
        self.template = template
        self.continues = continues
    }
}

/// A command that runs when an alert fires.
public struct AlertAutomation: Sendable, Equatable {
    public var matchers: [LabelMatcher]
    /// The command, a template over the alert: `cleanup-logs {{labels.instance}}`.
    public var command: TextTemplate
    /// Who it runs as: an identity mapped to a user, as in `service:alertbot`.
    public var identity: Identity
    /// Where the result is posted (`platform:room`).
    public var room: String?
    /// The least time between two runs for one alert.
    public var cooldownSeconds: Int

    /// Creates an automation.
    public init(
        matchers: [LabelMatcher], command: TextTemplate, identity: Identity, room: String?, cooldownSeconds: Int
    ) {
        self.matchers = matchers
        self.command = command
        self.identity = identity
        self.room = room
        self.cooldownSeconds = cooldownSeconds
    }
}

/// A command that runs on a schedule.
public struct Schedule: Sendable, Equatable {
    /// What happens to runs missed while Parley was down.
    public enum Missed: String, Sendable, Equatable, CaseIterable {
        /// Forget them.
        case skip
        /// Run once at start, however many were missed.
        case runOnce = "run_once"
    }

    public var name: String
    public var cron: CronExpression
    public var timeZone: TimeZone
    /// The command as typed.
    public var command: String
    public var identity: Identity
    /// Where the result is posted (`platform:room`).
    public var room: String?
    public var missed: Missed

    /// Creates a schedule.
    public init(
        name: String, cron: CronExpression, timeZone: TimeZone, command: String, identity: Identity, room: String?,
        missed: Missed
    ) {
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.command = command
        self.identity = identity
        self.room = room
        self.missed = missed
    }
}
