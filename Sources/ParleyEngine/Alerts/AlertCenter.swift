import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Alerts from every source: stored before the source is answered, routed to rooms without drowning
/// them, and handed to automations.
///
/// Noise control: notifications of one alert within the group window update its message with a count
/// instead of posting again; each room gets at most `room_rate` new alert messages a minute, and the
/// alerts beyond that are folded into one summary message per room ("+57 more firing: HighCPU ×40 …").
/// Nothing is dropped from the store.
public final class AlertCenter: Sendable {
    let engine: Engine
    let settings: AlertSettings
    let notifier: AlertNotifier
    let automations: AlertAutomations
    let logger: Logger

    /// Creates the center for an engine, posting through `messenger`.
    public init(engine: Engine, messenger: any RoomMessenger, logger: Logger = Logger(label: "parley.alerts")) {
        self.engine = engine
        self.settings = engine.config.alerts
        self.logger = logger
        notifier = AlertNotifier(
            settings: engine.config.alerts, store: engine.store, messenger: messenger, logger: logger)
        automations = AlertAutomations(engine: engine, messenger: messenger, logger: logger)
    }

    /// What a delivery did.
    public struct Ingested: Sendable, Equatable {
        public var stored: Int
        public var firing: Int
        public var resolved: Int
    }

    /// Stores a delivery's alerts (durably, with one audit entry) and starts notifying; returns once
    /// everything is on disk, before any room is posted to.
    public func ingest(_ alerts: [Alert], from source: String) async throws -> Ingested {
        guard !alerts.isEmpty else { return Ingested(stored: 0, firing: 0, resolved: 0) }
        let firing = alerts.filter { $0.status == .firing }.count
        let names = Dictionary(grouping: alerts, by: \.name).map { "\($0.key)×\($0.value.count)" }.sorted()
        let draft = AuditDraft(
            kind: .alertReceived, actor: "source:\(source)", identity: "source:\(source)", room: "",
            command: "alert", outcome: "\(firing) firing, \(alerts.count - firing) resolved",
            detail: names.prefix(20).joined(separator: ", "))
        // The alerts and the entry telling of them are one commit, shared with concurrent deliveries.
        let records = try await engine.audit.commit(AuditCommit(drafts: [draft], alerts: alerts)).alerts
        await notifier.enqueue(records)
        automations.consider(records, rules: settings.automations)
        return Ingested(stored: records.count, firing: firing, resolved: alerts.count - firing)
    }

    /// Waits until every notification enqueued so far has been posted or folded, and every command
    /// a rule started for an alert has finished (for tests and stops).
    public func settle() async {
        await automations.settle()
        await notifier.flush()
    }

    /// Runs the notifier's edit loop until cancelled.
    public func run() async {
        await notifier.run()
    }
}

/// Decides what each room sees, and posts it.
/// Its fields are the routing settings and the noise-control state (what each room shows, budgets, summaries)
/// one actor keeps consistent.
actor AlertNotifier {
    let settings: AlertSettings
    let store: any ParleyStorage
    let messenger: any RoomMessenger
    let logger: Logger

    struct Shown {
        var record: AlertMessageRecord
        var alert: Alert
        var template: TextTemplate?
        var dirty = false
        var statusChanged = false
    }

    struct Summary {
        var reference: String?
        var posted = false
        var since: Date
        /// Alerts folded into the summary, by fingerprint, with their names.
        var folded: [String: String] = [:]
        var dirty = false
    }

    private var shown: [String: Shown] = [:]
    private var budget: [String: [Date]] = [:]
    private var summaries: [String: Summary] = [:]
    private var pending: [AlertRecord] = []
    private var working = false

    init(settings: AlertSettings, store: any ParleyStorage, messenger: any RoomMessenger, logger: Logger) {
        self.settings = settings
        self.store = store
        self.messenger = messenger
        self.logger = logger
    }

    /// Queues records for the rooms and returns at once: posting to a platform never holds up the
    /// webhook that delivered the alert.
    func enqueue(_ records: [AlertRecord]) {
        pending += records
        guard !working else { return }
        working = true
        Task { await drain() }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            for record in batch { await route(record) }
        }
        working = false
    }

    /// Posts pending edits now.
    func flush() async {
        while working || !pending.isEmpty { await Task.yield() }
        await publishEdits()
    }

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await publishEdits()
        }
    }

    /// The rooms and template for an alert: the routes that match, or the default rooms.
    func destinations(_ alert: Alert) -> [(room: String, template: TextTemplate?)] {
        var labels = alert.labels
        labels["source"] = labels["source"] ?? alert.source
        var found: [(String, TextTemplate?)] = []
        for route in settings.routes where route.matchers.allSatisfy({ $0.matches(labels) }) {
            found += route.rooms.map { ($0, route.template) }
            if !route.continues { break }
        }
        if found.isEmpty { found = settings.defaultRooms.map { ($0, nil) } }
        var seen = Set<String>()
        return found.filter { seen.insert($0.0).inserted }
    }

    private func route(_ record: AlertRecord) async {
        let alert = record.alert
        let now = Date()
        for (room, template) in destinations(alert) {
            let key = room + "\u{1F}" + alert.fingerprint
            if shown[key] == nil, let stored = await loadShown(room: room, alert: alert, template: template) {
                shown[key] = stored
            }
            if var existing = shown[key],
                now.timeIntervalSince(existing.record.postedAt) < Double(settings.groupWindowSeconds)
                    || existing.record.status != alert.status
            {
                existing.statusChanged = existing.statusChanged || existing.record.status != alert.status
                existing.record.count += 1
                existing.record.status = alert.status
                existing.alert = alert
                existing.dirty = true
                shown[key] = existing
                continue
            }
            if var summary = summaries[room], summary.folded[alert.fingerprint] != nil {
                summary.folded[alert.fingerprint] = alert.name
                summaries[room] = summary
                continue
            }
            if spend(room, now: now) {
                await post(alert, room: room, template: template, key: key, now: now)
            } else {
                var summary = summaries[room] ?? Summary(since: now)
                summary.folded[alert.fingerprint] = alert.name
                summary.dirty = true
                summaries[room] = summary
            }
        }
    }

    private func loadShown(room: String, alert: Alert, template: TextTemplate?) async -> Shown? {
        guard let record = try? await store.alertMessage(fingerprint: alert.fingerprint, room: room) else { return nil }
        return Shown(record: record, alert: alert, template: template)
    }

    /// Takes one message from the room's budget for the last minute; false when it is spent.
    private func spend(_ room: String, now: Date) -> Bool {
        var times = budget[room, default: []].filter { now.timeIntervalSince($0) < 60 }
        guard times.count < settings.roomMessagesPerMinute else {
            budget[room] = times
            return false
        }
        times.append(now)
        budget[room] = times
        return true
    }

    private func post(_ alert: Alert, room: String, template: TextTemplate?, key: String, now: Date) async {
        var record = AlertMessageRecord(
            fingerprint: alert.fingerprint, room: room, messageRef: nil, postedAt: now, count: 1, status: alert.status)
        do {
            record.messageRef = try await messenger.send(
                Self.reply(alert, count: 1, template: template), to: room, thread: nil)
        } catch {
            logger.warning("cannot post alert \(alert.name) to \(room): \(error)")
        }
        shown[key] = Shown(record: record, alert: alert, template: template)
        try? await store.saveAlertMessage(record)
    }

    private func publishEdits() async {
        for (key, item) in shown where item.dirty {
            shown[key]?.dirty = false
            shown[key]?.statusChanged = false
            let reply = Self.reply(item.alert, count: item.record.count, template: item.template)
            var edited = false
            if let reference = item.record.messageRef {
                edited = (try? await messenger.edit(reference, in: item.record.room, with: reply)) ?? false
            }
            // Where messages cannot be edited, a change of status is still news; a count is not.
            if !edited, item.statusChanged {
                _ = try? await messenger.send(reply, to: item.record.room, thread: item.record.messageRef)
            }
            try? await store.saveAlertMessage(item.record)
        }
        for (room, summary) in summaries where summary.dirty {
            summaries[room]?.dirty = false
            let reply = Self.summaryReply(summary.folded)
            if let reference = summary.reference,
                (try? await messenger.edit(reference, in: room, with: reply)) == true
            {
                continue
            }
            if !summary.posted || summary.reference == nil {
                summaries[room]?.posted = true
                summaries[room]?.reference = try? await messenger.send(reply, to: room, thread: nil)
            }
        }
        // A summary covers one storm: after a quiet group window, a room starts afresh.
        let now = Date()
        // An alert posted longer than a group window ago, with nothing left to publish, is left to the
        // store (`loadShown` brings it back): the map holds only recent alerts, however many come and go.
        let window = Double(settings.groupWindowSeconds)
        shown = shown.filter { $0.value.dirty || now.timeIntervalSince($0.value.record.postedAt) < window }
        for (room, summary) in summaries
        where now.timeIntervalSince(summary.since) > Double(max(settings.groupWindowSeconds, 60)) && !summary.dirty {
            summaries[room] = nil
        }
    }

    static func reply(_ alert: Alert, count: Int, template: TextTemplate?) -> Reply {
        let context: [String: Any] = [
            "labels": alert.labels, "annotations": alert.annotations, "status": alert.status.rawValue,
            "firing": alert.status == .firing, "source": alert.source, "fingerprint": alert.fingerprint,
            "url": alert.url ?? "", "count": count,
        ]
        let fallback = try? TextTemplate(AlertSettings.defaultTemplate)
        var text = (template ?? fallback)?.render(context) ?? alert.name
        if count > 1 { text += " (×\(count))" }
        if let url = alert.url { text += "\n\(url)" }
        return Reply.text(text)
    }

    static func summaryReply(_ folded: [String: String]) -> Reply {
        let byName = Dictionary(grouping: folded.values, by: { $0 }).mapValues(\.count)
        let parts = byName.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) ×\($0.value)" }
        return Reply.text("+\(folded.count) more firing: " + parts.joined(separator: ", "))
    }
}
