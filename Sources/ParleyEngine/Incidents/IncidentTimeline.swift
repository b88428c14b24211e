import Foundation
import ParleyCore
import ParleyStore

/// One line of an incident's timeline as shown: a stored entry, or an audit entry of the room.
public struct IncidentTimelineLine: Sendable, Equatable, Codable {
    public var at: Date
    public var actor: String
    public var kind: IncidentEventKind
    public var text: String
    /// The audit entry it is traced to (nil for what the chain does not hold, such as an alert's resolution).
    public var auditSeq: Int64?
    /// The run that recorded it.
    public var runID: Int64?

    var seqText: String { auditSeq.map { "#\($0)" } ?? "" }
}

/// Builds an incident's timeline: its stored entries (declared, status, roles, notes, updates,
/// tasks …), every command run and every approval in its room while it was open (read from the
/// audit chain, so nothing needs to remember to write them), and its alerts' resolutions.
public enum IncidentTimeline {
    /// At most this many audit entries are read from the incident's room.
    static let auditLimit = 5000

    public static func build(_ incident: Incident, store: any ParleyStorage) async throws -> [IncidentTimelineLine] {
        let number = incident.number ?? 0
        var lines = try await store.incidentEvents(number: number).map { event in
            IncidentTimelineLine(
                at: event.at, actor: event.actor, kind: event.kind, text: event.text, auditSeq: event.auditSeq,
                runID: event.runID)
        }
        let recordedRuns = Set(lines.compactMap(\.runID))
        let parts = incident.workRoom.split(separator: ":", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            let (platform, room) = (parts[0], parts[1])
            let entries = try await store.auditEntries(
                AuditQuery(afterSeq: incident.auditFromSeq, limit: auditLimit).inRoom(room))
            for entry in entries where entry.identity.hasPrefix(platform + ":") {
                guard let at = AuditClock.parse(entry.at) else { continue }
                if let resolved = incident.resolvedAt, at > resolved.addingTimeInterval(1) { break }
                if let run = entry.runID, recordedRuns.contains(run) { continue }
                if entry.command.hasPrefix("incident") { continue }
                guard let line = line(for: entry, at: at) else { continue }
                lines.append(line)
            }
        }
        for alert in try await IncidentViews.alerts(of: incident, store: store) where alert.status == .resolved {
            lines.append(
                IncidentTimelineLine(
                    at: alert.lastSeen, actor: alert.source, kind: .alert,
                    text: "alert #\(alert.id ?? 0) \(alert.alert.name) resolved", auditSeq: nil, runID: nil))
        }
        return lines.sorted { ($0.at, $0.auditSeq ?? .max) < ($1.at, $1.auditSeq ?? .max) }
    }

    /// An audit entry of the room as a timeline line: commands started and finished, approvals.
    static func line(for entry: AuditEntry, at: Date) -> IncidentTimelineLine? {
        let arguments = argumentText(entry.arguments)
        let command = entry.command + (arguments.isEmpty ? "" : " " + arguments)
        let text: String
        let kind: IncidentEventKind
        switch AuditKind(rawValue: entry.kind) {
        case .started:
            (kind, text) = (.command, "ran `\(command)`")
        case .finished:
            (kind, text) = (.command, "`\(entry.command)` \(entry.outcome.isEmpty ? "finished" : entry.outcome)")
        case .denied:
            (kind, text) = (.command, "`\(command)` denied: \(entry.outcome)")
        case .approvalRequested: (kind, text) = (.approval, "approval asked for `\(command)`")
        case .approvalGranted: (kind, text) = (.approval, "approval given for `\(entry.command)`")
        case .approvalDenied: (kind, text) = (.approval, "approval refused for `\(entry.command)`")
        default: return nil
        }
        return IncidentTimelineLine(
            at: at, actor: entry.actor, kind: kind, text: text, auditSeq: entry.seq, runID: entry.runID)
    }

    /// `app=api env=prod` from the entry's canonical JSON.
    static func argumentText(_ json: String) -> String {
        guard let data = json.data(using: .utf8),
            let map = try? JSONDecoder().decode([String: String].self, from: data)
        else { return "" }
        return map.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}

extension AuditQuery {
    /// The same query, only for entries made in `room`.
    func inRoom(_ room: String) -> AuditQuery {
        var query = self
        query.room = room
        return query
    }
}
