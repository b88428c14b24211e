import Foundation
import ParleyCore
import ParleyStore

/// How incidents read in chat, on the web and in the postmortem: one wording everywhere.
public enum IncidentViews {
    /// `2026-12-08 14:05` (UTC).
    public static func clock(_ date: Date) -> String {
        let text = AuditClock.format(date)
        return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// `2h 05m`, `12m`, `40s`.
    public static func span(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "0s" }
        let total = Int(min(seconds, 100 * 365 * 86400))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m" }
        if total < 86400 { return "\(total / 3600)h \(String(format: "%02d", total % 3600 / 60))m" }
        return "\(total / 86400)d \(total % 86400 / 3600)h"
    }

    /// The incident's facts as fields.
    static func fields(_ incident: Incident, alerts: [AlertRecord]) -> [ReplyField] {
        var fields = [
            ReplyField("incident", incident.name), ReplyField("severity", incident.severity),
            ReplyField("status", incident.status.rawValue),
            ReplyField("declared", "\(clock(incident.declaredAt)) UTC by \(incident.declaredBy)"),
        ]
        for (role, holder) in incident.roles.sorted(by: { $0.key < $1.key }) { fields.append(ReplyField(role, holder)) }
        if let room = incident.room { fields.append(ReplyField("room", room)) }
        if incident.summary != incident.title { fields.append(ReplyField("latest", incident.summary)) }
        if let resolved = incident.resolvedAt {
            fields.append(
                ReplyField("resolved", "\(clock(resolved)) UTC after \(span(incident.duration(now: resolved)))"))
        }
        for alert in alerts {
            fields.append(ReplyField("alert", "#\(alert.id ?? 0) \(alert.alert.name) (\(alert.status.rawValue))"))
        }
        return fields
    }

    /// A status update as stakeholders read it.
    static func updateCard(_ incident: Incident, text: String, by actor: String) -> String {
        "📣 \(incident.name) (\(incident.severity), \(incident.status.rawValue)) — \(incident.title)\nUpdate from \(actor): \(text)"
    }

    /// The alerts attached to an incident, in the order they were.
    public static func alerts(of incident: Incident, store: any ParleyStorage) async throws -> [AlertRecord] {
        var records: [AlertRecord] = []
        for id in try await store.incidentAlerts(number: incident.number ?? 0) {
            if let record = try await store.alert(id: id) { records.append(record) }
        }
        return records
    }
}
