import Foundation
import PostgresNIO

extension PostgresStore {
    public func heartbeat(id: String, host: String, version: String, startedAt: Date, ttl: Duration) async throws
        -> [Int64: Int64]
    {
        let seconds = ttl.seconds
        return try await transaction { transaction in
            // Not waited for on disk: a heartbeat lost to a crash of the database is sent again in
            // seconds, and judged by the database's own clock.
            try await transaction.execute("SET LOCAL synchronous_commit = off")
            try await transaction.execute(
                """
                INSERT INTO replica (id, host, version, started_at, seen_at, expires_at)
                VALUES (\(id), \(host), \(version), \(startedAt), now(), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version,
                  seen_at = excluded.seen_at, expires_at = excluded.expires_at
                """)
            try await transaction.execute("DELETE FROM replica WHERE expires_at < now() - interval '1 day'")
            var owned: [Int64: Int64] = [:]
            for row in try await transaction.rows(
                "SELECT id, epoch FROM run WHERE status = 'running' AND owner = \(id)")
            {
                owned[try row.value("id", as: Int64.self)] = try row.value("epoch", as: Int64.self)
            }
            return owned
        }
    }

    public func replicas() async throws -> [ReplicaRecord] {
        try await rows(
            """
            SELECT id, host, version, started_at, seen_at, expires_at, expires_at > now() AS alive
            FROM replica ORDER BY started_at, id
            """
        ).map { row in
            ReplicaRecord(
                id: try row.value("id"), host: try row.value("host"), version: try row.value("version"),
                startedAt: try row.value("started_at"), seenAt: try row.value("seen_at"),
                expiresAt: try row.value("expires_at"), isAlive: try row.value("alive"))
        }
    }

    public func removeReplica(id: String) async throws {
        _ = try await rows("DELETE FROM replica WHERE id = \(id)")
    }
}
