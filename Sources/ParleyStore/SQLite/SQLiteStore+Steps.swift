import Foundation
import GRDB

extension StepRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "runStep"
}

extension SQLiteStore {
    public func saveStep(_ step: StepRecord) async throws {
        try await pool.write { db in try step.save(db) }
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
