/// How incidents are run: their severities and update cadence, their roles and what each may do,
/// who hears of them, and whether each gets a room of its own.
public struct IncidentSettings: Sendable, Equatable {
    /// Severities from the most severe down (`sev1` first).
    public var severities: [IncidentSeverity]
    /// The roles people hold in an incident; `commander` is always one.
    public var roles: [IncidentRole]
    /// Rooms (`platform:room`) told of every declaration, status update and resolution.
    public var stakeholderRooms: [String] = []
    /// Make a dedicated room for each incident where the platform allows it (Slack, Matrix, Mattermost).
    public var createRooms = true
    /// The dedicated room's name starts with this (`inc-42-checkout-errors`).
    public var roomPrefix = "inc"
    /// Rules `incident declare` must pass, as a command's `rules:` (`when: severity == "sev1"` …).
    public var declareRules: [CommandRule] = []

    /// The defaults: four severities (sev1 updates every 30 minutes, sev2 every hour), and the
    /// commander, comms and scribe roles.
    public init() {
        severities = [
            IncidentSeverity(name: "sev1", updateEverySeconds: 1800, description: "critical: customers cannot work"),
            IncidentSeverity(name: "sev2", updateEverySeconds: 3600, description: "major: a feature is down"),
            IncidentSeverity(name: "sev3", updateEverySeconds: nil, description: "minor: degraded"),
            IncidentSeverity(name: "sev4", updateEverySeconds: nil, description: "low: no customer impact"),
        ]
        roles = Self.defaultRoles
    }

    /// What the default roles may do inside their incident.
    public static let defaultRoles = [
        IncidentRole(name: "commander", allow: ["incident.*"]),
        IncidentRole(name: "comms", allow: ["incident.update", "incident.note", "incident.status"]),
        IncidentRole(name: "scribe", allow: ["incident.note", "incident.task"]),
    ]

    /// The severity named `name` (case-insensitive).
    public func severity(_ name: String) -> IncidentSeverity? {
        severities.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The role named `name` (case-insensitive).
    public func role(_ name: String) -> IncidentRole? {
        roles.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// One severity and how often its stakeholders expect an update.
public struct IncidentSeverity: Sendable, Equatable {
    public var name: String
    /// An update is due this long after the last one; nil: no cadence.
    public var updateEverySeconds: Int?
    public var description: String
    /// The escalation policy declaring an incident of this severity pages through.
    public var page: String?

    /// Creates a severity.
    public init(name: String, updateEverySeconds: Int?, description: String = "") {
        self.name = name
        self.updateEverySeconds = updateEverySeconds
        self.description = description
    }
}

/// A role in an incident and the incident commands its holder may run for that incident, whatever
/// their own roles (patterns as in `roles:`, such as `incident.*`).
public struct IncidentRole: Sendable, Equatable {
    public var name: String
    public var allow: [String]

    /// Creates a role.
    public init(name: String, allow: [String]) {
        self.name = name
        self.allow = allow
    }
}
