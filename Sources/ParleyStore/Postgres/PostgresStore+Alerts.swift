import Foundation
import ParleyCore
import PostgresNIO

/// Alerts as rows of the `alert`, `alert_event` and `alert_message` tables.
enum PostgresAlerts {
    static let columns = """
        id, fingerprint, source, status, labels, annotations, starts_at, ends_at, url, first_seen, last_seen, \
        received, acknowledged_by, acknowledged_at, acknowledgement
        """

    static func record(_ row: PostgresRandomAccessRow) throws -> AlertRecord {
        AlertRecord(
            id: try row.value("id"),
            alert: Alert(
                source: try row.value("source"), fingerprint: try row.value("fingerprint"),
                status: AlertStatus(rawValue: try row.value("status")) ?? .firing,
                labels: JSONMaps.map(try row.value("labels")), annotations: JSONMaps.map(try row.value("annotations")),
                startsAt: try row.value("starts_at"), endsAt: try row.value("ends_at"), url: try row.value("url")),
            firstSeen: try row.value("first_seen"), lastSeen: try row.value("last_seen"),
            received: try row.value("received", as: Int.self), acknowledgedBy: try row.value("acknowledged_by"),
            acknowledgedAt: try row.value("acknowledged_at"), acknowledgement: try row.value("acknowledgement"))
    }

    /// Records notifications inside a transaction: each as an event, and as its fingerprint's current
    /// state. A resolved alert that fires again is news: whoever took it last time has not taken this one.
    static func record(_ alerts: [Alert], at date: Date, _ transaction: PostgresStore.Transaction) async throws
        -> [AlertRecord]
    {
        guard !alerts.isEmpty else { return [] }
        var records: [AlertRecord] = []
        records.reserveCapacity(alerts.count)
        for alert in alerts {
            let labels = JSONText.object(alert.labels.mapValues(StoredText.clean))
            let annotations = JSONText.object(alert.annotations.mapValues(StoredText.clean))
            let refired = "alert.status = 'resolved' AND excluded.status = 'firing'"
            let rows = try await transaction.rows(
                """
                INSERT INTO alert (fingerprint, source, status, labels, annotations, starts_at, ends_at, url, \
                first_seen, last_seen, received) VALUES (\(StoredText.clean(alert.fingerprint)), \
                \(StoredText.clean(alert.source)), \(alert.status.rawValue), \(labels), \(annotations), \
                \(alert.startsAt), \(alert.endsAt), \(alert.url.map(StoredText.clean)), \(date), \(date), 1) \
                ON CONFLICT (fingerprint) DO UPDATE SET \
                acknowledged_by = CASE WHEN \(unescaped: refired) THEN NULL ELSE alert.acknowledged_by END, \
                acknowledged_at = CASE WHEN \(unescaped: refired) THEN NULL ELSE alert.acknowledged_at END, \
                acknowledgement = CASE WHEN \(unescaped: refired) THEN NULL ELSE alert.acknowledgement END, \
                first_seen = CASE WHEN \(unescaped: refired) THEN excluded.first_seen ELSE alert.first_seen END, \
                status = excluded.status, labels = excluded.labels, annotations = excluded.annotations, \
                starts_at = coalesce(excluded.starts_at, alert.starts_at), ends_at = excluded.ends_at, \
                url = coalesce(excluded.url, alert.url), last_seen = excluded.last_seen, \
                received = alert.received + 1 \
                RETURNING \(unescaped: columns)
                """)
            guard let row = rows.first else {
                throw StoreError.cannotOpen(path: "alert", reason: "the alert was not recorded")
            }
            let record = try record(row)
            try await transaction.execute(
                """
                INSERT INTO alert_event (alert_id, received_at, status, labels, annotations) VALUES \
                (\(record.id), \(date), \(alert.status.rawValue), \(labels), \(annotations))
                """)
            records.append(record)
        }
        return records
    }
}

extension PostgresStore {
    public func recordAlerts(_ alerts: [Alert], at date: Date) async throws -> [AlertRecord] {
        try await transaction { try await PostgresAlerts.record(alerts, at: date, $0) }
    }

    public func alerts(_ query: AlertQuery) async throws -> [AlertRecord] {
        var select = FilteredSelect("SELECT \(PostgresAlerts.columns) FROM alert WHERE true")
        if let status = query.status { select.sql += " AND status = \(select.bind(status.rawValue))" }
        if let acknowledged = query.acknowledged {
            select.sql += acknowledged ? " AND acknowledged_by IS NOT NULL" : " AND acknowledged_by IS NULL"
        }
        select.sql += " ORDER BY last_seen DESC, id DESC LIMIT \(select.bind(max(0, query.limit)))"
        return try await rows(select.query).map(PostgresAlerts.record)
    }

    public func alert(id: Int64) async throws -> AlertRecord? {
        try await rows("SELECT \(unescaped: PostgresAlerts.columns) FROM alert WHERE id = \(id)").first.map(
            PostgresAlerts.record)
    }

    public func acknowledgeAlert(id: Int64, by user: String, note: String?, at date: Date) async throws -> AlertRecord?
    {
        try await rows(
            """
            UPDATE alert SET acknowledged_by = \(StoredText.clean(user)), acknowledged_at = \(date), \
            acknowledgement = \(note.map(StoredText.clean)) WHERE id = \(id) RETURNING \(unescaped: PostgresAlerts.columns)
            """
        ).first.map(PostgresAlerts.record)
    }

    public func alertEventCount() async throws -> Int {
        try await rows("SELECT count(*) AS count FROM alert_event").first?.value("count", as: Int.self) ?? 0
    }

    public func alertMessage(fingerprint: String, room: String) async throws -> AlertMessageRecord? {
        try await rows(
            """
            SELECT fingerprint, room, message_ref, posted_at, count, status FROM alert_message \
            WHERE fingerprint = \(StoredText.clean(fingerprint)) AND room = \(StoredText.clean(room))
            """
        ).first.map(Self.alertMessage)
    }

    /// A row of `alert_message` as its record.
    static func alertMessage(_ row: PostgresRandomAccessRow) throws -> AlertMessageRecord {
        AlertMessageRecord(
            fingerprint: try row.value("fingerprint"), room: try row.value("room"),
            messageRef: try row.value("message_ref"), postedAt: try row.value("posted_at"),
            count: try row.value("count", as: Int.self),
            status: AlertStatus(rawValue: try row.value("status")) ?? .firing)
    }

    public func saveAlertMessage(_ record: AlertMessageRecord) async throws {
        _ = try await rows(
            """
            INSERT INTO alert_message (fingerprint, room, message_ref, posted_at, count, status) VALUES \
            (\(StoredText.clean(record.fingerprint)), \(StoredText.clean(record.room)), \(record.messageRef), \
            \(record.postedAt), \(record.count), \(record.status.rawValue)) ON CONFLICT (fingerprint, room) DO UPDATE \
            SET message_ref = excluded.message_ref, posted_at = excluded.posted_at, count = excluded.count, \
            status = excluded.status
            """)
    }

    public func claimScheduledRun(name: String, at fireTime: Date, by owner: String) async throws -> Bool {
        try await !rows(
            """
            INSERT INTO scheduled_run (name, fire_time, owner, claimed_at) VALUES (\(name), \(fireTime), \(owner), \
            \(Date())) ON CONFLICT DO NOTHING RETURNING name
            """
        ).isEmpty
    }

    public func lastScheduledRun(name: String) async throws -> Date? {
        try await rows("SELECT max(fire_time) AS last FROM scheduled_run WHERE name = \(name)").first?.value("last")
    }
}

extension PostgresStore {
    public func foldAlert(room: String, fingerprint: String, name: String, at now: Date, window: Duration)
        async throws -> AlertStorm
    {
        let room = StoredText.clean(room)
        let name = StoredText.clean(name)
        let fingerprint = StoredText.clean(fingerprint)
        let started = now.addingTimeInterval(-window.seconds)
        return try await transaction { transaction in
            // Replicas folding into one room take turns; other rooms do not wait.
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("storm:" + room), 0))")
            let since = try await transaction.rows("SELECT since FROM alert_storm WHERE room = \(room)").first
                .map { try $0.value("since", as: Date.self) }
            if since.map({ $0 < started }) ?? true {
                try await transaction.execute("DELETE FROM alert_fold WHERE room = \(room)")
                try await transaction.execute(
                    """
                    INSERT INTO alert_storm (room, since, posted, message_ref) VALUES (\(room), \(now), false, NULL) \
                    ON CONFLICT (room) DO UPDATE SET since = excluded.since, posted = false, message_ref = NULL
                    """)
            }
            try await transaction.execute(
                """
                INSERT INTO alert_fold (room, fingerprint, name) VALUES (\(room), \(fingerprint), \(name)) \
                ON CONFLICT (room, fingerprint) DO UPDATE SET name = excluded.name
                """)
            guard let storm = try await Self.storm(room, transaction) else {
                throw StoreError.missingTable("alert_storm")
            }
            return storm
        }
    }

    public func alertStorm(room: String) async throws -> AlertStorm? {
        try await transaction { transaction in try await Self.storm(StoredText.clean(room), transaction) }
    }

    public func claimAlertStormPost(room: String, since: Date) async throws -> Bool {
        try await !rows(
            """
            UPDATE alert_storm SET posted = true WHERE room = \(StoredText.clean(room)) AND since = \(since) \
            AND NOT posted RETURNING room
            """
        ).isEmpty
    }

    public func setAlertStormMessage(room: String, since: Date, messageRef: String?) async throws {
        _ = try await rows(
            """
            UPDATE alert_storm SET posted = true, message_ref = \(messageRef.map(StoredText.clean)) \
            WHERE room = \(StoredText.clean(room)) AND since = \(since)
            """)
    }

    private static func storm(_ room: String, _ transaction: Transaction) async throws -> AlertStorm? {
        guard
            let row = try await transaction.rows(
                "SELECT since, posted, message_ref FROM alert_storm WHERE room = \(room)"
            ).first
        else { return nil }
        var folded: [String: String] = [:]
        for fold in try await transaction.rows("SELECT fingerprint, name FROM alert_fold WHERE room = \(room)") {
            folded[try fold.value("fingerprint", as: String.self)] = try fold.value("name", as: String.self)
        }
        return AlertStorm(
            room: room, since: try row.value("since"), folded: folded, posted: try row.value("posted"),
            messageRef: try row.value("message_ref"))
    }
}

extension PostgresStore {
    public func claimAlertMessage(_ record: AlertMessageRecord, window: Duration) async throws -> Bool {
        try await !rows(
            """
            INSERT INTO alert_message (fingerprint, room, message_ref, posted_at, count, status) VALUES \
            (\(StoredText.clean(record.fingerprint)), \(StoredText.clean(record.room)), NULL, \(record.postedAt), \
            \(record.count), \(record.status.rawValue)) ON CONFLICT (fingerprint, room) DO UPDATE \
            SET message_ref = NULL, posted_at = excluded.posted_at, count = excluded.count, status = excluded.status \
            WHERE alert_message.posted_at < \(record.postedAt.addingTimeInterval(-window.seconds)) RETURNING room
            """
        ).isEmpty
    }

    public func releaseAlertMessage(fingerprint: String, room: String, postedAt: Date) async throws {
        _ = try await rows(
            """
            DELETE FROM alert_message WHERE fingerprint = \(StoredText.clean(fingerprint)) \
            AND room = \(StoredText.clean(room)) AND posted_at = \(postedAt) AND message_ref IS NULL
            """)
    }

    public func setAlertMessageReference(fingerprint: String, room: String, postedAt: Date, messageRef: String?)
        async throws
    {
        _ = try await rows(
            """
            UPDATE alert_message SET message_ref = \(messageRef.map(StoredText.clean)) \
            WHERE fingerprint = \(StoredText.clean(fingerprint)) AND room = \(StoredText.clean(room)) \
            AND posted_at = \(postedAt)
            """)
    }

    public func countAlertMessage(fingerprint: String, room: String, adding count: Int, status: AlertStatus)
        async throws -> AlertMessageRecord?
    {
        try await rows(
            """
            UPDATE alert_message SET count = count + \(count), status = \(status.rawValue) \
            WHERE fingerprint = \(StoredText.clean(fingerprint)) AND room = \(StoredText.clean(room)) \
            RETURNING fingerprint, room, message_ref, posted_at, count, status
            """
        ).first.map(Self.alertMessage)
    }
}
