/// What a role may run: command patterns such as `deploy`, `deploy*` or `*`.
public struct RoleGrant: Sendable, Equatable {
    /// The role's name.
    public var name: String
    /// Command id patterns the role may run.
    public var allow: [String]

    /// Creates a role.
    public init(name: String, allow: [String]) {
        self.name = name
        self.allow = allow
    }
}

/// The answer to "may this person run this command?", with the reason.
public enum Decision: Sendable, Equatable {
    case allowed(by: String)
    case denied(reason: String)

    /// True when allowed.
    public var isAllowed: Bool {
        if case .allowed = self { return true }
        return false
    }
}

/// Deny-by-default permissions: a command runs only if one of the asker's roles grants it.
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

    /// Decides whether `principal` may run the command with id `commandID`.
    public func decide(_ principal: Principal, commandID: String) -> Decision {
        for roleName in principal.roles {
            guard let role = roles[roleName] else { continue }
            if let pattern = role.allow.first(where: { Self.matches(pattern: $0, commandID: commandID) }) {
                return .allowed(by: "role \(roleName) allows \(pattern)")
            }
        }
        let granting = roles.values.filter { role in
            role.allow.contains { Self.matches(pattern: $0, commandID: commandID) }
        }.map(\.name).sorted()
        let have = principal.roles.isEmpty ? "no roles" : principal.roles.joined(separator: ", ")
        if granting.isEmpty {
            return .denied(reason: "no role may run \(commandID); you have \(have)")
        }
        return .denied(
            reason: "\(commandID) needs role \(ParameterType.list(granting)); you have \(have)")
    }

    /// True when a grant pattern covers a command id: `*` matches any run of characters.
    public static func matches(pattern: String, commandID: String) -> Bool {
        let pattern = Array(pattern.lowercased())
        let text = Array(commandID.lowercased())
        var p = 0
        var t = 0
        var star = -1
        var mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                mark = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
