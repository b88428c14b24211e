import Foundation
import ParleyCore
import ParleyStore

extension Engine {
    /// The firing or resolved alert of `fingerprint`, as the store has it.
    public func alertRecord(fingerprint: String) async throws -> AlertRecord? {
        try await store.alerts(AlertQuery(limit: 1000)).first { $0.fingerprint == fingerprint }
    }

    /// Records that `by` took alert `id`.
    public func acknowledgeAlert(_ id: Int64, by: String) async throws -> AlertRecord? {
        try await store.acknowledgeAlert(id: id, by: by, note: nil, at: Date())
    }

    /// The incident numbered `number`, as the store has it.
    public func incidentRecord(_ number: Int64) async throws -> Incident? {
        try await store.incident(number: number)
    }

    /// Reminds open incidents whose status update is due, by their severity's cadence: at one
    /// interval since the last update the comms role (or the commander, when nobody holds comms) is
    /// reminded in the incident's room; at two, the reminder goes to the commander as overdue. Each
    /// reminder is claimed in the store first, so replicas that look at once send it once; an
    /// update starts the count again. Returns the reminders sent.
    @discardableResult
    public func remindIncidents(now: Date = Date()) async throws -> [String] {
        let settings = config.incidents
        guard settings.severities.contains(where: { $0.updateEverySeconds != nil }) else { return [] }
        var sent: [String] = []
        for incident in try await store.incidents(IncidentQuery(openOnly: true, limit: 500)) {
            guard let number = incident.number, let every = settings.severity(incident.severity)?.updateEverySeconds
            else { continue }
            let since = now.timeIntervalSince(incident.lastUpdateAt)
            let level = incident.reminders + 1
            guard level <= 2, since >= Double(every * level) else { continue }
            let cutoff = now.addingTimeInterval(-Double(every * level))
            guard try await store.claimIncidentReminder(number: number, level: level, updatedBefore: cutoff) else {
                continue
            }
            let commander = incident.roles["commander"] ?? "nobody (assign one: `incident assign commander NAME`)"
            let comms = incident.roles["comms"]
            let ago = IncidentViews.span(since)
            let text =
                level == 1
                ? "⏰ \(incident.name) (\(incident.severity)): a status update for the stakeholders is due (the last was \(ago) ago). \(comms.map { "comms \($0)" } ?? "commander \(commander)"): `incident update TEXT`"
                : "⏰ \(incident.name) (\(incident.severity)): the status update is overdue (\(ago) since the last). Commander \(commander): post one with `incident update TEXT`, or hand comms to someone who can"
            _ = try await store.addIncidentEvent(
                IncidentEvent(
                    incident: number, at: now, actor: "parley", kind: .reminder,
                    text: level == 1
                        ? "update due: reminded \(comms ?? commander)" : "update overdue: reminded \(commander)"))
            if let messenger = messengerSlot.messenger {
                do {
                    _ = try await messenger.send(.text(text), to: incident.workRoom, thread: nil)
                } catch {
                    logger.warning("cannot remind \(incident.workRoom) about \(incident.name): \(error)")
                }
            }
            sent.append(text)
        }
        return sent
    }
}
