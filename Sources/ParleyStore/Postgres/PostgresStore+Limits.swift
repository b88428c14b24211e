import Foundation
import PostgresNIO

extension PostgresStore {
    public func admitHit(key: String, limit: Int, window: Duration, at now: Date) async throws -> Date? {
        let start = now.addingTimeInterval(-window.seconds)
        return try await transaction { transaction in
            // Replicas counting the same key at once take turns; other keys do not wait.
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("hit:" + key), 0))")
            try await transaction.execute("DELETE FROM limit_hit WHERE key = \(key) AND at <= \(start)")
            let times = try await transaction.rows(
                "SELECT at FROM limit_hit WHERE key = \(key) ORDER BY at LIMIT \(max(limit, 1))"
            ).map { try $0.value("at", as: Date.self) }
            if times.count >= limit, let oldest = times.first {
                return oldest.addingTimeInterval(window.seconds)
            }
            try await transaction.execute("INSERT INTO limit_hit (key, at) VALUES (\(key), \(now))")
            return nil
        }
    }

    public func refundHit(key: String, at: Date) async throws {
        _ = try await rows(
            "DELETE FROM limit_hit WHERE id = (SELECT id FROM limit_hit WHERE key = \(key) AND at = \(at) LIMIT 1)")
    }

    public func takeSlot(name: String, max: Int, runID: Int64) async throws -> Bool {
        try await transaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(hashtextextended(\("slot:" + name), 0))")
            try await transaction.execute(
                """
                DELETE FROM run_slot WHERE name = \(name)
                  AND run_id NOT IN (SELECT id FROM run WHERE status = 'running')
                """)
            let taken =
                try await transaction.rows(
                    "SELECT count(*) AS taken FROM run_slot WHERE name = \(name) AND run_id != \(runID)"
                ).first?.value("taken", as: Int64.self) ?? 0
            guard taken < Int64(max) else { return false }
            try await transaction.execute(
                "INSERT INTO run_slot (name, run_id) VALUES (\(name), \(runID)) ON CONFLICT DO NOTHING")
            return true
        }
    }

    public func releaseSlot(name: String, runID: Int64) async throws {
        _ = try await rows("DELETE FROM run_slot WHERE name = \(name) AND run_id = \(runID)")
    }

    public func recentHits(keys: [String], window: Duration, at now: Date) async throws -> [String: HitCount] {
        guard !keys.isEmpty else { return [:] }
        let start = now.addingTimeInterval(-window.seconds)
        var counts: [String: HitCount] = [:]
        for row in try await rows(
            """
            SELECT key, count(*) AS hits, min(at) AS oldest FROM limit_hit
            WHERE key = ANY(\(keys)) AND at > \(start) GROUP BY key
            """)
        {
            counts[try row.value("key")] = HitCount(
                count: Int(try row.value("hits", as: Int64.self)), oldest: try row.value("oldest"))
        }
        return counts
    }

    public func recordHits(keys: [String], at now: Date) async throws {
        guard !keys.isEmpty else { return }
        _ = try await rows("INSERT INTO limit_hit (key, at) SELECT unnest(\(keys)::text[]), \(now)")
    }

    public func clearHits(key: String) async throws {
        _ = try await rows("DELETE FROM limit_hit WHERE key = \(key)")
    }

    public func pruneHits(prefix: String, before: Date) async throws {
        _ = try await rows(
            "DELETE FROM limit_hit WHERE at < \(before) AND starts_with(key, \(prefix))")
    }
}
