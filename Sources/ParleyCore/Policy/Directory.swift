/// A Parley user: a person with roles and identities on one or more platforms.
public struct User: Sendable, Equatable {
    /// The user's name in Parley.
    public var name: String
    /// The roles granted to the user.
    public var roles: [String]
    /// Handles on each platform.
    public var identities: [Identity]

    /// Creates a user.
    public init(name: String, roles: [String], identities: [Identity]) {
        self.name = name
        self.roles = roles
        self.identities = identities
    }
}

/// Who is asking: a known user or a guest, and through which identity.
public struct Principal: Sendable, Equatable {
    /// The Parley user name, or nil for a guest.
    public var userName: String?
    /// The roles in force (a guest has `guest`).
    public var roles: [String]
    /// The identity the message came from.
    public var identity: Identity

    /// True when the identity maps to no user.
    public var isGuest: Bool { userName == nil }

    /// The user's name, or `guest (platform:id)`.
    public var displayName: String { userName ?? "guest (\(identity))" }
}

/// Maps platform identities to Parley users.
public struct Directory: Sendable {
    /// Every user, by name.
    public let users: [String: User]
    private let byIdentity: [Identity: String]

    /// The role unmapped identities get.
    public static let guestRole = "guest"

    /// Creates a directory.
    public init(users: [User]) {
        var byName: [String: User] = [:]
        var byIdentity: [Identity: String] = [:]
        for user in users {
            byName[user.name] = user
            for identity in user.identities { byIdentity[identity] = user.name }
        }
        self.users = byName
        self.byIdentity = byIdentity
    }

    /// Who `identity` is. An exact identity wins over a `platform:*` entry.
    public func principal(for identity: Identity) -> Principal {
        let name = byIdentity[identity] ?? byIdentity[Identity(platform: identity.platform, id: "*")]
        if let name, let user = users[name] {
            return Principal(userName: name, roles: user.roles, identity: identity)
        }
        return Principal(userName: nil, roles: [Self.guestRole], identity: identity)
    }
}
