import Foundation
import ParleyCore
import ParleyStore

/// What an incident adds to a policy decision, for the incident commands and for any command
/// whose rules name `incident.…`: the asker's incident roles as grants (a comms lead may post
/// updates for that incident whatever their own roles), and `incident`, `incident.role`,
/// `incident.severity`, `incident.status` for rule conditions. The incident is the one the
/// command names (`--incident`), else the one open in the room. The pipeline asks when a command
/// arrives, and again when an approval releases it, so both decide alike.
struct IncidentScope: Sendable {
    let store: any ParleyStorage
    let settings: IncidentSettings

    func apply(to request: inout PolicyRequest, _ parsed: ParsedCommand) async throws {
        let command = parsed.command
        let namesIncident = command.rules.contains { rule in
            rule.when?.names.contains { $0.hasPrefix("incident.") || $0 == "incident" } ?? false
        }
        guard command.id.hasPrefix("incident.") || namesIncident else { return }
        var incident: Incident?
        if let text = parsed.arguments["incident"]?.text, let number = IncidentNumber.parse(text) {
            incident = try await store.incident(number: number)
        } else if command.id != "incident.declare" {
            let open = try await store.openIncidents(inRoom: "\(request.platform):\(request.room)")
            if open.count == 1 { incident = open[0] }
        }
        guard let incident else { return }
        let held = request.principal.userName.map { incident.roles(of: $0) } ?? []
        request.values = [
            "incident": .string(incident.name), "incident.role": .list(held.map { .string($0) }),
            "incident.severity": .string(incident.severity), "incident.status": .string(incident.status.rawValue),
        ]
        request.grants = held.compactMap { name in settings.role(name) }.map { role in
            RoleGrant(name: "incident role \(role.name) in \(incident.name) allows it", allow: role.allow)
        }
    }
}

extension Engine {
    public func pin(_ text: String, by sender: Identity, in room: String, eventID: String) async -> Bool {
        do {
            let open = try await store.openIncidents(inRoom: "\(sender.platform):\(room)")
            guard let incident = open.first, let number = incident.number else { return false }
            guard try await store.firstSighting(of: "\(sender.platform):pin:\(eventID)") else { return false }
            let principal = directory.principal(for: sender)
            let actor = principal.userName ?? sender.description
            let shown = String(vault.masker.mask(text).prefix(500))
            let entry = try await audit.append(
                AuditDraft(
                    kind: .pinned, actor: actor, identity: sender.description, room: room, command: "incident.pin",
                    outcome: incident.name, detail: shown))
            _ = try await store.addIncidentEvent(
                IncidentEvent(
                    incident: number, at: Date(), actor: actor, kind: .pin, text: "📌 \(shown)", auditSeq: entry.seq))
            return true
        } catch {
            logger.warning("cannot pin a message to the incident in \(room): \(error)")
            return false
        }
    }
}
