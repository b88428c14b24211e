import Foundation
import Yams

/// Reads `incidents:`.
struct IncidentsReader {
    let reader: YAMLReader
    let alerts: AlertsReader
    /// The configured roles, which `declare_rules` may name.
    let roleNames: Set<String>

    func read(_ node: Node) -> IncidentSettings {
        var settings = IncidentSettings()
        let keys = ["severities", "roles", "stakeholder_rooms", "create_rooms", "room_prefix", "declare_rules"]
        for entry in reader.mapping(node, "incidents", allowed: keys) {
            switch entry.key {
            case "severities":
                let read = severities(entry.value)
                if !read.isEmpty { settings.severities = read }
            case "roles": settings.roles = roles(entry.value)
            case "stakeholder_rooms": settings.stakeholderRooms = alerts.rooms(entry.value, "stakeholder_rooms")
            case "create_rooms": settings.createRooms = reader.bool(entry.value, "create_rooms") ?? true
            case "declare_rules":
                var roles: [RuleReader.RoleReference] = []
                var approvals: [RuleReader.ApprovalReference] = []
                settings.declareRules = RuleReader(reader: reader).readRules(
                    entry.value, command: "incident.declare", arguments: ["severity", "title", "commander", "alert"],
                    roles: &roles, approvals: &approvals)
                for reference in roles where !roleNames.contains(reference.role) {
                    reader.report(reference.node, "a rule of incident.declare names unknown role '\(reference.role)'")
                }
            default:
                guard let prefix = reader.string(entry.value, "room_prefix") else { continue }
                if prefix.isEmpty || prefix.count > 20
                    || !prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") })
                {
                    reader.report(
                        entry.value, "room_prefix must be 1 to 20 lowercase letters, digits or '-', as in inc")
                } else {
                    settings.roomPrefix = prefix
                }
            }
        }
        return settings
    }

    /// A severity's or role's name: a lowercase word such as `sev1` or `comms`.
    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase, text.count <= 32 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    private func severities(_ node: Node) -> [IncidentSeverity] {
        var read: [IncidentSeverity] = []
        for entry in reader.mapping(node, "severities") {
            guard Self.isName(entry.key) else {
                reader.report(entry.keyNode, "severity '\(entry.key)' must be a lowercase word such as sev1")
                continue
            }
            var severity = IncidentSeverity(name: entry.key, updateEverySeconds: nil)
            if case .scalar(let scalar) = entry.value, scalar.string.isEmpty || scalar.string == "null" {
                read.append(severity)
                continue
            }
            for field in reader.mapping(
                entry.value, "severity \(entry.key)", allowed: ["update_every", "description", "page"])
            {
                switch field.key {
                case "update_every":
                    guard let text = reader.string(field.value, "update_every") else { continue }
                    guard let seconds = DurationText.seconds(text), seconds >= 60, seconds <= 7 * 86400 else {
                        reader.report(
                            field.value, "update_every '\(text)' must be a duration from 1m to 7d, as in 30m")
                        continue
                    }
                    severity.updateEverySeconds = seconds
                case "page": severity.page = alerts.policy(field.value)
                default: severity.description = reader.string(field.value, "description") ?? ""
                }
            }
            read.append(severity)
        }
        if read.isEmpty { reader.report(node, "severities needs at least one, as in sev1: { update_every: 30m }") }
        return read
    }

    private func roles(_ node: Node) -> [IncidentRole] {
        var read: [IncidentRole] = []
        for entry in reader.mapping(node, "roles") {
            guard Self.isName(entry.key) else {
                reader.report(entry.keyNode, "incident role '\(entry.key)' must be a lowercase word such as comms")
                continue
            }
            var role = IncidentRole(name: entry.key, allow: [])
            for field in reader.mapping(entry.value, "incident role \(entry.key)", allowed: ["allow"]) {
                role.allow = reader.strings(field.value, "allow").compactMap { pattern, patternNode in
                    guard pattern == "*" || pattern.hasPrefix("incident") else {
                        reader.report(
                            patternNode,
                            "an incident role may only allow incident commands (incident.*, incident.update …), not '\(pattern)'"
                        )
                        return nil
                    }
                    return pattern
                }
            }
            read.append(role)
        }
        if !read.contains(where: { $0.name == "commander" }) {
            read.insert(IncidentSettings.defaultRoles[0], at: 0)
        }
        return read
    }
}
