import Foundation
import GRDB

extension SessionRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "session"
}

extension APITokenRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "apiToken"
}

extension SQLiteStore {
    public func passwordHash(userName: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT hash FROM credential WHERE userName = ?", arguments: [userName])
        }
    }

    public func setPasswordHash(_ hash: String, userName: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO credential (userName, hash, updatedAt) VALUES (?, ?, ?)
                    ON CONFLICT(userName) DO UPDATE SET hash = excluded.hash, updatedAt = excluded.updatedAt
                    """, arguments: [userName, hash, Date()])
            // A new password ends every session of the old one.
            try db.execute(sql: "DELETE FROM session WHERE userName = ?", arguments: [userName])
        }
    }

    public func hasAnyPassword() async throws -> Bool {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM credential") ?? 0 > 0 }
    }

    public func insertSession(_ session: SessionRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM session WHERE expiresAt < ?", arguments: [Date()])
            try session.insert(db)
        }
    }

    public func session(tokenHash: String, now: Date) async throws -> SessionRecord? {
        try await pool.read { db in
            try SessionRecord.filter(Column("tokenHash") == tokenHash && Column("expiresAt") > now).fetchOne(db)
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in _ = try SessionRecord.deleteOne(db, key: tokenHash) }
    }

    public func insertToken(_ token: APITokenRecord) async throws {
        try await pool.write { db in try token.insert(db) }
    }

    /// Read on every API request: a cached statement and the columns read by hand.
    public func token(id: String) async throws -> APITokenRecord? {
        try await pool.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT id, secretHash, userName, scopes, name, createdAt, revokedAt, lastUsedAt \
                    FROM apiToken WHERE id = ?
                    """)
            guard let row = try Row.fetchOne(statement, arguments: [id]) else { return nil }
            let scopes = (row[3] as String?).flatMap {
                try? JSONDecoder().decode([String].self, from: Data($0.utf8))
            }
            return APITokenRecord(
                id: row[0], secretHash: row[1], userName: row[2], scopes: scopes ?? [], name: row[4],
                createdAt: row[5], revokedAt: row[6], lastUsedAt: row[7])
        }
    }

    public func tokens() async throws -> [APITokenRecord] {
        try await pool.read { db in try APITokenRecord.order(Column("createdAt")).fetchAll(db) }
    }

    public func revokeToken(id: String, at date: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE apiToken SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [date, id])
            return db.changesCount == 1
        }
    }

    public func touchToken(id: String, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE apiToken SET lastUsedAt = ? WHERE id = ?", arguments: [date, id])
        }
    }

    public func decidedApprovals(limit: Int) async throws -> [ApprovalRequest] {
        try await pool.read { db in
            try ApprovalRequest.filter(Column("status") != GateStatus.pending.rawValue)
                .order(Column("decidedAt").desc).limit(limit).fetchAll(db)
        }
    }
}
