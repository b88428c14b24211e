import Foundation
import GRDB
import ParleyCore

/// An incident as a row of the `incident` table (roles as JSON).
/// One stored property per column of `incident`.
struct IncidentRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "incident"
    var number: Int64?
    var severity: String
    var title: String
    var status: String
    var declaredAt: Date
    var declaredBy: String
    var declaredIn: String
    var room: String?
    var resolvedAt: Date?
    var closedAt: Date?
    var lastUpdateAt: Date
    var reminders: Int
    var auditFromSeq: Int64
    var summary: String
    var roles: String

    mutating func didInsert(_ inserted: InsertionSuccess) { number = inserted.rowID }

    init(_ incident: Incident) {
        number = incident.number
        severity = incident.severity
        title = incident.title
        status = incident.status.rawValue
        declaredAt = incident.declaredAt
        declaredBy = incident.declaredBy
        declaredIn = incident.declaredIn
        room = incident.room
        resolvedAt = incident.resolvedAt
        closedAt = incident.closedAt
        lastUpdateAt = incident.lastUpdateAt
        reminders = incident.reminders
        auditFromSeq = incident.auditFromSeq
        summary = incident.summary
        roles = JSONText.object(incident.roles)
    }

    var incident: Incident {
        Incident(
            number: number, severity: severity, title: title,
            status: IncidentStatus(rawValue: status) ?? .investigating,
            declaredAt: declaredAt, declaredBy: declaredBy, declaredIn: declaredIn, room: room, resolvedAt: resolvedAt,
            closedAt: closedAt, lastUpdateAt: lastUpdateAt, reminders: reminders, auditFromSeq: auditFromSeq,
            summary: summary, roles: AlertRow.map(roles))
    }
}

/// A timeline entry as a row of `incidentEvent`.
struct IncidentEventRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "incidentEvent"
    var id: Int64?
    var incident: Int64
    var at: Date
    var actor: String
    var kind: String
    var text: String
    var runID: Int64?
    var auditSeq: Int64?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(_ event: IncidentEvent) {
        id = event.id
        incident = event.incident
        at = event.at
        actor = event.actor
        kind = event.kind.rawValue
        text = event.text
        runID = event.runID
        auditSeq = event.auditSeq
    }

    var event: IncidentEvent {
        IncidentEvent(
            id: id, incident: incident, at: at, actor: actor, kind: IncidentEventKind(rawValue: kind) ?? .note,
            text: text, runID: runID, auditSeq: auditSeq)
    }
}

/// A follow-up task as a row of `incidentTask`.
struct IncidentTaskRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "incidentTask"
    var id: Int64?
    var incident: Int64
    var text: String
    var owner: String?
    var createdAt: Date
    var createdBy: String
    var doneAt: Date?
    var doneBy: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(_ task: IncidentTask) {
        id = task.id
        incident = task.incident
        text = task.text
        owner = task.owner
        createdAt = task.createdAt
        createdBy = task.createdBy
        doneAt = task.doneAt
        doneBy = task.doneBy
    }

    var task: IncidentTask {
        IncidentTask(
            id: id, incident: incident, text: text, owner: owner, createdAt: createdAt, createdBy: createdBy,
            doneAt: doneAt, doneBy: doneBy)
    }
}

extension SQLiteStore {
    static let openStatuses = IncidentStatus.allCases.filter(\.isOpen).map(\.rawValue)

    public func declareIncident(_ incident: Incident, event: IncidentEvent) async throws -> Incident {
        try await pool.write { db in
            var row = IncidentRow(incident)
            row.number = nil
            try row.insert(db)
            var entry = IncidentEventRow(event)
            entry.incident = row.number ?? 0
            try entry.insert(db)
            return row.incident
        }
    }

    public func incident(number: Int64) async throws -> Incident? {
        try await pool.read { db in try IncidentRow.fetchOne(db, key: number)?.incident }
    }

    public func incidents(_ query: IncidentQuery) async throws -> [Incident] {
        try await pool.read { db in
            var request = IncidentRow.all()
            if query.openOnly { request = request.filter(Self.openStatuses.contains(Column("status"))) }
            if let severity = query.severity { request = request.filter(Column("severity") == severity) }
            if let before = query.beforeNumber { request = request.filter(Column("number") < before) }
            return try request.order(Column("number").desc).limit(max(0, query.limit)).fetchAll(db).map(\.incident)
        }
    }

    public func openIncidents(inRoom room: String) async throws -> [Incident] {
        try await pool.read { db in
            try IncidentRow.filter(Self.openStatuses.contains(Column("status")))
                .filter(Column("room") == room || (Column("room") == nil && Column("declaredIn") == room))
                .order(Column("number").desc).limit(20).fetchAll(db).map(\.incident)
        }
    }

    public func changeIncident(number: Int64, _ change: IncidentChange, event: IncidentEvent?) async throws
        -> Incident?
    {
        try await pool.write { db in
            guard var row = try IncidentRow.fetchOne(db, key: number) else { return nil }
            var incident = row.incident
            change.apply(to: &incident)
            row = IncidentRow(incident)
            try row.update(db)
            if let event {
                var entry = IncidentEventRow(event)
                try entry.insert(db)
            }
            return incident
        }
    }

    public func addIncidentEvent(_ event: IncidentEvent) async throws -> IncidentEvent {
        try await pool.write { db in
            var row = IncidentEventRow(event)
            try row.insert(db)
            return row.event
        }
    }

    public func incidentEvents(number: Int64) async throws -> [IncidentEvent] {
        try await pool.read { db in
            try IncidentEventRow.filter(Column("incident") == number).order(Column("id")).fetchAll(db).map(\.event)
        }
    }

    public func addIncidentTask(_ task: IncidentTask) async throws -> IncidentTask {
        try await pool.write { db in
            var row = IncidentTaskRow(task)
            row.id = nil
            try row.insert(db)
            return row.task
        }
    }

    public func finishIncidentTask(id: Int64, by: String, at: Date) async throws -> IncidentTask? {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE incidentTask SET doneAt = ?, doneBy = ? WHERE id = ? AND doneAt IS NULL",
                arguments: [at, by, id])
            guard db.changesCount == 1 else { return nil }
            return try IncidentTaskRow.fetchOne(db, key: id)?.task
        }
    }

    public func incidentTasks(number: Int64) async throws -> [IncidentTask] {
        try await pool.read { db in
            try IncidentTaskRow.filter(Column("incident") == number).order(Column("id")).fetchAll(db).map(\.task)
        }
    }

    public func attachAlert(incident: Int64, alertID: Int64, at: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO incidentAlert (incident, alertID, attachedAt) VALUES (?, ?, ?)",
                arguments: [incident, alertID, at])
            return db.changesCount == 1
        }
    }

    public func incidentAlerts(number: Int64) async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(
                db, sql: "SELECT alertID FROM incidentAlert WHERE incident = ? ORDER BY attachedAt, alertID",
                arguments: [number])
        }
    }

    public func claimIncidentReminder(number: Int64, level: Int, updatedBefore: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE incident SET reminders = ? WHERE number = ? AND reminders = ? AND lastUpdateAt <= ? \
                    AND status IN ('investigating', 'identified', 'monitoring')
                    """,
                arguments: [level, number, level - 1, updatedBefore])
            return db.changesCount == 1
        }
    }
}
