import Foundation
import ParleyCore
import PostgresNIO

/// Incidents as rows of `incident`, `incident_event`, `incident_task` and `incident_alert`.
enum PostgresIncidents {
    static let columns = """
        number, severity, title, status, declared_at, declared_by, declared_in, room, resolved_at, closed_at, \
        last_update_at, reminders, audit_from_seq, summary, roles
        """
    static let open = "status IN ('investigating', 'identified', 'monitoring')"

    static func incident(_ row: PostgresRandomAccessRow) throws -> Incident {
        Incident(
            number: try row.value("number"), severity: try row.value("severity"), title: try row.value("title"),
            status: IncidentStatus(rawValue: try row.value("status")) ?? .investigating,
            declaredAt: try row.value("declared_at"), declaredBy: try row.value("declared_by"),
            declaredIn: try row.value("declared_in"), room: try row.value("room"),
            resolvedAt: try row.value("resolved_at"), closedAt: try row.value("closed_at"),
            lastUpdateAt: try row.value("last_update_at"), reminders: try row.value("reminders", as: Int.self),
            auditFromSeq: try row.value("audit_from_seq"), summary: try row.value("summary"),
            roles: JSONMaps.map(try row.value("roles")))
    }

    static func event(_ row: PostgresRandomAccessRow) throws -> IncidentEvent {
        IncidentEvent(
            id: try row.value("id"), incident: try row.value("incident"), at: try row.value("at"),
            actor: try row.value("actor"), kind: IncidentEventKind(rawValue: try row.value("kind")) ?? .note,
            text: try row.value("text"), runID: try row.value("run_id"), auditSeq: try row.value("audit_seq"))
    }

    static func task(_ row: PostgresRandomAccessRow) throws -> IncidentTask {
        IncidentTask(
            id: try row.value("id"), incident: try row.value("incident"), text: try row.value("text"),
            owner: try row.value("owner"), createdAt: try row.value("created_at"),
            createdBy: try row.value("created_by"), doneAt: try row.value("done_at"), doneBy: try row.value("done_by"))
    }

    static func roles(_ roles: [String: String]) -> String {
        JSONText.object(roles.mapValues(StoredText.clean))
    }

    static func insert(_ event: IncidentEvent, number: Int64) -> PostgresQuery {
        """
        INSERT INTO incident_event (incident, at, actor, kind, text, run_id, audit_seq) VALUES (\(number), \
        \(event.at), \(StoredText.clean(event.actor)), \(event.kind.rawValue), \(StoredText.clean(event.text)), \
        \(event.runID), \(event.auditSeq)) RETURNING id, incident, at, actor, kind, text, run_id, audit_seq
        """
    }
}

extension PostgresStore {
    public func declareIncident(_ incident: Incident, event: IncidentEvent) async throws -> Incident {
        try await transaction { transaction in
            let rows = try await transaction.rows(
                """
                INSERT INTO incident (severity, title, status, declared_at, declared_by, declared_in, room, \
                resolved_at, closed_at, last_update_at, reminders, audit_from_seq, summary, roles) VALUES \
                (\(incident.severity), \(StoredText.clean(incident.title)), \(incident.status.rawValue), \
                \(incident.declaredAt), \(StoredText.clean(incident.declaredBy)), \
                \(StoredText.clean(incident.declaredIn)), \(incident.room.map(StoredText.clean)), \
                \(incident.resolvedAt), \(incident.closedAt), \(incident.lastUpdateAt), \(incident.reminders), \
                \(incident.auditFromSeq), \(StoredText.clean(incident.summary)), \
                \(PostgresIncidents.roles(incident.roles))) RETURNING \(unescaped: PostgresIncidents.columns)
                """)
            guard let row = rows.first else {
                throw StoreError.cannotOpen(path: "incident", reason: "the incident was not recorded")
            }
            let declared = try PostgresIncidents.incident(row)
            try await transaction.execute(PostgresIncidents.insert(event, number: declared.number ?? 0))
            return declared
        }
    }

    public func incident(number: Int64) async throws -> Incident? {
        try await rows("SELECT \(unescaped: PostgresIncidents.columns) FROM incident WHERE number = \(number)")
            .first.map(PostgresIncidents.incident)
    }

    public func incidents(_ query: IncidentQuery) async throws -> [Incident] {
        var select = FilteredSelect("SELECT \(PostgresIncidents.columns) FROM incident WHERE true")
        if query.openOnly { select.sql += " AND \(PostgresIncidents.open)" }
        if let severity = query.severity { select.sql += " AND severity = \(select.bind(severity))" }
        if let before = query.beforeNumber { select.sql += " AND number < \(select.bind(before))" }
        select.sql += " ORDER BY number DESC LIMIT \(select.bind(Int64(max(0, query.limit))))"
        return try await rows(select.query).map(PostgresIncidents.incident)
    }

    public func openIncidents(inRoom room: String) async throws -> [Incident] {
        try await rows(
            """
            SELECT \(unescaped: PostgresIncidents.columns) FROM incident WHERE \(unescaped: PostgresIncidents.open) \
            AND (room = \(room) OR (room IS NULL AND declared_in = \(room))) ORDER BY number DESC LIMIT 20
            """
        ).map(PostgresIncidents.incident)
    }

    public func changeIncident(number: Int64, _ change: IncidentChange, event: IncidentEvent?) async throws
        -> Incident?
    {
        try await transaction { transaction in
            // The row is locked while the change is worked out, so two replicas' changes apply in turn.
            guard
                var incident = try await transaction.rows(
                    """
                    SELECT \(unescaped: PostgresIncidents.columns) FROM incident WHERE number = \(number) FOR UPDATE
                    """
                ).first.map(PostgresIncidents.incident)
            else { return nil }
            change.apply(to: &incident)
            try await transaction.execute(
                """
                UPDATE incident SET severity = \(incident.severity), status = \(incident.status.rawValue), \
                room = \(incident.room.map(StoredText.clean)), resolved_at = \(incident.resolvedAt), \
                closed_at = \(incident.closedAt), last_update_at = \(incident.lastUpdateAt), \
                reminders = \(incident.reminders), summary = \(StoredText.clean(incident.summary)), \
                roles = \(PostgresIncidents.roles(incident.roles)) WHERE number = \(number)
                """)
            if let event { try await transaction.execute(PostgresIncidents.insert(event, number: number)) }
            return incident
        }
    }

    public func addIncidentEvent(_ event: IncidentEvent) async throws -> IncidentEvent {
        guard let row = try await rows(PostgresIncidents.insert(event, number: event.incident)).first else {
            throw StoreError.cannotOpen(path: "incident_event", reason: "the entry was not recorded")
        }
        return try PostgresIncidents.event(row)
    }

    public func incidentEvents(number: Int64) async throws -> [IncidentEvent] {
        try await rows(
            """
            SELECT id, incident, at, actor, kind, text, run_id, audit_seq FROM incident_event \
            WHERE incident = \(number) ORDER BY id
            """
        ).map(PostgresIncidents.event)
    }

    static let taskColumns = "id, incident, text, owner, created_at, created_by, done_at, done_by"

    public func addIncidentTask(_ task: IncidentTask) async throws -> IncidentTask {
        guard
            let row = try await rows(
                """
                INSERT INTO incident_task (incident, text, owner, created_at, created_by) VALUES (\(task.incident), \
                \(StoredText.clean(task.text)), \(task.owner.map(StoredText.clean)), \(task.createdAt), \
                \(StoredText.clean(task.createdBy))) RETURNING \(unescaped: Self.taskColumns)
                """
            ).first
        else { throw StoreError.cannotOpen(path: "incident_task", reason: "the task was not recorded") }
        return try PostgresIncidents.task(row)
    }

    public func finishIncidentTask(id: Int64, by: String, at: Date) async throws -> IncidentTask? {
        try await rows(
            """
            UPDATE incident_task SET done_at = \(at), done_by = \(StoredText.clean(by)) \
            WHERE id = \(id) AND done_at IS NULL RETURNING \(unescaped: Self.taskColumns)
            """
        ).first.map(PostgresIncidents.task)
    }

    public func incidentTasks(number: Int64) async throws -> [IncidentTask] {
        try await rows(
            "SELECT \(unescaped: Self.taskColumns) FROM incident_task WHERE incident = \(number) ORDER BY id"
        )
        .map(PostgresIncidents.task)
    }

    public func attachAlert(incident: Int64, alertID: Int64, at: Date) async throws -> Bool {
        !(try await rows(
            """
            INSERT INTO incident_alert (incident, alert_id, attached_at) VALUES (\(incident), \(alertID), \(at)) \
            ON CONFLICT DO NOTHING RETURNING alert_id
            """
        ).isEmpty)
    }

    public func incidentAlerts(number: Int64) async throws -> [Int64] {
        try await rows(
            "SELECT alert_id FROM incident_alert WHERE incident = \(number) ORDER BY attached_at, alert_id"
        ).map { try $0.value("alert_id", as: Int64.self) }
    }

    public func claimIncidentReminder(number: Int64, level: Int, updatedBefore: Date) async throws -> Bool {
        !(try await rows(
            """
            UPDATE incident SET reminders = \(level) WHERE number = \(number) AND reminders = \(level - 1) \
            AND last_update_at <= \(updatedBefore) AND \(unescaped: PostgresIncidents.open) RETURNING number
            """
        ).isEmpty)
    }
}
