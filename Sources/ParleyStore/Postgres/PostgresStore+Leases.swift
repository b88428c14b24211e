import Foundation
import PostgresNIO

extension PostgresStore {
    public func acquireLease(name: String, holder: String, ttl: Duration, isDead: @escaping @Sendable (String) -> Bool)
        async throws -> LeaseRecord?
    {
        let seconds = ttl.seconds
        return try await transaction { transaction in
            // The first holder ever: the row does not exist yet, and only one INSERT wins.
            let inserted = try await transaction.rows(
                """
                INSERT INTO lease (name, holder, epoch, acquired_at, expires_at)
                VALUES (\(name), \(holder), 1, now(), now() + make_interval(secs => \(seconds)))
                ON CONFLICT DO NOTHING RETURNING \(unescaped: Self.leaseColumns)
                """)
            if let row = inserted.first { return try Self.lease(row) }
            guard
                let current = try await transaction.rows(
                    "SELECT \(unescaped: Self.leaseColumns), expires_at <= now() AS expired FROM lease WHERE name = \(name) FOR UPDATE"
                ).first
            else { return nil }
            let lease = try Self.lease(current)
            let renewing = lease.holder == holder
            let expired = try current.value("expired", as: Bool.self)
            guard renewing || expired || isDead(lease.holder) else { return nil }
            let epoch = renewing ? lease.epoch : lease.epoch + 1
            let acquired = renewing ? "acquired_at" : "now()"
            return try await transaction.rows(
                """
                UPDATE lease SET holder = \(holder), epoch = \(epoch), acquired_at = \(unescaped: acquired),
                  expires_at = now() + make_interval(secs => \(seconds))
                WHERE name = \(name) RETURNING \(unescaped: Self.leaseColumns)
                """
            ).first.map(Self.lease)
        }
    }

    public func releaseLease(name: String, holder: String) async throws {
        // Expired at once: the epoch stays, so the next holder's is still one more.
        _ = try await rows("UPDATE lease SET expires_at = now() WHERE name = \(name) AND holder = \(holder)")
    }

    public func leases() async throws -> [LeaseRecord] {
        try await rows("SELECT \(unescaped: Self.leaseColumns) FROM lease ORDER BY name").map(Self.lease)
    }

    static let leaseColumns = "name, holder, epoch, acquired_at, expires_at"

    static func lease(_ row: PostgresRandomAccessRow) throws -> LeaseRecord {
        LeaseRecord(
            name: try row.value("name"), holder: try row.value("holder"), epoch: try row.value("epoch"),
            acquiredAt: try row.value("acquired_at"), expiresAt: try row.value("expires_at"))
    }
}
