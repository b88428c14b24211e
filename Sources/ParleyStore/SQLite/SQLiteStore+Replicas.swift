import Foundation
import GRDB

extension SQLiteStore {
    public func heartbeat(id: String, host: String, version: String, startedAt: Date, ttl: Duration) async throws
        -> [Int64: Int64]
    {
        try await pool.write { db in
            // One host shares a SQLite file, so its clock is the store's.
            let now = Date()
            try db.execute(
                sql: """
                    INSERT INTO replica (id, host, version, startedAt, seenAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version,
                      seenAt = excluded.seenAt, expiresAt = excluded.expiresAt
                    """,
                arguments: [id, host, version, startedAt, now, now.addingTimeInterval(ttl.seconds)])
            try db.execute(
                sql: "DELETE FROM replica WHERE expiresAt < ?", arguments: [now.addingTimeInterval(-86_400)])
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, epoch FROM run WHERE status = 'running' AND owner = ?", arguments: [id])
            return Dictionary(rows.map { ($0["id"] as Int64, $0["epoch"] as Int64) }, uniquingKeysWith: { a, _ in a })
        }
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await pool.read { db in
            let now = Date()
            return try Row.fetchAll(db, sql: "SELECT * FROM replica ORDER BY startedAt, id").map { row in
                let expires: Date = row["expiresAt"]
                return ReplicaRecord(
                    id: row["id"], host: row["host"], version: row["version"], startedAt: row["startedAt"],
                    seenAt: row["seenAt"], expiresAt: expires, isAlive: expires > now)
            }
        }
    }

    public func removeReplica(id: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM replica WHERE id = ?", arguments: [id]) }
    }
}
