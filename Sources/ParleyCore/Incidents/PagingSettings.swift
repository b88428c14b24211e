/// Where pages go and how they escalate: the providers (PagerDuty Events API v2, Opsgenie, a
/// signed webhook) and the escalation policies that name them, level by level.
public struct PagingSettings: Sendable, Equatable {
    public var pagerDuty: PagerDutySettings?
    public var opsgenie: OpsgenieSettings?
    public var webhook: PageWebhookSettings?
    /// Escalation policies by name.
    public var policies: [EscalationPolicy] = []

    /// Creates settings with no provider and no policy.
    public init() {}

    /// The policy named `name`.
    public func policy(_ name: String) -> EscalationPolicy? { policies.first { $0.name == name } }
}

/// PagerDuty's Events API v2 (paging out) and its v3 webhooks (acknowledgements coming back).
public struct PagerDutySettings: Sendable, Equatable {
    /// The integration's routing key.
    public var routingKey: SecretSource
    /// The Events API's base URL.
    public var url = "https://events.pagerduty.com"
    /// The webhook subscription's signing secrets (several while one is being rotated).
    public var webhookSecrets: [SecretSource] = []

    public init(routingKey: SecretSource) { self.routingKey = routingKey }
}

/// Opsgenie's Alert API.
public struct OpsgenieSettings: Sendable, Equatable {
    public var apiKey: SecretSource
    public var url = "https://api.opsgenie.com"

    public init(apiKey: SecretSource) { self.apiKey = apiKey }
}

/// A webhook told of every page, signed with HMAC-SHA256 (`X-Parley-Signature: sha256=…`).
public struct PageWebhookSettings: Sendable, Equatable {
    public var url: String
    public var secret: SecretSource

    public init(url: String, secret: SecretSource) {
        self.url = url
        self.secret = secret
    }
}

/// Who is paged, level after level, until someone acknowledges.
public struct EscalationPolicy: Sendable, Equatable {
    public var name: String
    public var levels: [EscalationLevel]
    /// How many times the levels run again after the last one went unanswered.
    public var repeats = 0

    public init(name: String, levels: [EscalationLevel], repeats: Int = 0) {
        self.name = name
        self.levels = levels
        self.repeats = repeats
    }
}

/// One level: whom it pages, and how long it waits for an acknowledgement before the next.
public struct EscalationLevel: Sendable, Equatable {
    public var targets: [PageTarget]
    public var waitSeconds: Int

    public init(targets: [PageTarget], waitSeconds: Int) {
        self.targets = targets
        self.waitSeconds = waitSeconds
    }
}

/// Whom or where a level pages.
public enum PageTarget: Sendable, Equatable, CustomStringConvertible {
    /// Whoever a schedule has on call.
    case onCall(String)
    /// A Parley user.
    case user(String)
    /// A chat room (`platform:room`), told of the page with the people it pages.
    case room(String)
    case pagerDuty, opsgenie, webhook

    public var description: String {
        switch self {
        case .onCall(let schedule): return "oncall:\(schedule)"
        case .user(let name): return "user:\(name)"
        case .room(let room): return "room:\(room)"
        case .pagerDuty: return "pagerduty"
        case .opsgenie: return "opsgenie"
        case .webhook: return "webhook"
        }
    }
}
