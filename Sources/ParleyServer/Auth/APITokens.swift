import Foundation
import ParleyCore
import ParleyStore

/// API tokens: `plt_<id>_<secret>`; only a hash of the secret is stored.
public enum APITokens {
    /// What tokens may be allowed to do.
    public static let scopes: Set<String> = ["commands", "read", "approvals", "*"]

    /// Creates a token for `user` and returns the text to hand over (shown once) and its record.
    public static func create(user: String, scopes: [String], name: String, store: any AuthStore) async throws
        -> (token: String, record: APITokenRecord)
    {
        let id = Tokens.random(bytes: 6).lowercased().filter { $0.isLetter || $0.isNumber }
        let secret = Tokens.random(bytes: 24)
        let record = APITokenRecord(
            id: id, secretHash: Tokens.hash(secret), userName: user, scopes: scopes, name: name, createdAt: Date())
        try await store.insertToken(record)
        return ("plt_\(id)_\(secret)", record)
    }

    /// The live token `text` names, if its secret matches and it is not revoked.
    public static func verify(_ text: String, store: any AuthStore) async throws -> APITokenRecord? {
        let parts = text.split(separator: "_", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "plt", let record = try await store.token(id: parts[1]),
            record.revokedAt == nil,
            ConstantTime.equal(Tokens.hash(parts[2]), record.secretHash)
        else { return nil }
        // "Last used" is for people deciding what to revoke: a minute's precision is plenty, and it
        // spares a write on every request.
        let now = Date()
        if record.lastUsedAt.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
            try await store.touchToken(id: record.id, at: now)
        }
        return record
    }
}
