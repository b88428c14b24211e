import Foundation
import ParleyCore
import PostgresNIO

extension PostgresStore {
    /// `pg_advisory_xact_lock` key that serializes appends to the audit chain ("parley-a").
    static let auditLockKey: Int64 = 0x7061_726c_6579_2d61

    static let auditColumns = """
        seq, at, kind, actor, identity, room, command, arguments, decision, outcome, run_id, detail, previous_hash, hash
        """

    public func commitAudit(_ commits: [AuditCommit], at date: Date) async throws -> [AuditCommitResult] {
        guard !commits.isEmpty else { return [] }
        for commit in commits where commit.updatingRun.map({ $0.id == nil }) == true {
            throw StoreError.unknownRun(nil)
        }
        return try await transaction { transaction in
            // Every replica appends after the same head: the lock is held until this transaction
            // commits, so the next appender reads the head this one wrote (read committed reads anew
            // at every statement).
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.auditLockKey))")
            let head = try await transaction.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first
            var seq: Int64 = try head?.value("seq") ?? 0
            var previous: String = try head?.value("hash") ?? AuditEntry.genesisHash
            let at = AuditClock.format(date)
            var results: [AuditCommitResult] = []
            results.reserveCapacity(commits.count)
            for commit in commits {
                if let updating = commit.updatingRun {
                    // A run taken over by another process is not changed, nor told of, by this one.
                    do {
                        try await PostgresRuns.checkEpoch(of: updating, transaction)
                    } catch StoreError.runTakenOver(let id) {
                        results.append(.takenOver(id))
                        continue
                    }
                }
                if let key = commit.eventKey {
                    let fresh = try await transaction.rows(
                        """
                        INSERT INTO seen_event (key, seen_at) VALUES (\(StoredText.clean(key)), \(date)) \
                        ON CONFLICT DO NOTHING RETURNING key
                        """)
                    guard !fresh.isEmpty else {
                        results.append(.duplicate)
                        continue
                    }
                }
                let alerts = try await PostgresAlerts.record(commit.alerts, at: date, transaction)
                var run = commit.insertingRun
                if let inserting = run { run = try await PostgresRuns.insert(inserting, transaction) }
                if let key = commit.eventKey, commit.insertingRun != nil, let id = run?.id {
                    try await transaction.execute(
                        "UPDATE seen_event SET run_id = \(id) WHERE key = \(StoredText.clean(key))")
                }
                if let updating = commit.updatingRun {
                    try await PostgresRuns.update(updating, transaction)
                    if run == nil { run = updating }
                }
                var entries: [AuditEntry] = []
                entries.reserveCapacity(commit.drafts.count)
                for var draft in commit.drafts {
                    if draft.runID == nil, commit.insertingRun != nil { draft.runID = run?.id }
                    seq += 1
                    let entry = AuditEntry.make(draft, seq: seq, at: at, previousHash: previous)
                    try await transaction.execute(
                        """
                        INSERT INTO audit (seq, at, kind, actor, identity, room, command, arguments, decision, outcome, \
                        run_id, detail, previous_hash, hash) VALUES (\(entry.seq), \(entry.at), \(entry.kind), \
                        \(entry.actor), \(entry.identity), \(entry.room), \(entry.command), \(entry.arguments), \
                        \(entry.decision), \(entry.outcome), \(entry.runID), \(entry.detail), \(entry.previousHash), \
                        \(entry.hash))
                        """)
                    previous = entry.hash
                    entries.append(entry)
                }
                results.append(AuditCommitResult(entries: entries, run: run, alerts: alerts))
            }
            return results
        }
    }

    static func entry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        AuditEntry(
            seq: try row.value("seq"), at: try row.value("at"), kind: try row.value("kind"),
            actor: try row.value("actor"), identity: try row.value("identity"), room: try row.value("room"),
            command: try row.value("command"), arguments: try row.value("arguments"),
            decision: try row.value("decision"), outcome: try row.value("outcome"), runID: try row.value("run_id"),
            detail: try row.value("detail"), previousHash: try row.value("previous_hash"), hash: try row.value("hash"))
    }

    public func auditEntries(_ query: AuditQuery) async throws -> [AuditEntry] {
        var select = FilteredSelect("SELECT \(Self.auditColumns) FROM audit WHERE true")
        if let actor = query.actor { select.sql += " AND actor = \(select.bind(actor))" }
        if let command = query.command { select.sql += " AND command = \(select.bind(command))" }
        if let kind = query.kind { select.sql += " AND kind = \(select.bind(kind))" }
        if let runID = query.runID { select.sql += " AND run_id = \(select.bind(runID))" }
        if let since = query.since { select.sql += " AND at >= \(select.bind(AuditClock.format(since)))" }
        if let until = query.until { select.sql += " AND at < \(select.bind(AuditClock.format(until)))" }
        if let after = query.afterSeq { select.sql += " AND seq > \(select.bind(after))" }
        if let through = query.throughSeq { select.sql += " AND seq <= \(select.bind(through))" }
        select.sql += query.newestFirst ? " ORDER BY seq DESC" : " ORDER BY seq"
        select.sql += " LIMIT \(select.bind(max(0, query.limit)))"
        return try await rows(select.query).map(Self.entry)
    }

    /// Streams the chain oldest first, a row at a time (PostgresNIO reads ahead with back-pressure),
    /// so a log of any length verifies in constant memory.
    public func feedAuditChain(to verifier: AuditVerifier) async throws -> AuditVerifier {
        try await client.withConnection { connection in
            try await Self.requireTable("audit", connection, logger: logger)
            var verifier = verifier
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.auditColumns) FROM audit ORDER BY seq", logger: logger)
            for try await row in rows {
                guard verifier.feed(try Self.entry(row.makeRandomAccess())) else { break }
            }
            return verifier
        }
    }

    public func lastAuditEntry() async throws -> AuditEntry? {
        try await rows("SELECT \(unescaped: Self.auditColumns) FROM audit ORDER BY seq DESC LIMIT 1").first.map(
            Self.entry)
    }

    public func auditEntry(seq: Int64) async throws -> AuditEntry? {
        try await rows("SELECT \(unescaped: Self.auditColumns) FROM audit WHERE seq = \(seq)").first.map(Self.entry)
    }

    public func insertCheckpoint(_ checkpoint: AuditCheckpoint) async throws {
        try await transaction { transaction in
            try await transaction.execute(
                """
                INSERT INTO audit_checkpoint (seq, hash, at, signature, every, interval_seconds) \
                VALUES (\(checkpoint.seq), \(checkpoint.hash), \(checkpoint.at), \(checkpoint.signature), \
                \(checkpoint.every), \(checkpoint.intervalSeconds)) ON CONFLICT (seq) DO UPDATE SET \
                hash = excluded.hash, at = excluded.at, signature = excluded.signature, every = excluded.every, \
                interval_seconds = excluded.interval_seconds
                """)
        }
    }

    static func checkpoint(_ row: PostgresRandomAccessRow) throws -> AuditCheckpoint {
        var checkpoint = AuditCheckpoint(
            seq: try row.value("seq"), hash: try row.value("hash"), at: try row.value("at"),
            signature: try row.value("signature"))
        checkpoint.every = try row.value("every")
        checkpoint.intervalSeconds = try row.value("interval_seconds")
        return checkpoint
    }

    public func checkpoints() async throws -> [AuditCheckpoint] {
        try await client.withConnection { connection in
            try await Self.requireTable("audit_checkpoint", connection, logger: logger)
            return try await Self.rows(
                "SELECT seq, hash, at, signature, every, interval_seconds FROM audit_checkpoint ORDER BY seq",
                on: connection, logger: logger
            ).map(Self.checkpoint)
        }
    }

    public func lastCheckpoint() async throws -> AuditCheckpoint? {
        try await rows(
            "SELECT seq, hash, at, signature, every, interval_seconds FROM audit_checkpoint ORDER BY seq DESC LIMIT 1"
        ).first.map(Self.checkpoint)
    }

    /// A table of the audit log that someone dropped is reported as such, not as an SQL error.
    static func requireTable(_ name: String, _ connection: PostgresConnection, logger: Logger) async throws {
        let found = try await rows("SELECT to_regclass(\(name))::text AS name", on: connection, logger: logger)
        guard try found.first?.value("name", as: String?.self) != nil else { throw StoreError.missingTable(name) }
    }
}
