/// A rule on a command: when it applies, where and when the command may run, what it requires.
public struct CommandRule: Sendable, Equatable {
    /// The rule's name, used in explanations (`deploy to prod`).
    public var name: String?
    /// The condition that makes the rule apply; nil applies always.
    public var when: Condition?
    /// Rooms the command may run in when the rule applies.
    public var rooms: [String]?
    /// Platforms the command may run from when the rule applies.
    public var platforms: [String]?
    /// When the command may run when the rule applies.
    public var window: TimeWindow?
    /// A flat refusal, with its reason, when the rule applies.
    public var deny: String?
    /// What the command needs when the rule applies.
    public var require: Requirements

    /// Creates a rule.
    public init(
        name: String? = nil, when: Condition? = nil, rooms: [String]? = nil, platforms: [String]? = nil,
        window: TimeWindow? = nil, deny: String? = nil, require: Requirements = Requirements()
    ) {
        self.name = name
        self.when = when
        self.rooms = rooms
        self.platforms = platforms
        self.window = window
        self.deny = deny
        self.require = require
    }

    /// How explanations name the rule: its name, or the command and its condition.
    public func label(command: String) -> String {
        if let name { return name }
        if let when { return "\(command) when \(when)" }
        return command
    }
}

/// What a command needs before it runs.
public struct Requirements: Sendable, Equatable, Codable {
    /// The asker must hold one of these roles.
    public var roles: [String]
    /// How many other people must approve.
    public var approvals: Int
    /// Roles whose holders may approve; empty means anyone who may run the command.
    public var approvers: [String]
    /// The asker must confirm with a code.
    public var confirm: Bool

    /// Creates requirements.
    public init(roles: [String] = [], approvals: Int = 0, approvers: [String] = [], confirm: Bool = false) {
        self.roles = roles
        self.approvals = approvals
        self.approvers = approvers
        self.confirm = confirm
    }

    /// True when the command may run straight away.
    public var isImmediate: Bool { approvals == 0 && !confirm }

    /// Adds another rule's requirements: the most approvals, every approver role, any confirmation.
    mutating func merge(_ other: Requirements) {
        approvals = max(approvals, other.approvals)
        for role in other.approvers where !approvers.contains(role) { approvers.append(role) }
        confirm = confirm || other.confirm
    }
}
