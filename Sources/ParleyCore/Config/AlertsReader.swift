import Foundation
import Yams

/// Reads `alerts:` and `schedules:`, after users are known (automations and schedules run as one).
struct AlertsReader {
    let reader: YAMLReader
    let adapters: AdapterReader
    let config: ParleyConfig

    /// Platforms a room may name: the configured adapters.
    var platforms: Set<String> {
        var names: Set<String> = []
        if config.irc != nil { names.insert("irc") }
        if config.slack != nil { names.insert("slack") }
        if config.matrix != nil { names.insert("matrix") }
        if config.mattermost != nil { names.insert("mattermost") }
        if config.email != nil { names.insert("email") }
        return names
    }

    func readAlerts(_ node: Node) -> AlertSettings {
        var settings = AlertSettings()
        let keys = [
            "alertmanager_url", "alertmanager_token", "sources", "routes", "default_rooms", "group_window",
            "room_rate", "automations",
        ]
        for entry in reader.mapping(node, "alerts", allowed: keys) {
            switch entry.key {
            case "alertmanager_url":
                settings.alertmanagerURL = adapters.url(
                    entry.value, "alertmanager_url", example: "http://127.0.0.1:9093")
            case "alertmanager_token": settings.alertmanagerToken = adapters.secret(entry.value, "alertmanager_token")
            case "sources": settings.sources = readSources(entry.value)
            case "routes":
                settings.routes = sequence(entry.value, "routes").compactMap(readRoute)
            case "default_rooms": settings.defaultRooms = rooms(entry.value, "default_rooms")
            case "group_window":
                guard let text = reader.string(entry.value, "group_window") else { continue }
                guard let seconds = DurationText.seconds(text), seconds >= 0 else {
                    reader.report(entry.value, "group_window '\(text)' is not a duration; write 5m")
                    continue
                }
                settings.groupWindowSeconds = seconds
            case "room_rate":
                guard let text = reader.string(entry.value, "room_rate") else { continue }
                guard let rate = RateLimit(text) else {
                    reader.report(entry.value, "room_rate '\(text)' is not a rate; write 20/min")
                    continue
                }
                settings.roomMessagesPerMinute = max(1, rate.count * 60 / max(rate.seconds, 1))
            default:
                settings.automations = sequence(entry.value, "automations").compactMap(readAutomation)
            }
        }
        return settings
    }

    private func sequence(_ node: Node, _ what: String) -> [Node] {
        guard case .sequence(let items) = node else {
            reader.report(node, "\(what) must be a list")
            return []
        }
        return Array(items)
    }

    private func readSources(_ node: Node) -> [AlertSource] {
        var sources: [AlertSource] = []
        for entry in reader.mapping(node, "sources", allowed: AlertSource.Kind.allCases.map(\.rawValue)) {
            guard let kind = AlertSource.Kind(rawValue: entry.key) else { continue }
            if kind == .generic {
                for named in reader.mapping(entry.value, "generic") {
                    guard named.key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                        reader.report(named.keyNode, "a generic source's name is letters, digits, - and _")
                        continue
                    }
                    if let source = readSource(named.value, kind: kind, name: named.key) { sources.append(source) }
                }
            } else if let source = readSource(entry.value, kind: kind, name: kind.rawValue) {
                sources.append(source)
            }
        }
        return sources
    }

    private func readSource(_ node: Node, kind: AlertSource.Kind, name: String) -> AlertSource? {
        var source = AlertSource(kind: kind, name: name)
        var keys = ["token", "basic", "secret"]
        if kind == .generic {
            keys += ["alertname", "status", "resolved_values", "labels", "annotations", "fingerprint", "url"]
        }
        var templates: [String: TextTemplate] = [:]
        var labels: [String: TextTemplate] = [:]
        var annotations: [String: TextTemplate] = [:]
        var resolved = ["resolved", "ok", "up", "recovered"]
        for field in reader.mapping(node, name, allowed: keys) {
            switch field.key {
            case "token": source.token = adapters.secret(field.value, "\(name) token")
            case "secret": source.secret = adapters.secret(field.value, "\(name) secret")
            case "basic":
                for item in reader.mapping(field.value, "basic", allowed: ["user", "password"]) {
                    if item.key == "user" {
                        source.basicUser = reader.string(item.value, "basic user")
                    } else {
                        source.basicPassword = adapters.secret(item.value, "basic password")
                    }
                }
                if source.basicUser == nil || source.basicPassword == nil {
                    reader.report(field.value, "basic needs user and password")
                }
            case "resolved_values": resolved = reader.strings(field.value, "resolved_values").map { $0.0.lowercased() }
            case "labels", "annotations":
                for item in reader.mapping(field.value, field.key) {
                    guard let template = template(item.value, "\(field.key).\(item.key)") else { continue }
                    if field.key == "labels" { labels[item.key] = template } else { annotations[item.key] = template }
                }
            default:
                templates[field.key] = template(field.value, field.key)
            }
        }
        if kind == .github, source.secret == nil {
            reader.report(node, "the github source needs secret: the webhook's secret, to check X-Hub-Signature-256")
        } else if kind != .github, source.token == nil, source.basicUser == nil, source.secret == nil {
            reader.report(node, "the \(name) source needs token, basic or secret: webhooks are never open")
        }
        if kind == .generic {
            guard let alertname = templates["alertname"] else {
                reader.report(
                    node, "the generic source '\(name)' needs alertname: a template such as \"{{check.name}}\"")
                return nil
            }
            source.mapping = GenericAlertMapping(
                source: name, alertname: alertname, status: templates["status"], resolvedValues: resolved,
                labels: labels, annotations: annotations, fingerprint: templates["fingerprint"], url: templates["url"])
        }
        return source
    }

    func template(_ node: Node, _ what: String) -> TextTemplate? {
        guard let text = reader.string(node, what) else { return nil }
        do {
            return try TextTemplate(text)
        } catch {
            reader.report(node, "\(what) is not a valid template: \(error)")
            return nil
        }
    }

    func matchers(_ node: Node) -> [LabelMatcher] {
        var texts: [(String, Node)] = []
        if case .mapping = node {
            for entry in reader.mapping(node, "match") {
                guard let value = reader.string(entry.value, entry.key) else { continue }
                let hasOperator = ["=~", "!~", "!="].contains { value.hasPrefix($0) }
                texts.append((hasOperator ? entry.key + value : "\(entry.key)=\(value)", entry.value))
            }
        } else {
            texts = reader.strings(node, "match")
        }
        return texts.compactMap { text, itemNode in
            do {
                return try LabelMatcher(parsing: text)
            } catch {
                reader.report(itemNode, "match \(error)")
                return nil
            }
        }
    }

    /// An escalation policy's name, checked against `paging.policies`.
    func policy(_ node: Node) -> String? {
        guard let name = reader.string(node, "page") else { return nil }
        guard config.paging.policy(name) != nil else {
            let known = config.paging.policies.map(\.name)
            reader.report(
                node,
                "page names escalation policy '\(name)', which paging.policies does not have"
                    + (known.isEmpty ? "" : " (policies: \(known.joined(separator: ", ")))"))
            return nil
        }
        return name
    }

    func rooms(_ node: Node, _ what: String) -> [String] {
        reader.strings(node, what).compactMap { room, roomNode in
            let parts = room.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, !parts[1].isEmpty else {
                reader.report(roomNode, "room '\(room)' must be platform:room, as in slack:C024BE91L or irc:#ops")
                return nil
            }
            if !platforms.contains(String(parts[0])) {
                let known = platforms.sorted().joined(separator: ", ")
                reader.report(
                    roomNode,
                    "room '\(room)' is on \(parts[0]), which is not configured under adapters"
                        + (known.isEmpty ? "" : " (configured: \(known))"))
            }
            return room
        }
    }

    private func readRoute(_ node: Node) -> AlertRoute? {
        var route = AlertRoute(matchers: [], rooms: [])
        var sawRooms = false
        for field in reader.mapping(node, "a route", allowed: ["match", "rooms", "template", "continue", "page"]) {
            switch field.key {
            case "match": route.matchers = matchers(field.value)
            case "rooms":
                route.rooms = rooms(field.value, "rooms")
                sawRooms = true
            case "template": route.template = template(field.value, "template")
            case "page": route.page = policy(field.value)
            default: route.continues = reader.bool(field.value, "continue") ?? false
            }
        }
        if !sawRooms { reader.report(node, "a route needs rooms") }
        return route
    }

    /// An identity that must be mapped to a configured user.
    func identity(_ node: Node, _ what: String) -> Identity? {
        guard let text = reader.string(node, what) else { return nil }
        guard let identity = Identity(text) else {
            reader.report(node, "\(what) '\(text)' is not an identity; write platform:id, as in service:alertbot")
            return nil
        }
        let mapped = config.users.contains { user in user.identities.contains(identity) }
        if !mapped {
            reader.report(
                node, "\(what) '\(text)' is nobody: add it to a user's identities, with the roles it needs")
        }
        return identity
    }

    private func readAutomation(_ node: Node) -> AlertAutomation? {
        var matchers: [LabelMatcher] = []
        var command: TextTemplate?
        var identity: Identity?
        var room: String?
        var cooldown = 1800
        for field in reader.mapping(node, "an automation", allowed: ["match", "run", "as", "room", "cooldown"]) {
            switch field.key {
            case "match": matchers = self.matchers(field.value)
            case "run": command = template(field.value, "run")
            case "as": identity = self.identity(field.value, "as")
            case "room": room = rooms(field.value, "room").first
            default:
                guard let text = reader.string(field.value, "cooldown") else { continue }
                guard let seconds = DurationText.seconds(text), seconds >= 0 else {
                    reader.report(field.value, "cooldown '\(text)' is not a duration; write 30m")
                    continue
                }
                cooldown = seconds
            }
        }
        guard let command, let identity else {
            reader.report(node, "an automation needs run (the command) and as (who runs it)")
            return nil
        }
        if matchers.isEmpty { reader.report(node, "an automation needs match: it would run for every alert") }
        return AlertAutomation(
            matchers: matchers, command: command, identity: identity, room: room, cooldownSeconds: cooldown)
    }

    func readSchedules(_ node: Node) -> [Schedule] {
        var schedules: [Schedule] = []
        for entry in reader.mapping(node, "schedules") {
            var cron: CronExpression?
            var zone = TimeZone(identifier: "UTC")!
            var command: String?
            var identity: Identity?
            var room: String?
            var missed = Schedule.Missed.skip
            let keys = ["cron", "timezone", "run", "as", "room", "missed"]
            for field in reader.mapping(entry.value, entry.key, allowed: keys) {
                switch field.key {
                case "cron":
                    guard let text = reader.string(field.value, "cron") else { continue }
                    do {
                        cron = try CronExpression(text)
                    } catch {
                        reader.report(field.value, "cron: \(error)")
                    }
                case "timezone":
                    guard let text = reader.string(field.value, "timezone") else { continue }
                    guard let found = TimeZone(identifier: text) else {
                        reader.report(
                            field.value, "unknown time zone '\(text)'; write an IANA name such as Europe/Paris")
                        continue
                    }
                    zone = found
                case "run": command = reader.string(field.value, "run")
                case "as": identity = self.identity(field.value, "as")
                case "room": room = rooms(field.value, "room").first
                default:
                    guard let text = reader.string(field.value, "missed") else { continue }
                    guard let value = Schedule.Missed(rawValue: text) else {
                        reader.report(field.value, "missed must be skip or run_once, got '\(text)'")
                        continue
                    }
                    missed = value
                }
            }
            guard let cron, let command, let identity else {
                reader.report(entry.value, "schedule '\(entry.key)' needs cron, run and as")
                continue
            }
            schedules.append(
                Schedule(
                    name: entry.key, cron: cron, timeZone: zone, command: command, identity: identity, room: room,
                    missed: missed))
        }
        return schedules
    }
}
