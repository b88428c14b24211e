import Foundation
import ParleyCore
import ParleyStore

/// Who had which roles, and what each role allowed, at the last start; compared at each start so
/// that user and role changes land in the audit log even though they are made in a file.
struct PolicySnapshot: Codable, Equatable {
    var users: [String: [String]]
    var roles: [String: [String]]

    init(config: ParleyConfig) {
        let directory = Directory(users: config.users, groups: config.groups)
        users = Dictionary(
            uniqueKeysWithValues: directory.allPrincipals.compactMap { principal in
                principal.userName.map { ($0, principal.roles.sorted()) }
            })
        roles = Dictionary(
            uniqueKeysWithValues: config.roles.map { role in
                (role.name, role.allow.map { "allow \($0)" } + role.deny.map { "deny \($0)" })
            })
    }

    static let key = "policy_snapshot"

    static func auditChanges(engine: Engine) async throws {
        let current = PolicySnapshot(config: engine.config)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let encoded = String(decoding: try encoder.encode(current), as: UTF8.self)
        let digest = HexDigest.sha256(encoded)
        var drafts = [
            AuditDraft(
                kind: .configLoaded, actor: "system",
                detail: "\(engine.config.sourcePath ?? "built-in defaults") policy \(digest.prefix(16))")
        ]
        if let stored = try await engine.store.metadata(key),
            let previous = try? JSONDecoder().decode(PolicySnapshot.self, from: Data(stored.utf8))
        {
            drafts += changes(from: previous.users, to: current.users, kind: .userChanged, noun: "user")
            drafts += changes(from: previous.roles, to: current.roles, kind: .roleChanged, noun: "role")
        }
        for draft in drafts { try await engine.audit.append(draft) }
        try await engine.store.setMetadata(key, encoded)
    }

    private static func changes(from old: [String: [String]], to new: [String: [String]], kind: AuditKind, noun: String)
        -> [AuditDraft]
    {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            let before = old[name]
            let after = new[name]
            guard before != after else { return nil }
            let detail: String
            switch (before, after) {
            case (nil, let now?): detail = "\(noun) \(name) added: \(now.joined(separator: ", "))"
            case (let was?, nil): detail = "\(noun) \(name) removed (was \(was.joined(separator: ", ")))"
            default:
                detail =
                    "\(noun) \(name) changed: \(before?.joined(separator: ", ") ?? "") → \(after?.joined(separator: ", ") ?? "")"
            }
            return AuditDraft(kind: kind, actor: "system", detail: detail)
        }
    }
}
