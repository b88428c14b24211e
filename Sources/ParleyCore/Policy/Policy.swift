import Foundation

/// What a role may and may not run: command patterns such as `deploy`, `deploy *`, `alerts.*` or `*`.
public struct RoleGrant: Sendable, Equatable {
    /// The role's name.
    public var name: String
    /// Patterns of commands the role may run.
    public var allow: [String]
    /// Patterns of commands the role may never run; a deny beats any allow.
    public var deny: [String]

    /// Creates a role.
    public init(name: String, allow: [String], deny: [String] = []) {
        self.name = name
        self.allow = allow
        self.deny = deny
    }
}

/// Everything a policy decision looks at.
public struct PolicyRequest: Sendable {
    /// Who asks.
    public var principal: Principal
    /// The command.
    public var command: CommandDeclaration
    /// Its arguments, as text.
    public var arguments: [String: String]
    /// Flags given.
    public var flags: Set<String>
    /// Where.
    public var room: String
    /// From which platform.
    public var platform: String
    /// When.
    public var now: Date
    /// Grants that hold for this request only: the asker's incident roles inside that incident.
    public var grants: [RoleGrant] = []
    /// Further names a rule's condition can use (`incident.role`, `incident.severity` …).
    public var values: [String: ConditionValue] = [:]

    /// Creates a request.
    public init(
        principal: Principal, command: CommandDeclaration, arguments: [String: String] = [:], flags: Set<String> = [],
        room: String, platform: String, now: Date = Date()
    ) {
        self.principal = principal
        self.command = command
        self.arguments = arguments
        self.flags = flags
        self.room = room
        self.platform = platform
        self.now = now
    }

    /// Creates a request for a parsed command.
    public init(principal: Principal, parsed: ParsedCommand, room: String, platform: String, now: Date = Date()) {
        self.init(
            principal: principal, command: parsed.command, arguments: parsed.arguments.mapValues(\.text),
            flags: parsed.flags, room: room, platform: platform, now: now)
    }

    /// The names a rule's condition can use.
    var conditionValues: [String: ConditionValue] {
        var values: [String: ConditionValue] = [:]
        for name in command.patterns.first?.argumentNames ?? [] { values[name] = .string("") }
        for (name, value) in arguments { values[name] = .string(value) }
        for flag in flags { values[flag] = .bool(true) }
        values["room"] = .string(room)
        values["platform"] = .string(platform)
        values["user"] = .string(principal.userName ?? "")
        values["roles"] = .list(principal.roles.map { .string($0) })
        values["groups"] = .list(principal.groups.map { .string($0) })
        values["command"] = .string(command.id)
        for (name, value) in self.values { values[name] = value }
        return values
    }
}

/// The answer to "may this person run this command, now, here, with these arguments?".
public enum Decision: Sendable, Equatable {
    /// Allowed, by a grant, subject to requirements (approvals, confirmation) from the rules that applied.
    case allowed(by: String, requirements: Requirements, rules: [String])
    /// Denied, with the reason and the rule or role that decided.
    case denied(reason: String, decidedBy: String)

    /// True when allowed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }

    /// What the decision needs before the command runs; nothing for a denial.
    public var requirements: Requirements {
        if case .allowed(_, let requirements, _) = self { return requirements }
        return Requirements()
    }
}

/// Deny-by-default permissions. A command runs only if one of the asker's roles allows it, none
/// denies it, and every rule of the command that applies is satisfied.
public struct Policy: Sendable {
    /// Roles by name.
    public let roles: [String: RoleGrant]

    /// What the guest role allows when the configuration does not say.
    public static let defaultGuestAllow = ["help", "ping", "whoami"]

    /// Creates a policy.
    public init(roles: [RoleGrant]) {
        var byName: [String: RoleGrant] = [:]
        for role in roles { byName[role.name] = role }
        if byName[Directory.guestRole] == nil {
            byName[Directory.guestRole] = RoleGrant(name: Directory.guestRole, allow: Self.defaultGuestAllow)
        }
        self.roles = byName
    }

    /// Decides on roles alone: whether `principal` may run `command` at all (used by `help`).
    public func decide(_ principal: Principal, command: CommandDeclaration) -> Decision {
        for roleName in principal.roles {
            guard let role = roles[roleName] else { continue }
            if let pattern = role.deny.first(where: { Self.matches(pattern: $0, command: command) }) {
                return .denied(
                    reason: "role \(roleName) may not run \(command.id)",
                    decidedBy: "role \(roleName) denies \(pattern)")
            }
        }
        for roleName in principal.roles {
            guard let role = roles[roleName] else { continue }
            if let pattern = role.allow.first(where: { Self.matches(pattern: $0, command: command) }) {
                return .allowed(by: "role \(roleName) allows \(pattern)", requirements: Requirements(), rules: [])
            }
        }
        let granting = roles.values.filter { role in
            role.allow.contains { Self.matches(pattern: $0, command: command) }
                && !role.deny.contains { Self.matches(pattern: $0, command: command) }
        }.map(\.name).sorted()
        let have = Self.describe(principal.roles)
        if granting.isEmpty {
            return .denied(reason: "no role may run \(command.id); you have \(have)", decidedBy: "no grant")
        }
        return .denied(
            reason: "\(command.id) needs role \(ParameterType.list(granting)); you have \(have)", decidedBy: "no grant")
    }

    /// Decides a full request: roles (and the request's own grants), then every rule of the command
    /// that applies.
    public func evaluate(_ request: PolicyRequest) -> Decision {
        var base = decide(request.principal, command: request.command)
        if !base.isAllowed, !Self.denies(request.principal, command: request.command, roles: roles),
            let grant = request.grants.first(where: { grant in
                grant.allow.contains { Self.matches(pattern: $0, command: request.command) }
                    && !grant.deny.contains { Self.matches(pattern: $0, command: request.command) }
            })
        {
            base = .allowed(by: grant.name, requirements: Requirements(), rules: [])
        }
        guard case .allowed(let grant, _, _) = base else { return base }
        let values = request.conditionValues
        var requirements = Requirements()
        var applied: [String] = []
        for rule in request.command.rules where rule.when?.evaluate(values) ?? true {
            let label = rule.label(command: request.command.id)
            applied.append(label)
            if let refusal = check(rule, label: label, request: request) { return refusal }
            requirements.merge(rule.require)
        }
        return .allowed(by: grant, requirements: requirements, rules: applied)
    }

    private func check(_ rule: CommandRule, label: String, request: PolicyRequest) -> Decision? {
        let decidedBy = "rule '\(label)'"
        if let reason = rule.deny { return .denied(reason: "\(label): \(reason)", decidedBy: decidedBy) }
        if let rooms = rule.rooms, !rooms.contains(where: { $0.caseInsensitiveCompare(request.room) == .orderedSame }) {
            return .denied(
                reason: "\(label) may only run in \(ParameterType.list(rooms)); this is \(request.room)",
                decidedBy: decidedBy)
        }
        if let platforms = rule.platforms, !platforms.contains(request.platform) {
            return .denied(
                reason: "\(label) may only run from \(ParameterType.list(platforms)); this is \(request.platform)",
                decidedBy: decidedBy)
        }
        if let window = rule.window, !window.contains(request.now) {
            return .denied(reason: "\(label) may only run \(window)", decidedBy: decidedBy)
        }
        let needed = rule.require.roles
        if !needed.isEmpty, !request.principal.roles.contains(where: needed.contains) {
            return .denied(
                reason:
                    "\(label) needs role \(ParameterType.list(needed)); you have \(Self.describe(request.principal.roles))",
                decidedBy: decidedBy)
        }
        return nil
    }

    /// True when one of the principal's roles denies the command outright (a deny no grant overrides).
    static func denies(_ principal: Principal, command: CommandDeclaration, roles: [String: RoleGrant]) -> Bool {
        principal.roles.contains { name in
            roles[name]?.deny.contains { matches(pattern: $0, command: command) } ?? false
        }
    }

    static func describe(_ roles: [String]) -> String {
        roles.isEmpty ? "no roles" : roles.joined(separator: ", ")
    }

    /// True when a grant pattern covers a command: a glob over its id (`deploy*`, `alerts.*`, `*`),
    /// or `WORD *`, every command typed with that first word (`deploy *`).
    public static func matches(pattern: String, command: CommandDeclaration) -> Bool {
        if pattern.hasSuffix(" *") {
            let word = pattern.dropLast(2).trimmingCharacters(in: .whitespaces).lowercased()
            return command.patterns.contains { $0.leadingWords.first == word }
        }
        return GlobPattern.matches(pattern: pattern, text: command.id)
    }
}
