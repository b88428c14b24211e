/// A Parley user: a person with roles, groups and identities on one or more platforms.
public struct User: Sendable, Equatable {
    /// The user's name in Parley.
    public var name: String
    /// Roles granted to the user directly.
    public var roles: [String]
    /// Groups the user belongs to; each group brings its roles.
    public var groups: [String]
    /// Handles on each platform.
    public var identities: [Identity]
    /// The user's own references for per-user secrets, by secret name.
    public var secrets: [String: SecretReference]

    /// Creates a user.
    public init(
        name: String, roles: [String], groups: [String] = [], identities: [Identity],
        secrets: [String: SecretReference] = [:]
    ) {
        self.name = name
        self.roles = roles
        self.groups = groups
        self.identities = identities
        self.secrets = secrets
    }
}

/// A named set of people that brings roles to its members (`oncall`, `dba`).
public struct Group: Sendable, Equatable {
    /// The group's name.
    public var name: String
    /// Roles every member gets.
    public var roles: [String]

    /// Creates a group.
    public init(name: String, roles: [String]) {
        self.name = name
        self.roles = roles
    }
}

/// Who is asking: a known user or a guest, and through which identity.
public struct Principal: Sendable, Equatable {
    /// The Parley user name, or nil for a guest.
    public var userName: String?
    /// The roles in force, direct and from groups (a guest has `guest`).
    public var roles: [String]
    /// The user's groups.
    public var groups: [String]
    /// The identity the message came from.
    public var identity: Identity

    /// Creates a principal.
    public init(userName: String?, roles: [String], groups: [String] = [], identity: Identity) {
        self.userName = userName
        self.roles = roles
        self.groups = groups
        self.identity = identity
    }

    /// True when the identity maps to no user.
    public var isGuest: Bool { userName == nil }

    /// The user's name, or `guest (platform:id)`.
    public var displayName: String { userName ?? "guest (\(identity))" }

    /// True when two principals are the same person: the same user, or the same guest identity.
    public func isSamePerson(as other: Principal) -> Bool {
        if let userName, let otherName = other.userName { return userName == otherName }
        return userName == nil && other.userName == nil && identity == other.identity
    }
}

/// Maps platform identities to Parley users.
public struct Directory: Sendable {
    /// Every user, by name.
    public let users: [String: User]
    /// Every group, by name.
    public let groups: [String: Group]
    private let byIdentity: [Identity: String]

    /// The role unmapped identities get.
    public static let guestRole = "guest"

    /// Creates a directory.
    public init(users: [User], groups: [Group] = []) {
        var byName: [String: User] = [:]
        var byIdentity: [Identity: String] = [:]
        for user in users {
            byName[user.name] = user
            for identity in user.identities { byIdentity[identity] = user.name }
        }
        self.users = byName
        self.groups = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.byIdentity = byIdentity
    }

    /// Platforms whose ids Parley issues itself after a password or token check: `web:alice` and
    /// `api:alice` are the user alice without being listed among her identities.
    public static let authenticatedPlatforms: Set<String> = ["web", "api"]

    /// Who `identity` is. An exact identity wins over a `platform:*` entry.
    public func principal(for identity: Identity) -> Principal {
        var name = byIdentity[identity] ?? byIdentity[Identity(platform: identity.platform, id: "*")]
        if name == nil, Self.authenticatedPlatforms.contains(identity.platform), users[identity.id] != nil {
            name = identity.id
        }
        if let name, let user = users[name] { return principal(for: user, identity: identity) }
        return Principal(userName: nil, roles: [Self.guestRole], identity: identity)
    }

    /// The principal for a known user speaking through `identity`.
    public func principal(for user: User, identity: Identity) -> Principal {
        var roles = user.roles
        for group in user.groups {
            for role in groups[group]?.roles ?? [] where !roles.contains(role) { roles.append(role) }
        }
        return Principal(userName: user.name, roles: roles, groups: user.groups, identity: identity)
    }

    /// Every user's principal (through their first identity), for policy checks over all users.
    public var allPrincipals: [Principal] {
        users.values.sorted { $0.name < $1.name }.map { user in
            principal(for: user, identity: user.identities.first ?? Identity(platform: "local", id: user.name))
        }
    }
}
