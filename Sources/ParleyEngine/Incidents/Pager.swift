import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import ParleyCore
import ParleyStore

/// Pages people through escalation policies: a page pages its policy's first level at once, and
/// each following level when the one before went unacknowledged for its wait, then the levels
/// again as many times as the policy repeats. The timers live in the store (`PageStore`), so they
/// survive a restart and the replica that set them; each step is claimed there, so replicas that
/// look at once page a level once. Providers are told with the page's key as their dedupe key
/// (PagerDuty `dedup_key`, Opsgenie `alias`), so a retried request never pages twice.
struct Pager: Sendable {
    let settings: PagingSettings
    let oncall: OnCallSettings
    let directory: Directory
    let store: any ParleyStorage
    let environment: [String: String]
    let masker: SecretMasker
    let logger: Logger
    let client: PlatformClient

    init(
        settings: PagingSettings, oncall: OnCallSettings, directory: Directory, store: any ParleyStorage,
        environment: [String: String], masker: SecretMasker, logger: Logger
    ) {
        self.settings = settings
        self.oncall = oncall
        self.directory = directory
        self.store = store
        self.environment = environment
        self.masker = masker
        self.logger = logger
        client = PlatformClient(name: "paging", logger: logger)
    }

    /// The policy a page escalates through: a configured one, or `user:NAME` for a page to one person
    /// (three times, five minutes apart).
    func policy(_ name: String) -> EscalationPolicy? {
        if name.hasPrefix("user:") {
            return EscalationPolicy(
                name: name, levels: [EscalationLevel(targets: [.user(String(name.dropFirst(5)))], waitSeconds: 300)],
                repeats: 2)
        }
        return settings.policy(name)
    }

    /// Pages what is due by `now`; returns what was said in chat, one line per level paged.
    func escalate(now: Date, messenger: (any RoomMessenger)?) async throws -> [String] {
        var said: [String] = []
        for page in try await store.duePages(at: now, limit: 100) {
            guard let id = page.id, let policy = policy(page.policy), !policy.levels.isEmpty else { continue }
            var next = (level: page.level + 1, round: page.round)
            if next.level >= policy.levels.count { next = (0, page.round + 1) }
            if next.round > policy.repeats {
                guard
                    try await store.advancePage(
                        id: id, from: (page.level, page.round), to: (page.level, page.round), nextAt: nil,
                        status: .exhausted, at: now)
                else { continue }
                let text = "⚠️ Page #\(id) went unanswered through every level of \(policy.name): \(page.summary)"
                await tell(text, rooms: [page.room].compactMap { $0 }, messenger: messenger)
                said.append(text)
                continue
            }
            let level = policy.levels[next.level]
            guard
                try await store.advancePage(
                    id: id, from: (page.level, page.round), to: next,
                    nextAt: now.addingTimeInterval(Double(level.waitSeconds)), status: .open, at: now)
            else { continue }
            said.append(
                await notify(page, id: id, level: level, number: next, of: policy, now: now, messenger: messenger))
        }
        return said
    }

    /// Pages one level's targets; returns the line said in chat.
    private func notify(
        _ page: PageRecord, id: Int64, level: EscalationLevel, number: (level: Int, round: Int),
        of policy: EscalationPolicy, now: Date, messenger: (any RoomMessenger)?
    ) async -> String {
        var people: [String] = []
        var paged: [String] = []
        var rooms = [page.room].compactMap { $0 }
        var providers: [String] = []
        for target in level.targets {
            switch target {
            case .user(let name):
                people.append(name)
                paged.append(name)
            case .onCall(let name):
                guard let schedule = oncall.schedule(named: name) else { continue }
                let overrides =
                    (try? await store.overrides(schedule: name, endingAfter: now).map(\.override)) ?? []
                let person = schedule.onCall(at: now, overrides: overrides)
                if let person { paged.append(person) }
                people.append(person.map { "\($0) (on call for \(name))" } ?? "nobody on call for \(name)")
            case .room(let room): if !rooms.contains(room) { rooms.append(room) }
            case .pagerDuty:
                providers.append(await send("PagerDuty") { try await pagerDuty("trigger", page) })
            case .opsgenie:
                providers.append(await send("Opsgenie") { try await opsgenie(create: page) })
            case .webhook:
                providers.append(await send("the webhook") { try await webhook("page", page, level: number.level) })
            }
        }
        let round = number.round > 0 ? ", again (\(number.round + 1) of \(policy.repeats + 1))" : ""
        var text = "📟 Page #\(id), level \(number.level + 1) of \(policy.name)\(round): \(page.summary)"
        if !people.isEmpty { text += " — paging \(people.joined(separator: ", "))" }
        if !providers.isEmpty { text += " · \(providers.joined(separator: ", "))" }
        text += ". `page ack \(id)` to take it."
        await tell(text, rooms: rooms, messenger: messenger)
        await direct(paged, text, messenger: messenger)
        return text
    }

    /// Opens a page unless one is open for its key, and pages its first level at once.
    func open(key: String, policy: String, summary: String, room: String?, now: Date, messenger: (any RoomMessenger)?)
        async throws -> PageRecord
    {
        let opened = try await store.openPage(
            PageRecord(key: key, policy: policy, summary: masker.mask(summary), room: room, nextAt: now, createdAt: now)
        )
        if opened.isNew { _ = try await escalate(now: now, messenger: messenger) }
        return try await store.page(id: opened.page.id ?? 0) ?? opened.page
    }

    /// Settles the open page of `key` and tells its providers; nil when none was open.
    func settle(key: String, status: PageStatus, by: String, now: Date, skipping: PageTarget? = nil) async throws
        -> PageRecord?
    {
        guard let page = try await store.settlePage(key: key, status: status, by: by, at: now) else { return nil }
        await settled(page, by: by, skipping: skipping)
        try await record(page, by: by, now: now)
        return page
    }

    /// What a page's settling means for what it was about: taking an alert's page takes the alert
    /// (when nobody has yet), and an incident's page settling is a line of its timeline.
    private func record(_ page: PageRecord, by: String, now: Date) async throws {
        if page.key.hasPrefix("alert:"), page.status == .acknowledged {
            let fingerprint = String(page.key.dropFirst(6))
            let firing = try await store.alerts(AlertQuery(status: .firing, limit: 1000))
            if let alert = firing.first(where: { $0.fingerprint == fingerprint }), alert.acknowledgedBy == nil,
                let id = alert.id
            {
                _ = try await store.acknowledgeAlert(id: id, by: by, note: "took page \(page.id ?? 0)", at: now)
            }
        } else if page.key.hasPrefix("incident:"), let number = Int64(page.key.dropFirst(9)) {
            _ = try await store.addIncidentEvent(
                IncidentEvent(
                    incident: number, at: now, actor: by, kind: .status,
                    text: "page \(page.id ?? 0) \(page.status.rawValue) by \(by)"))
        }
    }

    /// Tells the providers that paged for it that the page was acknowledged or resolved.
    func settled(_ page: PageRecord, by: String, skipping: PageTarget? = nil) async {
        guard let policy = policy(page.policy) else { return }
        var targets = Set(policy.levels.flatMap(\.targets).map(\.description))
        if let skipping { targets.remove(skipping.description) }
        let action = page.status == .resolved ? "resolve" : "acknowledge"
        if targets.contains("pagerduty") { _ = await send("PagerDuty") { try await pagerDuty(action, page) } }
        if targets.contains("opsgenie") {
            _ = await send("Opsgenie") { try await opsgenie(settle: page, close: page.status == .resolved, by: by) }
        }
        if targets.contains("webhook") {
            _ = await send("the webhook") { try await webhook(action, page, level: page.level) }
        }
    }

    /// Writes to each paged person directly, on every platform they are known on where Parley can.
    private func direct(_ people: [String], _ text: String, messenger: (any RoomMessenger)?) async {
        guard let messenger else { return }
        for name in Set(people) {
            for identity in directory.users[name]?.identities ?? [] where !identity.id.contains("*") {
                do {
                    guard let room = try await messenger.directRoom(platform: identity.platform, user: identity.id)
                    else { continue }
                    _ = try await messenger.send(.text(masker.mask(text)), to: room, thread: nil)
                } catch {
                    logger.warning("cannot write to \(name) on \(identity.platform): \(error)")
                }
            }
        }
    }

    private func tell(_ text: String, rooms: [String], messenger: (any RoomMessenger)?) async {
        guard let messenger else { return }
        for room in rooms {
            do {
                _ = try await messenger.send(.text(masker.mask(text)), to: room, thread: nil)
            } catch {
                logger.warning("cannot post page to \(room): \(error)")
            }
        }
    }

    /// Runs one provider call; says how it went, in a few words.
    private func send(_ name: String, _ call: () async throws -> Void) async -> String {
        do {
            try await call()
            return "\(name) paged"
        } catch {
            logger.warning("cannot page through \(name): \(masker.mask("\(error)"))")
            return "\(name) failed: \(masker.mask("\(error)"))"
        }
    }

    private func secret(_ source: SecretSource) throws -> String {
        switch source.resolve(environment: environment) {
        case .success(let value): return value
        case .failure(let error): throw PagingError(error.message)
        }
    }

    private func post(_ url: String, _ body: JSON, headers: [(String, String)], idempotent: Bool) async throws
        -> PlatformClient.Response
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body.encoded))
        let response = try await client.send(request, timeout: .seconds(10), upTo: 1 << 20, idempotent: idempotent)
        guard (200..<300).contains(response.status) else {
            throw PagingError("HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return response
    }

    /// PagerDuty Events API v2: `trigger`, `acknowledge` or `resolve`, deduplicated on the page's key.
    private func pagerDuty(_ action: String, _ page: PageRecord) async throws {
        guard let pd = settings.pagerDuty else { throw PagingError("paging.pagerduty is not configured") }
        var body: [String: JSON] = [
            "routing_key": .string(try secret(pd.routingKey)), "event_action": .string(action),
            "dedup_key": .string(String(page.key.prefix(255))),
        ]
        if action == "trigger" {
            body["payload"] = [
                "summary": .string(String(masker.mask(page.summary).prefix(1024))), "source": "parley",
                "severity": "critical",
                "custom_details": ["page": .number(Double(page.id ?? 0)), "policy": .string(page.policy)],
            ]
            body["client"] = "Parley"
        }
        // The dedup key makes a second send of the same event harmless: tried again on a server error too.
        _ = try await post(pd.url + "/v2/enqueue", .object(body), headers: [], idempotent: true)
    }

    /// Opsgenie's Alert API: a new alert under the page's key as its alias.
    private func opsgenie(create page: PageRecord) async throws {
        guard let og = settings.opsgenie else { throw PagingError("paging.opsgenie is not configured") }
        let body: JSON = [
            "message": .string(String(masker.mask(page.summary).prefix(130))),
            "alias": .string(String(page.key.prefix(512))),
            "description": .string(String(masker.mask(page.summary).prefix(15000))), "priority": "P1",
            "source": "Parley",
        ]
        _ = try await post(
            og.url + "/v2/alerts", body, headers: [("Authorization", "GenieKey \(try secret(og.apiKey))")],
            idempotent: true)
    }

    private func opsgenie(settle page: PageRecord, close: Bool, by: String) async throws {
        guard let og = settings.opsgenie else { throw PagingError("paging.opsgenie is not configured") }
        let alias = page.key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let body: JSON = [
            "user": .string(by), "source": "Parley",
            "note": .string(close ? "resolved in Parley" : "acknowledged in Parley"),
        ]
        _ = try await post(
            og.url + "/v2/alerts/\(alias)/\(close ? "close" : "acknowledge")?identifierType=alias", body,
            headers: [("Authorization", "GenieKey \(try secret(og.apiKey))")], idempotent: true)
    }

    /// The signed webhook: `X-Parley-Timestamp` and `X-Parley-Signature: sha256=HMAC(secret, "TIMESTAMP." + body)`,
    /// as Parley's own generic hooks check them.
    private func webhook(_ event: String, _ page: PageRecord, level: Int) async throws {
        guard let hook = settings.webhook else { throw PagingError("paging.webhook is not configured") }
        let body: JSON = [
            "event": .string(event), "key": .string(page.key), "page": .number(Double(page.id ?? 0)),
            "policy": .string(page.policy), "level": .number(Double(level + 1)),
            "summary": .string(masker.mask(page.summary)), "status": .string(page.status.rawValue),
        ]
        let bytes = body.encoded
        let stamp = String(Int(Date().timeIntervalSince1970))
        let key = SymmetricKey(data: Array(try secret(hook.secret).utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(stamp).".utf8) + bytes, using: key)
        var request = HTTPClientRequest(url: hook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Parley-Timestamp", value: stamp)
        request.headers.add(name: "X-Parley-Signature", value: "sha256=" + HexDigest.hex(mac))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await client.send(request, timeout: .seconds(10), upTo: 1 << 20, idempotent: true)
        guard (200..<300).contains(response.status) else { throw PagingError("HTTP \(response.status)") }
    }
}

/// Why a provider could not be paged.
struct PagingError: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

extension Engine {
    /// Opens a page through `policy` (an escalation policy, or `user:NAME`), unless one is open for
    /// `key` already, and pages its first level at once. Returns the page.
    @discardableResult
    public func page(key: String, policy: String, summary: String, room: String?, now: Date = Date()) async throws
        -> PageRecord
    {
        try await pager.open(
            key: key, policy: policy, summary: summary, room: room, now: now, messenger: messengerSlot.messenger)
    }

    /// Pages every level that is due by `now` (call every few seconds); returns what was said.
    @discardableResult
    public func escalatePages(now: Date = Date()) async throws -> [String] {
        try await pager.escalate(now: now, messenger: messengerSlot.messenger)
    }

    /// Acknowledges or resolves the open page of `key`, which stops its escalation, and tells the
    /// providers it paged; nil when no page was open for it.
    @discardableResult
    /// `skipping` is the provider the news came from, which is not told again.
    public func settlePage(
        key: String, status: PageStatus, by: String, now: Date = Date(), skipping: PageTarget? = nil
    ) async throws -> PageRecord? {
        try await pager.settle(key: key, status: status, by: by, now: now, skipping: skipping)
    }
}
