import Foundation
import GRDB

extension LockRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runLock"
}

extension SQLiteStore {
    public func acquireLock(_ lock: LockRecord) async throws -> LockRecord? {
        try await pool.write { db in
            try lock.insert(db, onConflict: .ignore)
            if db.changesCount == 1 { return nil }
            return try LockRecord.fetchOne(db, key: lock.name)
        }
    }

    public func releaseLock(name: String, runID: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM runLock WHERE name = ? AND runID = ?", arguments: [name, runID])
        }
    }

    public func releaseStaleLocks() async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM runLock WHERE runID NOT IN (SELECT id FROM run WHERE status IN ('running', 'awaiting_approval', 'awaiting_confirmation'))
                    """)
            return db.changesCount
        }
    }
}
