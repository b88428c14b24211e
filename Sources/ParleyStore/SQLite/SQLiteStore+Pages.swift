import Foundation
import GRDB
import ParleyCore

/// A page as a row of `page`.
struct PageRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "page"
    var id: Int64?
    var key: String
    var policy: String
    var summary: String
    var room: String?
    var level: Int
    var round: Int
    var nextAt: Date?
    var status: String
    var settledBy: String?
    var createdAt: Date
    var updatedAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(_ page: PageRecord) {
        id = page.id
        key = page.key
        policy = page.policy
        summary = page.summary
        room = page.room
        level = page.level
        round = page.round
        nextAt = page.nextAt
        status = page.status.rawValue
        settledBy = page.settledBy
        createdAt = page.createdAt
        updatedAt = page.updatedAt
    }

    var record: PageRecord {
        PageRecord(
            id: id, key: key, policy: policy, summary: summary, room: room, level: level, round: round,
            nextAt: nextAt, status: PageStatus(rawValue: status) ?? .open, settledBy: settledBy, createdAt: createdAt,
            updatedAt: updatedAt)
    }
}

extension SQLiteStore {
    public func openPage(_ page: PageRecord) async throws -> (page: PageRecord, isNew: Bool) {
        try await pool.write { db in
            if let open = try PageRow.filter(Column("key") == page.key && Column("status") == "open").fetchOne(db) {
                return (open.record, false)
            }
            var row = PageRow(page)
            row.id = nil
            try row.insert(db)
            return (row.record, true)
        }
    }

    public func duePages(at now: Date, limit: Int) async throws -> [PageRecord] {
        try await pool.read { db in
            try PageRow.filter(Column("status") == "open" && Column("nextAt") <= now).order(Column("nextAt"))
                .limit(max(0, limit)).fetchAll(db).map(\.record)
        }
    }

    public func advancePage(
        id: Int64, from: (level: Int, round: Int), to: (level: Int, round: Int), nextAt: Date?, status: PageStatus,
        at: Date
    ) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE page SET level = ?, round = ?, nextAt = ?, status = ?, updatedAt = ? \
                    WHERE id = ? AND level = ? AND round = ? AND status = 'open'
                    """,
                arguments: [to.level, to.round, nextAt, status.rawValue, at, id, from.level, from.round])
            return db.changesCount == 1
        }
    }

    public func settlePage(key: String, status: PageStatus, by: String, at: Date) async throws -> PageRecord? {
        try await pool.write { db in
            guard var row = try PageRow.filter(Column("key") == key && Column("status") == "open").fetchOne(db)
            else { return nil }
            row.status = status.rawValue
            row.settledBy = by
            row.nextAt = nil
            row.updatedAt = at
            try row.update(db)
            return row.record
        }
    }

    public func page(id: Int64) async throws -> PageRecord? {
        try await pool.read { db in try PageRow.fetchOne(db, key: id)?.record }
    }

    public func pages(openOnly: Bool, limit: Int) async throws -> [PageRecord] {
        try await pool.read { db in
            var request = PageRow.all()
            if openOnly { request = request.filter(Column("status") == "open") }
            return try request.order(Column("id").desc).limit(max(0, limit)).fetchAll(db).map(\.record)
        }
    }
}
