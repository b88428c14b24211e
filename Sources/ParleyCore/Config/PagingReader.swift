import Foundation
import Yams

/// Reads `paging:`, after users, schedules and adapters are known.
struct PagingReader {
    let reader: YAMLReader
    let adapters: AdapterReader
    let alerts: AlertsReader
    let users: Set<String>
    let schedules: Set<String>

    func read(_ node: Node) -> PagingSettings {
        var settings = PagingSettings()
        for entry in reader.mapping(node, "paging", allowed: ["pagerduty", "opsgenie", "webhook", "policies"]) {
            switch entry.key {
            case "pagerduty": settings.pagerDuty = pagerDuty(entry.value)
            case "opsgenie": settings.opsgenie = opsgenie(entry.value)
            case "webhook": settings.webhook = webhook(entry.value)
            default: settings.policies = policies(entry.value, settings: settings)
            }
        }
        return settings
    }

    private func pagerDuty(_ node: Node) -> PagerDutySettings? {
        var key: SecretSource?
        var url: String?
        var secrets: [SecretSource] = []
        for field in reader.mapping(node, "pagerduty", allowed: ["routing_key", "url", "webhook_secrets"]) {
            switch field.key {
            case "routing_key": key = adapters.secret(field.value, "routing_key")
            case "url": url = adapters.url(field.value, "url", example: "https://events.pagerduty.com")
            default:
                if case .sequence(let items) = field.value {
                    secrets = items.compactMap { adapters.secret($0, "webhook_secrets") }
                } else if let one = adapters.secret(field.value, "webhook_secrets") {
                    secrets = [one]
                }
            }
        }
        guard let key else {
            reader.report(
                node, "pagerduty needs routing_key (the Events API v2 integration key), as env:PD_ROUTING_KEY")
            return nil
        }
        var settings = PagerDutySettings(routingKey: key)
        if let url { settings.url = url }
        settings.webhookSecrets = secrets
        return settings
    }

    private func opsgenie(_ node: Node) -> OpsgenieSettings? {
        var key: SecretSource?
        var url: String?
        for field in reader.mapping(node, "opsgenie", allowed: ["api_key", "url"]) {
            if field.key == "api_key" {
                key = adapters.secret(field.value, "api_key")
            } else {
                url = adapters.url(field.value, "url", example: "https://api.opsgenie.com")
            }
        }
        guard let key else {
            reader.report(node, "opsgenie needs api_key, as env:OPSGENIE_API_KEY")
            return nil
        }
        var settings = OpsgenieSettings(apiKey: key)
        if let url { settings.url = url }
        return settings
    }

    private func webhook(_ node: Node) -> PageWebhookSettings? {
        var url: String?
        var secret: SecretSource?
        for field in reader.mapping(node, "webhook", allowed: ["url", "secret"]) {
            if field.key == "url" {
                url = adapters.url(field.value, "url", example: "https://pager.example.org/hook")
            } else {
                secret = adapters.secret(field.value, "secret")
            }
        }
        guard let url, let secret else {
            reader.report(node, "the paging webhook needs url and secret (it signs every request)")
            return nil
        }
        return PageWebhookSettings(url: url, secret: secret)
    }

    private func policies(_ node: Node, settings: PagingSettings) -> [EscalationPolicy] {
        reader.mapping(node, "policies").compactMap { entry in
            var policy = EscalationPolicy(name: entry.key, levels: [])
            for field in reader.mapping(entry.value, "policy \(entry.key)", allowed: ["levels", "repeat"]) {
                if field.key == "repeat" {
                    let repeats = reader.int(field.value, "repeat") ?? 0
                    if !(0...10).contains(repeats) { reader.report(field.value, "repeat must be from 0 to 10") }
                    policy.repeats = min(max(repeats, 0), 10)
                    continue
                }
                guard case .sequence(let items) = field.value else {
                    reader.report(field.value, "levels must be a list, each - { notify: [...], after: 5m }")
                    continue
                }
                policy.levels = items.compactMap { level($0, settings: settings) }
            }
            if policy.levels.isEmpty {
                reader.report(
                    entry.value, "policy \(entry.key) needs levels, as - { notify: [\"oncall:payments\"], after: 5m }")
                return nil
            }
            return policy
        }
    }

    private func level(_ node: Node, settings: PagingSettings) -> EscalationLevel? {
        var targets: [PageTarget] = []
        var wait = 300
        for field in reader.mapping(node, "a level", allowed: ["notify", "after"]) {
            if field.key == "after" {
                guard let text = reader.string(field.value, "after") else { continue }
                guard let seconds = DurationText.seconds(text), (60...86400).contains(seconds) else {
                    reader.report(field.value, "after '\(text)' must be a duration from 1m to 24h, as in 5m")
                    continue
                }
                wait = seconds
                continue
            }
            for (text, itemNode) in reader.strings(field.value, "notify") {
                if let target = target(text, at: itemNode, settings: settings) { targets.append(target) }
            }
        }
        guard !targets.isEmpty else {
            reader.report(node, "a level needs notify, as notify: [\"oncall:payments\", pagerduty]")
            return nil
        }
        return EscalationLevel(targets: targets, waitSeconds: wait)
    }

    private func target(_ text: String, at node: Node, settings: PagingSettings) -> PageTarget? {
        switch text {
        case "pagerduty":
            if settings.pagerDuty == nil {
                reader.report(node, "notify names pagerduty, but paging.pagerduty is not configured")
            }
            return .pagerDuty
        case "opsgenie":
            if settings.opsgenie == nil {
                reader.report(node, "notify names opsgenie, but paging.opsgenie is not configured")
            }
            return .opsgenie
        case "webhook":
            if settings.webhook == nil {
                reader.report(node, "notify names webhook, but paging.webhook is not configured")
            }
            return .webhook
        default: break
        }
        if text.hasPrefix("oncall:") {
            let name = String(text.dropFirst(7))
            guard schedules.contains(name) else {
                reader.report(node, "notify names schedule '\(name)', which oncall.schedules does not have")
                return nil
            }
            return .onCall(name)
        }
        if text.hasPrefix("user:") {
            let name = String(text.dropFirst(5))
            guard users.contains(name) else {
                reader.report(node, "notify names user '\(name)', who is not under users")
                return nil
            }
            return .user(name)
        }
        if text.hasPrefix("room:") {
            let room = String(text.dropFirst(5))
            let parts = room.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, alerts.platforms.contains(String(parts[0])) else {
                reader.report(node, "notify '\(text)' must name a room on a configured platform, as room:irc:#ops")
                return nil
            }
            return .room(room)
        }
        reader.report(
            node,
            "notify '\(text)' is not a target; write oncall:SCHEDULE, user:NAME, room:PLATFORM:ROOM, pagerduty, opsgenie or webhook"
        )
        return nil
    }
}
