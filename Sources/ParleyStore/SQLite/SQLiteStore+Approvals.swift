import Foundation
import GRDB
import ParleyCore

extension ApprovalRequest: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "approval"
}

extension ApprovalVote: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "approvalVote"
}

extension SQLiteStore {
    public func insertApproval(_ request: ApprovalRequest) async throws {
        try await pool.write { db in try request.insert(db) }
    }

    public func approval(id: String) async throws -> ApprovalRequest? {
        try await pool.read { db in try ApprovalRequest.fetchOne(db, key: id) }
    }

    public func addVote(_ vote: ApprovalVote) async throws -> Bool {
        try await pool.write { db in
            try vote.insert(db, onConflict: .ignore)
            return db.changesCount == 1
        }
    }

    public func votes(approvalID: String) async throws -> [ApprovalVote] {
        try await pool.read { db in
            try ApprovalVote.filter(Column("approvalID") == approvalID).order(Column("at")).fetchAll(db)
        }
    }

    public func settleApproval(id: String, status: GateStatus, reason: String, at date: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE approval SET status = ?, reason = ?, decidedAt = ? WHERE id = ? AND status = 'pending'",
                arguments: [status.rawValue, reason, date, id])
            return db.changesCount == 1
        }
    }

    public func releaseApproval(id: String, reason: String, at date: Date, owner: String) async throws -> RunRecord? {
        try await pool.write { db in
            try db.execute(
                sql:
                    "UPDATE approval SET status = 'approved', reason = ?, decidedAt = ? WHERE id = ? AND status = 'pending'",
                arguments: [reason, date, id])
            guard db.changesCount == 1,
                let runID = try Int64.fetchOne(db, sql: "SELECT runID FROM approval WHERE id = ?", arguments: [id])
            else { return nil }
            try db.execute(
                sql: """
                    UPDATE run SET status = 'running', owner = ?, epoch = epoch + 1
                    WHERE id = ? AND status IN ('awaiting_approval', 'awaiting_confirmation')
                    """,
                arguments: [owner, runID])
            return try RunRow.fetchOne(db, key: runID)?.record
        }
    }

    public func pendingApprovals() async throws -> [ApprovalRequest] {
        try await pool.read { db in
            try ApprovalRequest.filter(Column("status") == GateStatus.pending.rawValue).order(Column("createdAt"))
                .fetchAll(db)
        }
    }

    public func metadata(_ key: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM metadata WHERE key = ?", arguments: [key])
        }
    }

    public func setMetadata(_ key: String, _ value: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }
}
