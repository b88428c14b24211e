import Foundation
import GRDB

extension SQLiteStore {
    public func admitHit(key: String, limit: Int, window: Duration, at now: Date) async throws -> Date? {
        try await pool.write { db in
            let start = now.addingTimeInterval(-window.seconds)
            try db.execute(sql: "DELETE FROM limitHit WHERE key = ? AND at <= ?", arguments: [key, start])
            let times = try Date.fetchAll(
                db, sql: "SELECT at FROM limitHit WHERE key = ? ORDER BY at LIMIT ?", arguments: [key, max(limit, 1)])
            if times.count >= limit, let oldest = times.first {
                return oldest.addingTimeInterval(window.seconds)
            }
            try db.execute(sql: "INSERT INTO limitHit (key, at) VALUES (?, ?)", arguments: [key, now])
            return nil
        }
    }

    public func refundHit(key: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM limitHit WHERE id = (SELECT id FROM limitHit WHERE key = ? AND at = ? LIMIT 1)",
                arguments: [key, at])
        }
    }

    public func takeSlot(name: String, max: Int, runID: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM runSlot WHERE name = ? AND runID NOT IN (SELECT id FROM run WHERE status = 'running')
                    """,
                arguments: [name])
            let taken =
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM runSlot WHERE name = ? AND runID != ?", arguments: [name, runID])
                ?? 0
            guard taken < max else { return false }
            try db.execute(
                sql: "INSERT OR IGNORE INTO runSlot (name, runID) VALUES (?, ?)", arguments: [name, runID])
            return true
        }
    }

    public func releaseSlot(name: String, runID: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM runSlot WHERE name = ? AND runID = ?", arguments: [name, runID])
        }
    }

    public func recentHits(keys: [String], window: Duration, at now: Date) async throws -> [String: HitCount] {
        guard !keys.isEmpty else { return [:] }
        return try await pool.read { db in
            let marks = Array(repeating: "?", count: keys.count).joined(separator: ", ")
            var arguments = StatementArguments(keys)
            arguments += [now.addingTimeInterval(-window.seconds)]
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT key, count(*) AS hits, min(at) AS oldest FROM limitHit
                    WHERE key IN (\(marks)) AND at > ? GROUP BY key
                    """,
                arguments: arguments)
            var counts: [String: HitCount] = [:]
            for row in rows {
                counts[row["key"]] = HitCount(count: row["hits"], oldest: row["oldest"])
            }
            return counts
        }
    }

    public func recordHits(keys: [String], at now: Date) async throws {
        try await pool.write { db in
            for key in keys {
                try db.execute(sql: "INSERT INTO limitHit (key, at) VALUES (?, ?)", arguments: [key, now])
            }
        }
    }

    public func clearHits(key: String) async throws {
        try await pool.write { db in try db.execute(sql: "DELETE FROM limitHit WHERE key = ?", arguments: [key]) }
    }

    public func pruneHits(prefix: String, before: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM limitHit WHERE at < ? AND substr(key, 1, ?) = ?",
                arguments: [before, prefix.count, prefix])
        }
    }
}
