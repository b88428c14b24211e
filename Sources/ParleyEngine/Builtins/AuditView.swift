import Foundation
import ParleyCore
import ParleyStore

/// The `audit` built-in: recent audit entries as a table.
enum AuditView {
    static func recent(_ call: BuiltinCall) async throws -> Reply {
        let query = AuditQuery(
            actor: call["user"], command: call["command"], kind: call["kind"],
            limit: call["limit"].flatMap(Int.init) ?? 20, newestFirst: true)
        let entries = try await call.services.store.auditEntries(query)
        guard !entries.isEmpty else { return .text("No audit entries match.") }
        let rows = entries.map { entry in
            [
                "#\(entry.seq)", String(entry.at.prefix(19)), entry.kind, entry.actor, entry.command,
                RunViews.clip(call.services.masker.mask(entry.outcome.isEmpty ? entry.decision : entry.outcome), 40),
            ]
        }
        return Reply([.table(header: ["seq", "at", "kind", "who", "command", "result"], rows: rows)])
    }
}

/// Rules in words, for `help COMMAND`.
enum RuleText {
    static func describe(_ rule: CommandRule, command: String) -> String {
        var parts: [String] = []
        if let when = rule.when { parts.append("when \(when)") }
        if let deny = rule.deny { parts.append("denied: \(deny)") }
        if let rooms = rule.rooms { parts.append("only in " + rooms.joined(separator: ", ")) }
        if let platforms = rule.platforms { parts.append("only from " + platforms.joined(separator: ", ")) }
        if let window = rule.window { parts.append("only \(window)") }
        let require = rule.require
        if !require.roles.isEmpty { parts.append("needs role " + require.roles.joined(separator: " or ")) }
        if require.approvals > 0 {
            let from = require.approvers.isEmpty ? "" : " from " + require.approvers.joined(separator: " or ")
            parts.append("needs \(require.approvals) approval\(require.approvals == 1 ? "" : "s")\(from)")
        }
        if require.confirm { parts.append("asks for confirmation") }
        let text = parts.joined(separator: "; ")
        return rule.name.map { "\($0): \(text)" } ?? text
    }
}
