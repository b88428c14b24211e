import Foundation
import GRDB

extension StepRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runStep"
}

extension SQLiteStore {
    public func saveStep(_ step: StepRecord, epoch: Int64?) async throws -> Bool {
        try await pool.write { db in
            // One writer at a time: a take-over cannot come between the check and the write.
            if let epoch {
                let stored = try Int64.fetchOne(db, sql: "SELECT epoch FROM run WHERE id = ?", arguments: [step.runID])
                guard stored == epoch else { return false }
            }
            try step.save(db)
            return true
        }
    }

    public func steps(runID: Int64) async throws -> [StepRecord] {
        try await pool.read { db in
            try StepRecord.filter(Column("runID") == runID).order(Column("startedAt"), Column("path")).fetchAll(db)
        }
    }

    public func adoptRun(id: Int64, owner: String, from previous: String?) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE run SET owner = ?, epoch = epoch + 1 WHERE id = ? AND status = 'running' AND owner IS ?
                    """,
                arguments: [owner, id, previous])
            return db.changesCount == 1
        }
    }
}
