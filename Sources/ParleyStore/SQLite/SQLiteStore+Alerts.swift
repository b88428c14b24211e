import Foundation
import GRDB
import ParleyCore

/// An alert as a row of the `alert` table (labels and annotations as JSON).
/// One stored property per column of `alert`.
struct AlertRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "alert"
    var id: Int64?
    var fingerprint: String
    var source: String
    var status: String
    var labels: String
    var annotations: String
    var startsAt: Date?
    var endsAt: Date?
    var url: String?
    var firstSeen: Date
    var lastSeen: Date
    var received: Int
    var acknowledgedBy: String?
    var acknowledgedAt: Date?
    var acknowledgement: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    static func json(_ map: [String: String]) -> String {
        JSONText.object(map)
    }

    static func map(_ text: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
    }

    var record: AlertRecord {
        var record = AlertRecord(
            id: id,
            alert: Alert(
                source: source, fingerprint: fingerprint, status: AlertStatus(rawValue: status) ?? .firing,
                labels: Self.map(labels), annotations: Self.map(annotations), startsAt: startsAt, endsAt: endsAt,
                url: url),
            firstSeen: firstSeen, lastSeen: lastSeen, received: received)
        record.acknowledgedBy = acknowledgedBy
        record.acknowledgedAt = acknowledgedAt
        record.acknowledgement = acknowledgement
        return record
    }
}

struct AlertMessageRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "alertMessage"
    var fingerprint: String
    var room: String
    var messageRef: String?
    var postedAt: Date
    var count: Int
    var status: String

    var record: AlertMessageRecord {
        AlertMessageRecord(
            fingerprint: fingerprint, room: room, messageRef: messageRef, postedAt: postedAt, count: count,
            status: AlertStatus(rawValue: status) ?? .firing)
    }
}

extension SQLiteStore {
    public func recordAlerts(_ alerts: [Alert], at date: Date) async throws -> [AlertRecord] {
        try await pool.write { db in try Self.recordAlerts(alerts, at: date, db) }
    }

    /// Records notifications inside a write transaction: each as an event, and as its fingerprint's
    /// current state.
    static func recordAlerts(_ alerts: [Alert], at date: Date, _ db: Database) throws -> [AlertRecord] {
        guard !alerts.isEmpty else { return [] }
        var records: [AlertRecord] = []
        records.reserveCapacity(alerts.count)
        // One statement per alert: a new fingerprint is inserted, a known one updated (in SET, names
        // are the row's values before the update). A resolved alert that fires again is news:
        // whoever took it last time has not taken this one yet.
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO alert (fingerprint, source, status, labels, annotations, startsAt, endsAt, url, \
                firstSeen, lastSeen, received) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 1)
                ON CONFLICT(fingerprint) DO UPDATE SET
                  acknowledgedBy = CASE WHEN status = 'resolved' AND excluded.status = 'firing' THEN NULL \
                ELSE acknowledgedBy END,
                  acknowledgedAt = CASE WHEN status = 'resolved' AND excluded.status = 'firing' THEN NULL \
                ELSE acknowledgedAt END,
                  acknowledgement = CASE WHEN status = 'resolved' AND excluded.status = 'firing' THEN NULL \
                ELSE acknowledgement END,
                  firstSeen = CASE WHEN status = 'resolved' AND excluded.status = 'firing' THEN excluded.firstSeen \
                ELSE firstSeen END,
                  status = excluded.status, labels = excluded.labels, annotations = excluded.annotations,
                  startsAt = coalesce(excluded.startsAt, startsAt), endsAt = excluded.endsAt,
                  url = coalesce(excluded.url, url), lastSeen = excluded.lastSeen, received = received + 1
                RETURNING id, startsAt, url, firstSeen, received, acknowledgedBy, acknowledgedAt, acknowledgement, source
                """)
        let addEvent = try db.cachedStatement(
            sql: "INSERT INTO alertEvent (alertID, receivedAt, status, labels, annotations) VALUES (?, ?, ?, ?, ?)")
        let dateText = StoredDate.text(date)
        for alert in alerts {
            let labels = AlertRow.json(alert.labels)
            let annotations = AlertRow.json(alert.annotations)
            guard
                let row = try Row.fetchOne(
                    upsert,
                    arguments: [
                        StoredText.clean(alert.fingerprint), StoredText.clean(alert.source), alert.status.rawValue,
                        labels, annotations, StoredDate.text(alert.startsAt), StoredDate.text(alert.endsAt),
                        alert.url.map(StoredText.clean), dateText,
                    ])
            else { throw StoreError.cannotOpen(path: "alert", reason: "the alert was not recorded") }
            let id: Int64 = row[0]
            try addEvent.execute(arguments: [id, dateText, alert.status.rawValue, labels, annotations])
            // The record is made from what was sent, not decoded back from the row; dates are read back
            // only when the row kept its own (reading a date costs more than the rest of the row).
            var stored = alert
            if alert.startsAt == nil { stored.startsAt = row[1] }
            stored.url = row[2]
            let firstSeen: Date = (row[3] as String?) == dateText ? date : row[3]
            var record = AlertRecord(id: id, alert: stored, firstSeen: firstSeen, lastSeen: date, received: row[4])
            record.acknowledgedBy = row[5]
            if record.acknowledgedBy != nil { record.acknowledgedAt = row[6] }
            record.acknowledgement = row[7]
            record.source = row[8]
            records.append(record)
        }
        return records
    }

    public func alerts(_ query: AlertQuery) async throws -> [AlertRecord] {
        try await pool.read { db in
            var request = AlertRow.all()
            if let status = query.status { request = request.filter(Column("status") == status.rawValue) }
            if let acknowledged = query.acknowledged {
                request = request.filter(
                    acknowledged ? Column("acknowledgedBy") != nil : Column("acknowledgedBy") == nil)
            }
            return try request.order(Column("lastSeen").desc, Column("id").desc).limit(query.limit).fetchAll(db)
                .map(\.record)
        }
    }

    public func alert(id: Int64) async throws -> AlertRecord? {
        try await pool.read { db in try AlertRow.fetchOne(db, key: id)?.record }
    }

    public func acknowledgeAlert(id: Int64, by user: String, note: String?, at date: Date) async throws -> AlertRecord?
    {
        try await pool.write { db in
            guard var row = try AlertRow.fetchOne(db, key: id) else { return nil }
            row.acknowledgedBy = user
            row.acknowledgedAt = date
            row.acknowledgement = note
            try row.update(db)
            return row.record
        }
    }

    public func alertEventCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM alertEvent") ?? 0 }
    }

    public func alertMessage(fingerprint: String, room: String) async throws -> AlertMessageRecord? {
        try await pool.read { db in
            try AlertMessageRow.fetchOne(db, key: ["fingerprint": fingerprint, "room": room]).map(\.record)
        }
    }

    public func saveAlertMessage(_ record: AlertMessageRecord) async throws {
        try await pool.write { db in
            try AlertMessageRow(
                fingerprint: record.fingerprint, room: record.room, messageRef: record.messageRef,
                postedAt: record.postedAt, count: record.count, status: record.status.rawValue
            ).save(db)
        }
    }

    public func claimScheduledRun(name: String, at fireTime: Date, by owner: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO scheduledRun (name, fireTime, owner, claimedAt) VALUES (?, ?, ?, ?)",
                arguments: [name, fireTime, owner, Date()])
            return db.changesCount == 1
        }
    }

    public func lastScheduledRun(name: String) async throws -> Date? {
        try await pool.read { db in
            try Date.fetchOne(db, sql: "SELECT MAX(fireTime) FROM scheduledRun WHERE name = ?", arguments: [name])
        }
    }
}

extension SQLiteStore {
    public func foldAlert(room: String, fingerprint: String, name: String, at now: Date, window: Duration)
        async throws -> AlertStorm
    {
        try await pool.write { db in
            let since = try Date.fetchOne(db, sql: "SELECT since FROM alertStorm WHERE room = ?", arguments: [room])
            if since.map({ now.timeIntervalSince($0) > window.seconds }) ?? true {
                try db.execute(sql: "DELETE FROM alertFold WHERE room = ?", arguments: [room])
                try db.execute(
                    sql: "INSERT OR REPLACE INTO alertStorm (room, since, posted, messageRef) VALUES (?, ?, 0, NULL)",
                    arguments: [room, now])
            }
            try db.execute(
                sql: """
                    INSERT INTO alertFold (room, fingerprint, name) VALUES (?, ?, ?)
                    ON CONFLICT (room, fingerprint) DO UPDATE SET name = excluded.name
                    """,
                arguments: [room, fingerprint, name])
            guard let storm = try Self.storm(room, db) else { throw StoreError.missingTable("alertStorm") }
            return storm
        }
    }

    public func alertStorm(room: String) async throws -> AlertStorm? {
        try await pool.read { db in try Self.storm(room, db) }
    }

    public func claimAlertStormPost(room: String, since: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alertStorm SET posted = 1 WHERE room = ? AND since = ? AND posted = 0",
                arguments: [room, since])
            return db.changesCount == 1
        }
    }

    public func setAlertStormMessage(room: String, since: Date, messageRef: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alertStorm SET posted = 1, messageRef = ? WHERE room = ? AND since = ?",
                arguments: [messageRef, room, since])
        }
    }

    private static func storm(_ room: String, _ db: Database) throws -> AlertStorm? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alertStorm WHERE room = ?", arguments: [room])
        else { return nil }
        let folded = try Row.fetchAll(
            db, sql: "SELECT fingerprint, name FROM alertFold WHERE room = ?", arguments: [room])
        return AlertStorm(
            room: room, since: row["since"],
            folded: Dictionary(folded.map { ($0["fingerprint"], $0["name"]) }, uniquingKeysWith: { a, _ in a }),
            posted: row["posted"], messageRef: row["messageRef"])
    }
}

extension SQLiteStore {
    public func claimAlertMessage(_ record: AlertMessageRecord, window: Duration) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO alertMessage (fingerprint, room, messageRef, postedAt, count, status)
                    VALUES (?, ?, NULL, ?, ?, ?)
                    ON CONFLICT (fingerprint, room) DO UPDATE SET messageRef = NULL, postedAt = excluded.postedAt,
                      count = excluded.count, status = excluded.status
                    WHERE alertMessage.postedAt < ?
                    """,
                arguments: [
                    record.fingerprint, record.room, record.postedAt, record.count, record.status.rawValue,
                    record.postedAt.addingTimeInterval(-window.seconds),
                ])
            return db.changesCount == 1
        }
    }

    public func releaseAlertMessage(fingerprint: String, room: String, postedAt: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql:
                    "DELETE FROM alertMessage WHERE fingerprint = ? AND room = ? AND postedAt = ? AND messageRef IS NULL",
                arguments: [fingerprint, room, postedAt])
        }
    }

    public func setAlertMessageReference(fingerprint: String, room: String, postedAt: Date, messageRef: String?)
        async throws
    {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alertMessage SET messageRef = ? WHERE fingerprint = ? AND room = ? AND postedAt = ?",
                arguments: [messageRef, fingerprint, room, postedAt])
        }
    }

    public func countAlertMessage(fingerprint: String, room: String, adding count: Int, status: AlertStatus)
        async throws -> AlertMessageRecord?
    {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alertMessage SET count = count + ?, status = ? WHERE fingerprint = ? AND room = ?",
                arguments: [count, status.rawValue, fingerprint, room])
            return try AlertMessageRow.fetchOne(db, key: ["fingerprint": fingerprint, "room": room]).map(\.record)
        }
    }
}
