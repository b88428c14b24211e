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
        // Replicas writing the same rows in another order can deadlock now that those writes come
        // before the chain's lock; PostgreSQL then rolls one transaction back whole, and it is tried again.
        var attempt = 1
        while true {
            do {
                return try await transaction { transaction in
                    try await Self.commitAudit(commits, at: date, transaction)
                }
            } catch let error where attempt < 5 && Self.isDeadlock(error) {
                // A moment apart, so that the two do not take their rows in step again.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...50)))
            }
        }
    }

    /// True for PostgreSQL's `deadlock_detected` (40P01), also when wrapped in a transaction error.
    static func isDeadlock(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return [error.closureError, error.beginError, error.commitError].contains { $0.map(isDeadlock) ?? false }
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState] == "40P01"
    }

    /// A commit's rows other than its audit entries, written; its drafts wait for the chain.
    private struct Prepared {
        var run: RunRecord?
        var alerts: [AlertRecord]
        var drafts: [AuditDraft]
    }

    /// What became of a commit before the chain: settled already (a duplicate, a run taken over), or
    /// waiting to append its entries.
    private enum Step {
        case settled(AuditCommitResult)
        case appending(Prepared)

        var drafts: Int {
            if case .appending(let prepared) = self { return prepared.drafts.count }
            return 0
        }
    }

    private static func commitAudit(_ commits: [AuditCommit], at date: Date, _ transaction: Transaction)
        async throws -> [AuditCommitResult]
    {
        // First what does not touch the chain — fencing, dedupe, alerts, runs — before its lock, so
        // that the lock, which every replica's appends wait on until this commit is on disk, is held
        // for the entries alone.
        // The batch's event keys first, in one statement and in sorted order: two replicas holding the
        // same burst in other orders then take its keys in the same order, and never wait on each other
        // in a circle over them.
        // (A commit that also changes a run records its key only once its epoch is checked, below.)
        let keys = Array(
            Set(commits.filter { $0.updatingRun == nil }.compactMap { $0.eventKey.map(StoredText.clean) })
        ).sorted()
        var fresh = Set<String>()
        if !keys.isEmpty {
            fresh = Set(
                try await transaction.rows(
                    """
                    INSERT INTO seen_event (key, seen_at) SELECT key, \(date) FROM unnest(\(keys)::text[]) AS key \
                    ORDER BY key ON CONFLICT DO NOTHING RETURNING key
                    """
                ).map { try $0.value("key", as: String.self) })
        }
        var prepared: [Step] = []
        prepared.reserveCapacity(commits.count)
        for commit in commits {
            if let updating = commit.updatingRun {
                // A run taken over by another process is not changed, nor told of, by this one.
                do {
                    try await PostgresRuns.checkEpoch(of: updating, transaction)
                } catch StoreError.runTakenOver(let id) {
                    prepared.append(.settled(.takenOver(id)))
                    continue
                }
            }
            // New once: the first commit of the batch with a key this batch saw first; later ones, and
            // keys seen before, are duplicates.
            if let key = commit.eventKey.map(StoredText.clean) {
                let new =
                    commit.updatingRun == nil
                    ? fresh.remove(key) != nil
                    : try await !transaction.rows(
                        """
                        INSERT INTO seen_event (key, seen_at) VALUES (\(key), \(date)) \
                        ON CONFLICT DO NOTHING RETURNING key
                        """
                    ).isEmpty
                guard new else {
                    prepared.append(.settled(.duplicate))
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
            let drafts = commit.drafts.map { draft -> AuditDraft in
                var draft = draft
                if draft.runID == nil, commit.insertingRun != nil { draft.runID = run?.id }
                return draft
            }
            prepared.append(.appending(Prepared(run: run, alerts: alerts, drafts: drafts)))
        }
        let count = prepared.reduce(0) { $0 + $1.drafts }
        var entries: [AuditEntry] = []
        if count > 0 {
            // Every replica appends after the same head: the lock is held until this transaction
            // commits, so the next appender reads the head this one wrote (read committed reads anew
            // at every statement).
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Self.auditLockKey))")
            let head = try await transaction.rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").first
            var seq: Int64 = try head?.value("seq") ?? 0
            var previous: String = try head?.value("hash") ?? AuditEntry.genesisHash
            let at = AuditClock.format(date)
            entries.reserveCapacity(count)
            for case .appending(let commit) in prepared {
                for draft in commit.drafts {
                    seq += 1
                    let entry = AuditEntry.make(draft, seq: seq, at: at, previousHash: previous)
                    previous = entry.hash
                    entries.append(entry)
                }
            }
            // Many rows a statement (14 parameters each, well under PostgreSQL's 65,535).
            for start in stride(from: 0, to: entries.count, by: 500) {
                try await transaction.execute(insertion(entries[start..<min(start + 500, entries.count)]))
            }
        }
        var results: [AuditCommitResult] = []
        results.reserveCapacity(commits.count)
        var next = 0
        for item in prepared {
            switch item {
            case .settled(let result): results.append(result)
            case .appending(let commit):
                results.append(
                    AuditCommitResult(
                        entries: Array(entries[next..<next + commit.drafts.count]), run: commit.run,
                        alerts: commit.alerts))
                next += commit.drafts.count
            }
        }
        return results
    }

    /// One INSERT of these entries, every value bound as a parameter.
    static func insertion(_ entries: ArraySlice<AuditEntry>) -> PostgresQuery {
        var query = FilteredSelect("INSERT INTO audit (\(auditColumns)) VALUES ")
        var rows: [String] = []
        rows.reserveCapacity(entries.count)
        for entry in entries {
            let values = [
                query.bind(entry.seq), query.bind(entry.at), query.bind(entry.kind), query.bind(entry.actor),
                query.bind(entry.identity), query.bind(entry.room), query.bind(entry.command),
                query.bind(entry.arguments), query.bind(entry.decision), query.bind(entry.outcome),
                query.bind(optional: entry.runID), query.bind(entry.detail), query.bind(entry.previousHash),
                query.bind(entry.hash),
            ]
            rows.append("(" + values.joined(separator: ", ") + ")")
        }
        query.sql += rows.joined(separator: ", ")
        return query.query
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
        if let room = query.room { select.sql += " AND room = \(select.bind(room))" }
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
