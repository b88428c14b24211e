import Foundation
import GRDB

extension LeaseRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "lease"
}

extension SQLiteStore {
    public func acquireLease(name: String, holder: String, ttl: Duration, isDead: @escaping @Sendable (String) -> Bool)
        async throws -> LeaseRecord?
    {
        try await pool.write { db in
            let now = Date()
            let expires = now.addingTimeInterval(ttl.seconds)
            guard var lease = try LeaseRecord.fetchOne(db, key: name) else {
                let lease = LeaseRecord(name: name, holder: holder, epoch: 1, acquiredAt: now, expiresAt: expires)
                try lease.insert(db)
                return lease
            }
            if lease.holder == holder {
                lease.expiresAt = expires
            } else if lease.expiresAt <= now || isDead(lease.holder) {
                lease = LeaseRecord(
                    name: name, holder: holder, epoch: lease.epoch + 1, acquiredAt: now, expiresAt: expires)
            } else {
                return nil
            }
            try lease.update(db)
            return lease
        }
    }

    public func releaseLease(name: String, holder: String) async throws {
        try await pool.write { db in
            // Expired at once: the epoch stays, so the next holder's is still one more.
            try db.execute(
                sql: "UPDATE lease SET expiresAt = ? WHERE name = ? AND holder = ?",
                arguments: [Date(), name, holder])
        }
    }

    public func leases() async throws -> [LeaseRecord] {
        try await pool.read { db in try LeaseRecord.order(Column("name")).fetchAll(db) }
    }
}
