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
/// Nothing is dropped from the store. The budgets and the summaries are kept in the store, so
/// replicas behind a load balancer share them: a room gets `room_rate` messages a minute however the
/// webhooks are spread, and one summary, which every replica's folded alerts update.
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
        try await page(records)
        return Ingested(stored: records.count, firing: firing, resolved: alerts.count - firing)
    }

    /// A route with `page:` pages its policy when its alert starts firing (a new alert, or one that
    /// fires again after it resolved; repeats of a firing alert page nothing more), and resolves the
    /// page when the alert resolves. The page is recorded before the source is answered; its
    /// levels are paged and providers told in the background (and by the sweep every few seconds).
    private func page(_ records: [AlertRecord]) async throws {
        var opened = false
        let now = Date()
        for record in records {
            let labels = record.labels.merging(["source": record.source]) { label, _ in label }
            guard
                let route = settings.routes.first(where: { route in
                    route.page != nil && route.matchers.allSatisfy { $0.matches(labels) }
                }), let policy = route.page
            else { continue }
            let key = "alert:\(record.fingerprint)"
            if record.status == .resolved {
                guard
                    let page = try await engine.store.settlePage(
                        key: key, status: .resolved, by: record.source, at: now)
                else { continue }
                let pager = engine.pager
                Task { await pager.settled(page, by: record.source) }
            } else if record.firstSeen == record.lastSeen, record.acknowledgedBy == nil {
                let summary =
                    "alert #\(record.id ?? 0) \(record.alert.name)"
                    + (record.annotations["summary"].map { ": \($0)" } ?? "")
                let page = PageRecord(
                    key: key, policy: policy, summary: engine.vault.masker.mask(summary), room: route.rooms.first,
                    nextAt: now, createdAt: now)
                opened = try await engine.store.openPage(page).isNew || opened
            }
        }
        if opened {
            let engine = self.engine
            let logger = self.logger
            Task {
                do {
                    try await engine.escalatePages()
                } catch {
                    logger.warning("cannot page for alerts: \(error)")
                }
            }
        }
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
        /// Notifications counted here and not yet added to the store's count (every replica adds its own).
        var uncounted = 0
    }

    /// What this replica knows of a room's summary (the store's `AlertStorm` is the shared one).
    struct Summary {
        var reference: String?
        /// This replica posted it.
        var posted = false
        var since: Date
        /// Alerts folded into the summary, by fingerprint, with their names.
        var folded: [String: String] = [:]
        var dirty = false
    }

    private var shown: [String: Shown] = [:]
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
                existing.uncounted += 1
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
            // Another replica may have this alert this moment: the one whose claim holds decides
            // whether it is posted or folded, the other counts it.
            let record = AlertMessageRecord(
                fingerprint: alert.fingerprint, room: room, messageRef: nil, postedAt: now, count: 1,
                status: alert.status)
            let window = Duration.seconds(settings.groupWindowSeconds)
            if (try? await store.claimAlertMessage(record, window: window)) == false,
                var posted = await loadShown(room: room, alert: alert, template: template)
            {
                posted.statusChanged = posted.record.status != alert.status
                posted.record.count += 1
                posted.record.status = alert.status
                posted.uncounted = 1
                posted.dirty = true
                shown[key] = posted
                continue
            }
            if await spend(room, now: now) {
                await post(record, alert, template: template, key: key)
            } else {
                // Not shown on its own after all: the claim goes, the summary takes it.
                try? await store.releaseAlertMessage(
                    fingerprint: alert.fingerprint, room: room, postedAt: now)
                var summary = summaries[room] ?? Summary(since: now)
                summary.folded[alert.fingerprint] = alert.name
                summary.dirty = true
                // Folded where every replica folds; the local copy stands in when the store fails.
                let stormWindow = Duration.seconds(max(settings.groupWindowSeconds, 60))
                if let storm = try? await store.foldAlert(
                    room: room, fingerprint: alert.fingerprint, name: alert.name, at: now, window: stormWindow)
                {
                    if storm.since != summary.since { summary = Summary(since: storm.since, dirty: true) }
                    summary.folded.merge(storm.folded) { _, shared in shared }
                }
                summaries[room] = summary
            }
        }
    }

    private func loadShown(room: String, alert: Alert, template: TextTemplate?) async -> Shown? {
        guard let record = try? await store.alertMessage(fingerprint: alert.fingerprint, room: room) else { return nil }
        return Shown(record: record, alert: alert, template: template)
    }

    /// Takes one message from the room's budget for the last minute, counted in the store across
    /// replicas; false when it is spent. A store that cannot count lets the message through: an
    /// alert shown twice is better than one not shown.
    private func spend(_ room: String, now: Date) async -> Bool {
        let wait = try? await store.admitHit(
            key: "alert-room:" + room, limit: settings.roomMessagesPerMinute, window: .seconds(60), at: now)
        return wait == nil
    }

    /// Posts an alert's first message in a room (its record claimed in the store) and records its id.
    private func post(_ claimed: AlertMessageRecord, _ alert: Alert, template: TextTemplate?, key: String) async {
        var record = claimed
        do {
            record.messageRef = try await messenger.send(
                Self.reply(alert, count: 1, template: template), to: record.room, thread: nil)
        } catch {
            logger.warning("cannot post alert \(alert.name) to \(record.room): \(error)")
        }
        // Counted meanwhile here are kept; the store has the claim's count, and now the message's id.
        let counted = shown[key]
        shown[key] = Shown(record: record, alert: alert, template: template)
        if let counted, counted.uncounted > 0 {
            shown[key]?.uncounted = counted.uncounted
            shown[key]?.record.count += counted.uncounted
            shown[key]?.dirty = true
        }
        try? await store.setAlertMessageReference(
            fingerprint: record.fingerprint, room: record.room, postedAt: record.postedAt,
            messageRef: record.messageRef)
    }

    private func publishEdits() async {
        for (key, var item) in shown where item.dirty {
            shown[key]?.dirty = false
            shown[key]?.statusChanged = false
            shown[key]?.uncounted = 0
            // Added to the store's count, which every replica adds its own to; shown as it stands there.
            if let stored = try? await store.countAlertMessage(
                fingerprint: item.record.fingerprint, room: item.record.room, adding: item.uncounted,
                status: item.record.status)
            {
                item.record = stored
                let since = shown[key]?.uncounted ?? 0
                shown[key]?.record.count = stored.count + since
                shown[key]?.record.messageRef = stored.messageRef
            } else {
                // The store did not take the count: kept, and tried again at the next edit.
                shown[key]?.uncounted += item.uncounted
                shown[key]?.dirty = true
            }
            let reply = Self.reply(item.alert, count: item.record.count, template: item.template)
            var edited = false
            if let reference = item.record.messageRef {
                edited = (try? await messenger.edit(reference, in: item.record.room, with: reply)) ?? false
            }
            // Where messages cannot be edited, a change of status is still news; a count is not.
            if !edited, item.statusChanged {
                _ = try? await messenger.send(reply, to: item.record.room, thread: item.record.messageRef)
            }
        }
        for (room, local) in summaries where local.dirty {
            summaries[room]?.dirty = false
            // The shared storm holds every replica's folded alerts and the one message showing them.
            let stored = try? await store.alertStorm(room: room)
            let storm = stored.flatMap { $0.since == local.since ? $0 : nil }
            let reply = Self.summaryReply(storm?.folded ?? local.folded)
            if let reference = storm?.messageRef ?? local.reference,
                (try? await messenger.edit(reference, in: room, with: reply)) == true
            {
                continue
            }
            guard let storm else {
                // The store did not answer: this replica's own summary, as a single process keeps it.
                if !local.posted || local.reference == nil {
                    summaries[room]?.posted = true
                    summaries[room]?.reference = try? await messenger.send(reply, to: room, thread: nil)
                }
                continue
            }
            if !storm.posted {
                guard (try? await store.claimAlertStormPost(room: room, since: storm.since)) == true else {
                    // Another replica is posting it: once its id is known, this one's alerts edit it in.
                    summaries[room]?.dirty = true
                    continue
                }
            } else if storm.messageRef != nil || !local.posted {
                // Its message could not be edited, or another replica posts it where nothing can be.
                continue
            }
            // Posted by this replica: the first time, or again where messages cannot be edited (the
            // news is then a new line, as a single process does it).
            let reference = try? await messenger.send(reply, to: room, thread: nil)
            summaries[room]?.posted = true
            summaries[room]?.reference = reference
            try? await store.setAlertStormMessage(room: room, since: storm.since, messageRef: reference)
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
