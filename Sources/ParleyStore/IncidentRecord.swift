import Foundation
import ParleyCore

/// A change to an incident, applied with its timeline entry in one transaction.
public enum IncidentChange: Sendable, Equatable {
    /// A new status; `resolved` stamps the resolution, an open status clears it (reopened).
    case status(IncidentStatus, at: Date)
    /// A role given to someone, or taken back (nil).
    case role(String, holder: String?)
    /// A status update went out: the cadence counts again from `at`.
    case update(summary: String, at: Date)
    /// Its dedicated room was made.
    case room(String)
    /// Its severity changed.
    case severity(String)
}

extension IncidentChange {
    /// What the change does to an incident: the one place its rules are written, for both stores.
    public func apply(to incident: inout Incident) {
        switch self {
        case .status(let status, let at):
            incident.status = status
            switch status {
            case .resolved: incident.resolvedAt = incident.resolvedAt ?? at
            case .closed:
                incident.resolvedAt = incident.resolvedAt ?? at
                incident.closedAt = at
            default:
                incident.resolvedAt = nil
                incident.closedAt = nil
            }
        case .role(let role, let holder): incident.roles[role] = holder
        case .update(let summary, let at):
            incident.summary = summary
            incident.lastUpdateAt = at
            incident.reminders = 0
        case .room(let room): incident.room = room
        case .severity(let severity): incident.severity = severity
        }
    }
}

/// Which incidents to list.
public struct IncidentQuery: Sendable, Equatable {
    /// Only open ones (not resolved or closed).
    public var openOnly: Bool
    public var severity: String?
    /// Only those before this number, for paging newest first.
    public var beforeNumber: Int64?
    public var limit: Int

    /// Creates a query.
    public init(openOnly: Bool = false, severity: String? = nil, beforeNumber: Int64? = nil, limit: Int = 50) {
        self.openOnly = openOnly
        self.severity = severity
        self.beforeNumber = beforeNumber
        self.limit = limit
    }
}

/// Incidents, their timelines, tasks and attached alerts.
public protocol IncidentStore: Sendable {
    /// Numbers and records a new incident with its first timeline entry (whose incident number is
    /// filled in); returns it numbered.
    func declareIncident(_ incident: Incident, event: IncidentEvent) async throws -> Incident
    /// The incident numbered `number`.
    func incident(number: Int64) async throws -> Incident?
    /// Incidents matching a query, newest first.
    func incidents(_ query: IncidentQuery) async throws -> [Incident]
    /// Open incidents worked on in `room` (`platform:room`: dedicated, or where declared), newest first.
    func openIncidents(inRoom room: String) async throws -> [Incident]
    /// Applies a change and appends its timeline entry in one transaction; nil when there is no such incident.
    func changeIncident(number: Int64, _ change: IncidentChange, event: IncidentEvent?) async throws -> Incident?
    /// Appends a timeline entry.
    func addIncidentEvent(_ event: IncidentEvent) async throws -> IncidentEvent
    /// The stored timeline, oldest first.
    func incidentEvents(number: Int64) async throws -> [IncidentEvent]
    /// Records a follow-up task; returns it numbered.
    func addIncidentTask(_ task: IncidentTask) async throws -> IncidentTask
    /// Closes an open task; nil when there is no such task or it was closed already.
    func finishIncidentTask(id: Int64, by: String, at: Date) async throws -> IncidentTask?
    /// An incident's tasks, in order.
    func incidentTasks(number: Int64) async throws -> [IncidentTask]
    /// Attaches an alert; false when it was attached already.
    func attachAlert(incident: Int64, alertID: Int64, at: Date) async throws -> Bool
    /// The ids of the alerts attached, in the order they were.
    func incidentAlerts(number: Int64) async throws -> [Int64]
    /// Records that reminder number `level` (1, 2 …) goes out for an open incident whose last update
    /// came before `updatedBefore`; false when it went out already (another replica sent it), the
    /// previous level has not, or an update came meanwhile.
    func claimIncidentReminder(number: Int64, level: Int, updatedBefore: Date) async throws -> Bool
}
