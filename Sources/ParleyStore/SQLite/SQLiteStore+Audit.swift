import Foundation
import GRDB
import ParleyCore

extension AuditEntry: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "audit"
}

extension AuditCheckpoint: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "auditCheckpoint"
}

extension SQLiteStore {
    public func appendAudit(_ drafts: [AuditDraft], at date: Date) async throws -> [AuditEntry] {
        try await appendAudit(drafts, at: date, updatingRuns: [])
    }

    public func appendAudit(_ drafts: [AuditDraft], at date: Date, updatingRuns runs: [RunRecord]) async throws
        -> [AuditEntry]
    {
        guard !drafts.isEmpty || !runs.isEmpty else { return [] }
        for run in runs where run.id == nil { throw StoreError.unknownRun(nil) }
        // Reading the head and appending in one write transaction keeps the chain linear even when
        // two processes share the database.
        return try await pool.write { db in
            for run in runs { try RunRow(run).update(db) }
            let last = try AuditEntry.order(Column("seq").desc).fetchOne(db)
            var seq = last?.seq ?? 0
            var previous = last?.hash ?? AuditEntry.genesisHash
            var entries: [AuditEntry] = []
            for draft in drafts {
                seq += 1
                let entry = AuditEntry.make(draft, seq: seq, at: date, previousHash: previous)
                try entry.insert(db)
                previous = entry.hash
                entries.append(entry)
            }
            return entries
        }
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        try await pool.read { db in
            var request = AuditEntry.all()
            if let actor = query.actor { request = request.filter(Column("actor") == actor) }
            if let command = query.command { request = request.filter(Column("command") == command) }
            if let kind = query.kind { request = request.filter(Column("kind") == kind) }
            if let since = query.since { request = request.filter(Column("at") >= AuditClock.format(since)) }
            if let until = query.until { request = request.filter(Column("at") < AuditClock.format(until)) }
            if let after = query.afterSeq { request = request.filter(Column("seq") > after) }
            request = request.order(query.newestFirst ? Column("seq").desc : Column("seq").asc)
            return try request.limit(max(0, query.limit)).fetchAll(db)
        }
    }

    public func lastAuditEntry() async throws -> AuditEntry? {
        try await pool.read { db in try AuditEntry.order(Column("seq").desc).fetchOne(db) }
    }

    public func insertCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try await pool.write { db in try checkpoint.save(db) }
    }

    public func checkpoints() async throws -> [AuditCheckpoint] {
        try await pool.read { db in try AuditCheckpoint.order(Column("seq")).fetchAll(db) }
    }
}
