import Foundation
import GRDB
import ParleyCore

/// An override as a row of `oncallOverride`.
struct OnCallOverrideRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "oncallOverride"
    var id: Int64?
    var schedule: String
    var person: String
    var startsAt: Date
    var endsAt: Date
    var madeBy: String
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(_ record: OnCallOverrideRecord) {
        id = record.id
        schedule = record.schedule
        person = record.override.person
        startsAt = record.override.start
        endsAt = record.override.end
        madeBy = record.override.madeBy
        createdAt = record.createdAt
    }

    var record: OnCallOverrideRecord {
        OnCallOverrideRecord(
            id: id, schedule: schedule,
            override: OnCallOverride(person: person, start: startsAt, end: endsAt, madeBy: madeBy), createdAt: createdAt
        )
    }
}

extension SQLiteStore {
    public func addOverride(_ record: OnCallOverrideRecord) async throws -> OnCallOverrideRecord {
        try await pool.write { db in
            var row = OnCallOverrideRow(record)
            row.id = nil
            try row.insert(db)
            return row.record
        }
    }

    public func overrides(schedule: String, endingAfter after: Date) async throws -> [OnCallOverrideRecord] {
        try await pool.read { db in
            try OnCallOverrideRow.filter(Column("schedule") == schedule && Column("endsAt") > after)
                .order(Column("id")).limit(1000).fetchAll(db).map(\.record)
        }
    }

    public func removeOverride(id: Int64) async throws -> Bool {
        try await pool.write { db in try OnCallOverrideRow.deleteOne(db, key: id) }
    }
}
