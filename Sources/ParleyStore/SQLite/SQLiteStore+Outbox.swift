import Foundation
import GRDB

extension SQLiteStore {
    public func enqueueOutbound(
        platform: String, room: String, thread: String?, action: OutboxMessage.Action, reference: String?,
        body: String
    ) async throws -> Int64 {
        try await pool.write { db in
            let now = Date()
            try db.execute(
                sql: """
                    INSERT INTO outbox (platform, room, thread, action, reference, body, queuedAt, state, dueAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)
                    """,
                arguments: [platform, room, thread, action.rawValue, reference, body, now, now])
            return db.lastInsertedRowID
        }
    }

    public func claimOutbound(platform: String, holder: String, ttl: Duration, limit: Int) async throws
        -> [OutboxMessage]
    {
        try await pool.write { db in
            let now = Date()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox WHERE platform = ? AND state = 'queued' AND dueAt <= ?
                      AND (claimedUntil IS NULL OR claimedUntil <= ?)
                    ORDER BY id LIMIT ?
                    """,
                arguments: [platform, now, now, max(limit, 1)])
            for row in rows {
                try db.execute(
                    sql: "UPDATE outbox SET claimedBy = ?, claimedUntil = ? WHERE id = ?",
                    arguments: [holder, now.addingTimeInterval(ttl.seconds), row["id"] as Int64])
            }
            return rows.map { row in
                OutboxMessage(
                    id: row["id"], platform: row["platform"], room: row["room"], thread: row["thread"],
                    action: OutboxMessage.Action(rawValue: row["action"]) ?? .send, reference: row["reference"],
                    body: row["body"], queuedAt: row["queuedAt"], attempts: row["attempts"])
            }
        }
    }

    public func settleOutbound(id: Int64, outcome: OutboxOutcome) async throws {
        let (state, result) = outcome.stored
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET state = ?, result = ?, settledAt = ?, claimedBy = NULL, claimedUntil = NULL
                    WHERE id = ?
                    """,
                arguments: [state, result, Date(), id])
            try db.execute(
                sql:
                    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'queued' AND settledAt < ? LIMIT 100)",
                arguments: [Date().addingTimeInterval(-86_400)])
        }
    }

    public func retryOutbound(id: Int64, after delay: Duration, failure: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE outbox SET dueAt = ?, claimedBy = NULL, claimedUntil = NULL,
                      attempts = attempts + ?, result = coalesce(?, result)
                    WHERE id = ? AND state = 'queued'
                    """,
                arguments: [Date().addingTimeInterval(delay.seconds), failure == nil ? 0 : 1, failure, id])
        }
    }

    public func outboundOutcome(id: Int64) async throws -> OutboxOutcome? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT state, result FROM outbox WHERE id = ?", arguments: [id]).map {
                OutboxOutcome(state: $0["state"], result: $0["result"])
            }
        }
    }
}

extension OutboxOutcome {
    /// The outcome as the store's `state` and `result` columns.
    var stored: (state: String, result: String?) {
        switch self {
        case .queued: return ("queued", nil)
        case .delivered(let result): return ("delivered", result)
        case .failed(let reason): return ("failed", reason)
        }
    }

    init(state: String, result: String?) {
        switch state {
        case "delivered": self = .delivered(result)
        case "failed": self = .failed(result ?? "")
        default: self = .queued
        }
    }
}
