import Foundation

/// A browser session: the hash of its cookie token, whose it is, and its CSRF token.
public struct SessionRecord: Sendable, Equatable, Codable {
    /// SHA-256 of the cookie value; the value itself is never stored.
    public var tokenHash: String
    public var userName: String
    /// Sent with every state-changing form and API call made with the cookie.
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    /// Creates a session.
    public init(tokenHash: String, userName: String, csrfToken: String, createdAt: Date, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.userName = userName
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// An API token: `plt_<id>_<secret>`, stored as the hash of the secret, with scopes; revocable.
public struct APITokenRecord: Sendable, Equatable, Codable {
    /// The public part, shown in lists and used to revoke.
    public var id: String
    /// SHA-256 of the secret part.
    public var secretHash: String
    public var userName: String
    /// What the token may do: `commands`, `read`, `approvals`, or `*`.
    public var scopes: [String]
    public var name: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    /// Creates a token record.
    public init(
        id: String, secretHash: String, userName: String, scopes: [String], name: String, createdAt: Date,
        revokedAt: Date? = nil, lastUsedAt: Date? = nil
    ) {
        self.id = id
        self.secretHash = secretHash
        self.userName = userName
        self.scopes = scopes
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// Passwords, sessions and API tokens.
public protocol AuthStore: Sendable {
    /// The stored password hash for a user.
    func passwordHash(userName: String) async throws -> String?
    /// Sets (or replaces) a user's password hash.
    func setPasswordHash(_ hash: String, userName: String) async throws
    /// Whether any user has a password yet.
    func hasAnyPassword() async throws -> Bool
    func insertSession(_ session: SessionRecord) async throws
    /// The live session for a token hash (expired ones are not returned).
    func session(tokenHash: String, now: Date) async throws -> SessionRecord?
    func deleteSession(tokenHash: String) async throws
    func insertToken(_ token: APITokenRecord) async throws
    func token(id: String) async throws -> APITokenRecord?
    func tokens() async throws -> [APITokenRecord]
    /// Revokes a token; false when there is no such live token.
    func revokeToken(id: String, at date: Date) async throws -> Bool
    func touchToken(id: String, at date: Date) async throws
    /// Decided approval requests, newest first.
    func decidedApprovals(limit: Int) async throws -> [ApprovalRequest]
}
